"""A search directory's state files, checked before KerasTuner reloads them.

KerasTuner reloads ``oracle.json``, ``tuner0.json`` and every ``trial_*/trial.json``
of a project directory when a search resumes; a file that is empty, truncated
(a disk that filled up, a copy cut short) or deleted then comes out as a bare
JSON error ("Expecting property name ... line 6 column 29") or a TensorFlow
``NotFoundError`` traceback. :func:`check` reads them first and names the file,
what is wrong with it and what to do.
"""

from __future__ import annotations

from pathlib import Path

from zoo import files

CONFIG_JSON = "search_config.json"
#: Keys KerasTuner needs in each file when it reloads it.
REQUIRED = {"oracle.json": ("ongoing_trials", "hyperparameters", "end_order", "id_to_hash"),
            "trial.json": ("trial_id", "hyperparameters", "status")}


def _fix(project: Path) -> str:
    return (f"start the search anew with --overwrite (overwrite=True; the trials of {project} are lost), "
            "restore the file from a copy, or use another --dir/--project")


def _read(path: Path, project: Path, required=()) -> dict:
    return files.read_json_object(path, argument="directory", required=required, what="tuning state file",
                                  advice=_fix(project))


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
    oracle = _read(oracle_path, project, REQUIRED["oracle.json"])
    for trial_file in sorted(project.glob("trial_*/trial.json")):
        _read(trial_file, project, REQUIRED["trial.json"])
    ids = set(oracle.get("end_order") or []) | set(oracle.get("start_order") or []) | set(oracle.get("id_to_hash") or {})
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
