"""Corpus scale: N generated tests on 2 local workers; wall time, pairs/s and peak memory.

    python bench/batch_scale.py                  # N = 1,000 and 10,000
    python bench/batch_scale.py -n 1000 10000 100000 --model lkmm,x86-tso

The tests are written here (our own generator, not a corpus): the classic shapes (SB, MP, LB,
S, R, 2+2W with 2 threads, WRC and ISA2 with 3, IRIW with 4) in kernel C, each access and
barrier drawn from the kernel's menu (READ_ONCE/WRITE_ONCE, acquire/release, smp_mb,
smp_rmb, smp_wmb, xchg), written values varied so that no two tests are the same file.
Each (test, model) pair runs through the batch's own worker pool (`runner.pool`, the
function `batch` uses), so the numbers are the batch's: the parent's peak RSS (it keeps a
`Tally`, not the rows) and each worker's resident memory after every job (workers are
replaced past `RECYCLE_MB`, which is what keeps them flat).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from verifier.analyses.registry import resolve_model  # noqa: E402
from verifier.runner.discover import discover  # noqa: E402
from verifier.runner.pool import Limits, run_pool  # noqa: E402
from verifier.runner.run import RECYCLE_MB, Task, _row_of, run_task  # noqa: E402
from verifier.runner.tally import Tally  # noqa: E402

# Each shape: threads as lists of (kind, location) steps; kinds: "w" write, "r" read, "f" barrier slot.
SHAPES: dict[str, list[list[tuple[str, str]]]] = {
    "SB": [[("w", "x"), ("f", ""), ("r", "y")], [("w", "y"), ("f", ""), ("r", "x")]],
    "MP": [[("w", "x"), ("f", ""), ("w", "y")], [("r", "y"), ("f", ""), ("r", "x")]],
    "LB": [[("r", "x"), ("f", ""), ("w", "y")], [("r", "y"), ("f", ""), ("w", "x")]],
    "S": [[("w", "x"), ("f", ""), ("w", "y")], [("r", "y"), ("f", ""), ("w", "x")]],
    "R": [[("w", "x"), ("f", ""), ("w", "y")], [("w", "y"), ("f", ""), ("r", "x")]],
    "2+2W": [[("w", "x"), ("f", ""), ("w", "y")], [("w", "y"), ("f", ""), ("w", "x")]],
    "WRC": [[("w", "x")], [("r", "x"), ("f", ""), ("w", "y")], [("r", "y"), ("f", ""), ("r", "x")]],
    "ISA2": [[("w", "x"), ("f", ""), ("w", "y")], [("r", "y"), ("f", ""), ("w", "z")],
             [("r", "z"), ("f", ""), ("r", "x")]],
    "IRIW": [[("w", "x")], [("r", "x"), ("f", ""), ("r", "y")], [("w", "y")], [("r", "y"), ("f", ""), ("r", "x")]],
}
READS = ["READ_ONCE(*{l})", "smp_load_acquire({l})"]
WRITES = ["WRITE_ONCE(*{l}, {v});", "smp_store_release({l}, {v});", "r9 = xchg({l}, {v});"]
FENCES = ["", "", "smp_mb();", "smp_rmb();", "smp_wmb();"]


def generate(i: int, rng: random.Random) -> str:
    shape = rng.choice(sorted(SHAPES))
    threads = SHAPES[shape]
    locs = sorted({loc for t in threads for k, loc in t if loc})
    value = 1 + i % 7
    body, conds = [], []
    for tid, steps in enumerate(threads):
        lines, n = [], 0
        for kind, loc in steps:
            if kind == "w":
                lines.append(rng.choice(WRITES).format(l=loc, v=value))
            elif kind == "r":
                lines.append(f"r{n} = " + rng.choice(READS).format(l=loc) + ";")
                conds.append(f"{tid}:r{n}={rng.choice((0, value))}")
                n += 1
            elif rng.random() < 0.6:
                lines.append(rng.choice(FENCES))
        params = ", ".join(f"int *{loc}" for loc in locs)
        decl = "int r0; int r1; int r9;"
        body.append(f"P{tid}({params})\n{{\n\t{decl}\n" + "".join(f"\t{ln}\n" for ln in lines if ln) + "}\n")
    cond = " /\\ ".join(conds) or "x=0"
    return f"C gen{i}-{shape}\n\n{{}}\n\n" + "\n".join(body) + f"\nexists ({cond})\n"


def run(n: int, models: list[str], workers: int, folder: Path) -> dict[str, float]:
    rng = random.Random(n)
    for i in range(n):
        (folder / f"gen{i:06d}.litmus").write_text(generate(i, rng))
    found = discover([str(folder)])
    specs = [(m, resolve_model(m)) for m in models]
    tasks = (Task(f, given, spec.name, None, False, 60.0, 2048) for f in found.files for given, spec in specs)
    tally, peak_worker = Tally(), 0.0
    start = time.monotonic()
    samples: list[float] = []
    for end in run_pool(tasks, run_task, workers=workers, limits=Limits(60.0, 15.0, 2048, RECYCLE_MB)):
        tally.add(_row_of(end))
        peak_worker = max(peak_worker, end.rss_mb)
        samples.append(end.rss_mb)
    wall = time.monotonic() - start
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB -> MB on Linux
    last = samples[-len(samples) // 10:] if samples else [0.0]
    return {"n": n, "pairs": tally.total, "wall": wall, "rate": tally.total / wall, "parent_mb": parent,
            "worker_peak_mb": peak_worker, "worker_late_mb": max(last),
            "errors": tally.counts["error"] + tally.counts["unsupported"] + tally.counts["unknown"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--model", default="lkmm")
    ap.add_argument("-j", type=int, default=2)
    args = ap.parse_args()
    print(f"{'N':>7} {'pairs':>7} {'wall s':>8} {'pairs/s':>8} {'parent MB':>10} {'worker peak MB':>15} "
          f"{'late MB':>8} {'problems':>8}")
    for n in args.n:
        with tempfile.TemporaryDirectory() as d:
            r = run(n, args.model.split(","), args.j, Path(d))
        print(f"{r['n']:>7} {r['pairs']:>7} {r['wall']:>8.1f} {r['rate']:>8.1f} {r['parent_mb']:>10.0f} "
              f"{r['worker_peak_mb']:>15.0f} {r['worker_late_mb']:>8.0f} {r['errors']:>8}", flush=True)


if __name__ == "__main__":
    main()
