"""Peak memory of ``python -m zoo predict --data FILE.csv``: flat in the file's size.

``predict`` reads a CSV a chunk at a time (:data:`zoo.serving.CSV_CHUNK_VALUES` values,
8 MB as float64), prepares it, predicts it and prints its lines before it reads the
next, so its peak resident memory is that of the model plus one chunk, whatever
the length of the file. The anchor, measured in the same run, is exactly that: the
same command on a CSV of one chunk. The target is a peak under 2x the anchor for
every size (the issue measured 8.9 GB, 44x the file, for 200 MB before streaming).

Each command runs in a fresh interpreter; its peak RSS is the kernel's ``ru_maxrss``
for that child (``os.wait4``). A tiny iris run (dense_classifier) is trained first
unless ``--run`` names one; the CSVs are iris-like rows of four raw measurements.

Usage::

    python bench/predict_memory.py                   # 20 MB and 200 MB (a few minutes)
    python bench/predict_memory.py --sizes-mb 5 20   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import _harness  # noqa: E402

#: A CSV's peak over the anchor's (the model plus one chunk) must stay under this.
TARGET_RATIO = 2.0


def write_csv(path: Path, megabytes: float, seed: int = 0) -> int:
    """Iris-like rows (four measurements in cm, a header first) until the file holds ``megabytes`` MB; the row count."""
    import numpy as np

    rng, rows = np.random.default_rng(seed), 0
    with open(path, "w") as f:
        f.write("sepal length,sepal width,petal length,petal width\n")
        while f.tell() < megabytes * 1e6:
            block = rng.uniform([4.3, 2.0, 1.0, 0.1], [7.9, 4.4, 6.9, 2.5], size=(100_000, 4)).round(1)
            f.write("\n".join(",".join(f"{v:g}" for v in row) for row in block) + "\n")
            rows += len(block)
    return rows


def peak_rss_mb(command: list) -> tuple[float, float]:
    """Run ``command`` (stdout discarded); its peak resident memory in MB and its seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed ({proc.returncode}):\n{err[-2000:]}")
    return usage.ru_maxrss / 1024, seconds  # ru_maxrss is in KB on Linux


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes-mb", type=float, nargs="+", default=[20, 200])
    parser.add_argument("--run", help="a dense_classifier iris run to predict with (default: train a tiny one)")
    args = parser.parse_args(argv)
    from zoo import serving

    with tempfile.TemporaryDirectory(prefix="predict-memory-") as tmp:
        tmp = Path(tmp)
        run = Path(args.run) if args.run else tmp / "iris"
        if not args.run:
            _harness.run_json([sys.executable, "-c", "import json; from zoo import training; print(json.dumps("
                               f"training.train('dense_classifier', out={str(run)!r}, epochs=1, verbose=0)))"],
                              "training the iris run")
        one_chunk_rows = serving.CSV_CHUNK_VALUES // 4
        anchor_csv = tmp / "one_chunk.csv"
        cases = [("anchor: one chunk", anchor_csv, None)]
        cases += [(f"{mb:g} MB", tmp / f"{mb:g}mb.csv", mb) for mb in args.sizes_mb]
        rows_of = {}
        for label, path, mb in cases:
            if mb is None:
                with open(path, "w") as f:
                    f.write("".join("5.1,3.5,1.4,0.2\n" for _ in range(one_chunk_rows)))
                rows_of[label] = one_chunk_rows
            else:
                rows_of[label] = write_csv(path, mb)
        table = []
        for label, path, _ in cases:
            peak, seconds = peak_rss_mb([sys.executable, "-m", "zoo", "predict", str(run), "--data", str(path),
                                         "--top", "1"])
            table.append({"case": label, "file_mb": round(path.stat().st_size / 1e6, 1), "rows": rows_of[label],
                          "peak_rss_mb": round(peak, 1), "seconds": round(seconds, 1)})
            print(f"{label}: {table[-1]}", file=sys.stderr, flush=True)
    anchor = table[0]["peak_rss_mb"]
    print(f"\n| case | file MB | rows | peak RSS MB | / anchor | target | met | seconds |\n"
          f"|---|---:|---:|---:|---:|---:|:-:|---:|")
    for row in table:
        row["ratio"] = round(row["peak_rss_mb"] / anchor, 2)
        met = "yes" if row["ratio"] < TARGET_RATIO else "no"
        print(f"| {row['case']} | {row['file_mb']} | {row['rows']:,} | {row['peak_rss_mb']:.0f} | {row['ratio']:.2f} | "
              f"< {TARGET_RATIO:g} | {met} | {row['seconds']} |")
    out = _harness.RESULTS / "predict_memory.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": _harness.machine(), "target_ratio": TARGET_RATIO, "rows": table}, indent=2))
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0 if all(r["ratio"] < TARGET_RATIO for r in table) else 1


if __name__ == "__main__":
    sys.exit(main())
