"""A search directory's state files, checked before KerasTuner reloads them.

KerasTuner reloads ``oracle.json``, ``tuner0.json`` and every ``trial_*/trial.json``
of a project directory when a search resumes; a file that is empty, truncated
(a disk that filled up, a copy cut short) or deleted then comes out as a bare
JSON error ("Expecting property name ... line 6 column 29") or a TensorFlow
``NotFoundError`` traceback. :func:`check` reads them first and names the file,
what is wrong with it and what to do.
"""

from __future__ import annotations

import json
from pathlib import Path

from zoo import files

CONFIG_JSON = "search_config.json"


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _ids(v) -> bool:
    return isinstance(v, list) and all(isinstance(t, str) for t in v)


_OBJECT = (lambda v: isinstance(v, dict), "a JSON object")
_IDS = (_ids, "a list of trial ids (strings)")
#: Trial states KerasTuner writes (keras_tuner TrialStatus).
STATUSES = ("RUNNING", "IDLE", "INVALID", "STOPPED", "COMPLETED", "FAILED")
#: Every key KerasTuner reads from each file when it reloads it (a missing one is a KeyError deep in
#: KerasTuner, a wrong type a TypeError there or a search that goes wrong), with what it must hold.
SCHEMA = {
    "oracle.json": {
        "ongoing_trials": (lambda v: isinstance(v, dict) and all(isinstance(t, str) for t in v.values()),
                           "a JSON object of tuner id -> trial id"),
        "hyperparameters": _OBJECT, "start_order": _IDS, "end_order": _IDS, "retry_queue": _IDS,
        "run_times": (lambda v: isinstance(v, dict) and all(_is_int(n) for n in v.values()),
                      "a JSON object of trial id -> number of runs"),
        "seed": (lambda v: v is None or _is_int(v), "an integer"),
        "seed_state": (_is_int, "an integer"),
        "tried_so_far": (lambda v: isinstance(v, list) and all(isinstance(h, str) for h in v),
                         "a list of configuration hashes (strings)"),
        "id_to_hash": _OBJECT, "display": _OBJECT,
    },
    "trial.json": {
        "trial_id": (lambda v: isinstance(v, str), "a string"),
        "hyperparameters": _OBJECT, "metrics": _OBJECT,
        "score": (lambda v: v is None or _is_number(v), "a number or null"),
        "best_step": (lambda v: v is None or _is_number(v), "a number or null"),
        "status": (lambda v: v in STATUSES, "one of " + ", ".join(STATUSES)),
    },
}


def _fix(project: Path) -> str:
    return (f"start the search anew with --overwrite (overwrite=True; the trials of {project} are lost), "
            "restore the file from a copy, or use another --dir/--project")


def _read(path: Path, project: Path, schema=None) -> dict:
    state = files.read_json_object(path, argument="directory", required=tuple(schema or ()), what="tuning state file",
                                   advice=_fix(project))
    for key, (valid, what) in (schema or {}).items():
        if not valid(state[key]):
            shown = json.dumps(state[key])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise ValueError(f"directory: {path}: {key!r} must be {what}, got {shown} (a damaged tuning state "
                             f"file); {_fix(project)}")
    return state


def check(project_dir, *, check_config: bool = True) -> None:
    """Raise a one-line error naming a damaged or missing state file of ``project_dir``, if any.

    Nothing is checked where no search was started (no tuner file). ``check_config``:
    also require ``search_config.json`` (a distributed worker may not share the directory).

    Raises:
        ValueError: the file, what is wrong, and what to do.
    """
    project = Path(project_dir)
    tuner_files = sorted(project.glob("tuner*.json"))
    if not tuner_files:
        return  # KerasTuner starts a new search here
    for path in tuner_files:
        _read(path, project)
    oracle_path = project / "oracle.json"
    if not oracle_path.is_file():
        raise ValueError(f"directory: {oracle_path} is missing (the search's state: which trials ran); {_fix(project)}")
    oracle = _read(oracle_path, project, SCHEMA["oracle.json"])
    for trial_file in sorted(project.glob("trial_*/trial.json")):
        _read(trial_file, project, SCHEMA["trial.json"])
    ids = (set(oracle["end_order"]) | set(oracle["start_order"]) | set(oracle["id_to_hash"]) | set(oracle["retry_queue"])
           | set(oracle["ongoing_trials"].values()))
    for trial_id in sorted(map(str, ids)):
        path = project / f"trial_{trial_id}" / "trial.json"
        if not path.is_file():
            raise ValueError(f"directory: {path} is missing ({oracle_path.name} records trial {trial_id}); "
                             f"{_fix(project)}")
    if check_config and not (project / CONFIG_JSON).is_file():
        raise ValueError(f"directory: {project / CONFIG_JSON} is missing (the settings a resumed search is checked "
                         f"against); {_fix(project)}")
    if check_config:
        _read(project / CONFIG_JSON, project)
