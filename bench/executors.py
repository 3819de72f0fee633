"""Local workers, Dask and Ray on the same generated tests: wall time (start-up included),
pairs/s, and whether the rows agree.  The measurement behind choosing Dask (docs/scale.md).

    python bench/executors.py -n 2000            # local and dask-local
    python bench/executors.py -n 2000 --ray      # and Ray, if it is installed (not a dependency)

local and dask-local run `verifier batch DIR -j 2 -q --json FILE`, as a user does.  Ray has
no executor in the verifier (that is what this measures); here it runs the batch's own
per-pair function, `runner.run.run_task`, as Ray tasks on a 2-CPU local Ray, with the same
bounded number of tasks in flight as the Dask executor keeps: one pair per Ray task, and
16 (`ray x16`; the Dask executor sizes its chunks to a quarter of a second).  Start-up
(a LocalCluster, `ray.init`) is in the wall time, as a user waits for it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from batch_scale import generate  # noqa: E402

from verifier.runner.discover import discover  # noqa: E402
from verifier.runner.run import Task  # noqa: E402

Rows = dict[tuple[str, str], tuple[Any, ...]]


def _rows(path: Path) -> Rows:
    out: Rows = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        out[(r["file"], r["model"])] = (r.get("observation"), r.get("outcome"))
    return out


def via_cli(folder: Path, model: str, executor: str) -> tuple[float, Rows]:
    rows = folder.parent / f"{executor}.jsonl"
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "verifier", "batch", str(folder), "--model", model, "-j", "2", "-q",
                    "--json", str(rows), "--executor", executor], cwd=ROOT, check=False, capture_output=True)
    return time.monotonic() - start, _rows(rows)


def via_ray(folder: Path, model: str, chunk: int) -> tuple[float, Rows]:
    import ray

    from verifier.runner.run import run_task

    def run_chunk(tasks: list[Task]) -> list[Any]:
        return [run_task(t) for t in tasks]

    start = time.monotonic()
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    remote = ray.remote(num_cpus=1)(run_chunk)
    tasks = iter(Task(f, model, model, None, False, 60.0, 2048) for f in discover([str(folder)]))
    in_flight: list[Any] = []
    out: Rows = {}
    while True:
        while len(in_flight) < 8 and (group := list(itertools.islice(tasks, chunk))):
            in_flight.append(remote.remote(group))
        if not in_flight:
            break
        ready, in_flight = ray.wait(in_flight, num_returns=1)
        for rows in ray.get(ready):
            for r in rows:
                out[(r["file"], r["model"])] = (r.get("observation"), r.get("outcome"))
    ray.shutdown()
    return time.monotonic() - start, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--model", default="lkmm")
    ap.add_argument("--ray", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "tests"
        folder.mkdir()
        rng = random.Random(args.n)
        for i in range(args.n):
            (folder / f"gen{i:06d}.litmus").write_text(generate(i, rng))
        results = {"local": via_cli(folder, args.model, "local"),
                   "dask-local": via_cli(folder, args.model, "dask-local")}
        if args.ray:
            results["ray"] = via_ray(folder, args.model, 1)
            results["ray x16"] = via_ray(folder, args.model, 16)
    base = results["local"][1]
    print(f"{'executor':<11} {'pairs':>6} {'wall s':>7} {'pairs/s':>8} {'vs local':>9}  rows")
    for name, (wall, rows) in results.items():
        same = "same" if rows == base else f"DIFFER ({sum(rows.get(k) != v for k, v in base.items())})"
        print(f"{name:<11} {len(rows):>6} {wall:>7.1f} {len(rows) / wall:>8.1f} "
              f"{results['local'][0] / wall:>8.2f}x  {same}", flush=True)


if __name__ == "__main__":
    main()
