"""The results of a search, read from KerasTuner's own state: rows, a table, files and a plot.

Everything here is derived from the oracle's trials (``trial_*/trial.json``), so
``results.csv`` and ``results.json`` always agree with KerasTuner's state; they
are rewritten (atomically) after every trial.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from zoo import files

from .options import PRUNED_METRIC

PRUNED = "PRUNED"  # the status a results row shows for a pruned trial (KerasTuner records it as STOPPED)

RESULTS_CSV = "results.csv"
RESULTS_JSON = "results.json"
BEST_JSON = "best_hyperparameters.json"
SCORES_PNG = "scores.png"


def trial_rows(oracle) -> list[dict]:
    """One dict per trial, in the order the trials started, each with its rank (1 = best).

    Keys: ``rank``, ``trial_id``, ``status`` (KerasTuner's, or ``PRUNED``), ``score``
    (k-fold mean of the objective; for a pruned trial, over the folds it ran), ``std``,
    ``folds`` (the objective on each fold run), ``metrics`` (mean of every metric),
    ``seconds`` (training time), ``hyperparameters``, ``attempts`` (who ran it and
    how each attempt ended) and ``message`` (why it failed, if it did).
    """
    objective = oracle.objective.name
    fold_key = re.compile(re.escape(objective) + r"_fold(\d+)$")
    rows = []
    ids = list(dict.fromkeys([*oracle.start_order, *oracle.trials]))  # start order, then any stragglers
    for trial_id in ids:
        trial = oracle.trials[trial_id]
        values = {name: trial.metrics.get_last_value(name) for name in trial.metrics.metrics}
        folds = sorted(((int(m.group(1)), v) for k, v in values.items() if (m := fold_key.match(k))))
        metrics = {k: _num(v) for k, v in values.items()
                   if not fold_key.match(k) and not k.endswith("_std") and k not in ("seconds", PRUNED_METRIC)}
        score = values.get(objective)
        rows.append({
            "rank": None,
            "trial_id": trial_id,
            "status": PRUNED if values.get(PRUNED_METRIC) else str(trial.status),
            "score": _num(score),
            "std": _num(values.get(f"{objective}_std")),
            "folds": [_num(v) for _, v in folds],
            "metrics": metrics,
            "seconds": _num(values.get("seconds")),
            "hyperparameters": dict(trial.hyperparameters.values),
            "attempts": list(getattr(oracle, "attempts", {}).get(trial_id, [])),
            "message": _last_line(trial.message),
        })
    ranked = best_first(rows, oracle.objective.direction)
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    return rows


def best_first(rows: list[dict], direction: str) -> list[dict]:
    """Completed trials best first (ties: the earlier trial), then the others."""
    done = [r for r in rows if r["status"] == "COMPLETED" and r["score"] is not None]
    sign = -1 if direction == "max" else 1
    done.sort(key=lambda r: sign * r["score"])  # stable: ties keep the start order
    return done + [r for r in rows if r not in done]


def format_table(rows: list[dict], objective: str, direction: str, *, limit: int | None = None) -> str:
    """A plain-text table of the trials, best first."""
    ranked = best_first(rows, direction)[:limit]
    hp_names = list(dict.fromkeys(k for r in rows for k in r["hyperparameters"]))  # in the space's order
    head = ["rank", "trial", f"{objective} mean", "std", "folds", "status", *hp_names]
    body = []
    for r in ranked:
        folds = " ".join(_short(v) for v in r["folds"])
        body.append([str(r["rank"]), r["trial_id"], _short(r["score"]), _short(r["std"]), folds,
                     r["status"].lower(), *(_short(r["hyperparameters"].get(k, "-")) for k in hp_names)])
    widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, body)])


def write_results(oracle, directory, *, plot: bool = False) -> dict:
    """Write ``results.csv``, ``results.json``, ``best_hyperparameters.json`` (and ``scores.png``).

    Returns:
        The JSON document written to ``results.json``.
    """
    directory = Path(directory)
    objective, direction = oracle.objective.name, oracle.objective.direction
    rows = trial_rows(oracle)
    ranked = best_first(rows, direction)
    best = ranked[0] if ranked and ranked[0]["status"] == "COMPLETED" else None
    doc = {
        "algorithm": getattr(oracle, "algorithm", None),
        "objective": objective,
        "direction": direction,
        "max_trials": oracle.max_trials,
        "trials_completed": sum(r["status"] == "COMPLETED" for r in rows),
        "trials_pruned": sum(r["status"] == PRUNED for r in rows),
        "fold_fits": sum(len(r["folds"]) for r in rows),  # folds trained (of the attempts recorded)
        # Why the last run stopped before the search was over ({"reason": "max_time", ...}), else None.
        "stopped": getattr(oracle, "stop", None),
        "best_trial": best["trial_id"] if best else None,
        "best_score": best["score"] if best else None,
        "best_hyperparameters": best["hyperparameters"] if best else None,
        "trials": rows,
    }
    k = max((len(r["folds"]) for r in rows), default=0)
    hp_names = list(dict.fromkeys(n for r in rows for n in r["hyperparameters"]))
    metric_names = list(dict.fromkeys(n for r in rows for n in r["metrics"] if n != objective))
    csv_rows = [{
        "rank": r["rank"], "trial_id": r["trial_id"], "status": r["status"],
        f"{objective}_mean": r["score"], f"{objective}_std": r["std"],
        **{f"{objective}_fold{i + 1}": (r["folds"][i] if i < len(r["folds"]) else None) for i in range(k)},
        "seconds": r["seconds"], "attempts": len(r["attempts"]),
        **{n: r["metrics"].get(n) for n in metric_names},
        **{f"hp_{n}": r["hyperparameters"].get(n) for n in hp_names},
    } for r in rows]
    files.write_csv(directory / RESULTS_CSV, csv_rows) if csv_rows else files.write_text(directory / RESULTS_CSV, "")
    files.write_json(directory / RESULTS_JSON, doc)
    if best:
        files.write_json(directory / BEST_JSON, {"trial_id": best["trial_id"], "score": best["score"],
                                               "std": best["std"], "hyperparameters": best["hyperparameters"]})
    if plot and rows:
        try:  # a view of the results: the search's state and the tables above are what must not be lost
            plot_scores(rows, directory / SCORES_PNG, objective=objective, direction=direction, algorithm=doc["algorithm"])
        except Exception as exc:  # noqa: BLE001
            import sys

            print(f"warning: {SCORES_PNG} not written ({type(exc).__name__}: {exc})", file=sys.stderr)
    return doc


def plot_scores(rows: list[dict], path, *, objective: str, direction: str, algorithm: str | None = None):
    """The score of each trial in the order run: k-fold mean with its std, each fold, the best so far, pruned trials."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    done = [(i, r) for i, r in enumerate(rows) if r["status"] == "COMPLETED" and r["score"] is not None]
    pruned = [(i, r) for i, r in enumerate(rows) if r["status"] == PRUNED]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for n, (i, r) in enumerate(pruned):
        ax.scatter([i] * len(r["folds"]), r["folds"], s=18, marker="x", color="C1", zorder=1,
                   label="pruned: folds run" if n == 0 else None)
    if done:
        xs = [i for i, _ in done]
        for i, r in done:
            ax.scatter([i] * len(r["folds"]), r["folds"], s=10, color="0.6", zorder=1,
                       label="fold" if i == xs[0] else None)
        ax.errorbar(xs, [r["score"] for _, r in done], yerr=[r["std"] or 0 for _, r in done], fmt="o",
                    capsize=3, zorder=2, label="k-fold mean ± std")
        best, running = [], None
        for _, r in done:
            better = running is None or (r["score"] > running if direction == "max" else r["score"] < running)
            running = r["score"] if better else running
            best.append(running)
        ax.step(xs, best, where="post", color="C3", label="best so far")
        top = max(done, key=lambda p: p[1]["score"] if direction == "max" else -p[1]["score"])
        ax.annotate(f"best: trial {top[1]['trial_id']}", (top[0], top[1]["score"]), textcoords="offset points",
                    xytext=(5, 8), fontsize=8)
    failed = [i for i, r in enumerate(rows) if (i, r) not in done and (i, r) not in pruned]
    for i in failed:
        ax.axvline(i, color="0.85", lw=4, zorder=0)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set(xlabel="trial (in the order started; grey band: failed or unfinished)", ylabel=objective,
           title=f"{(algorithm or 'random').capitalize()} search: {objective} of each trial")
    ax.grid(alpha=0.3)
    if done or pruned:
        ax.legend(fontsize=8)
    return files.save_figure(fig, path, dpi=110)


def _num(value):
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _last_line(message):
    if not message:
        return None
    lines = [line for line in str(message).strip().splitlines() if line.strip()]
    return lines[-1] if lines else None
