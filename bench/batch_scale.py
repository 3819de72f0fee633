"""Corpus scale: N generated tests on 2 local workers; wall time, pairs/s and peak memory.

    python bench/batch_scale.py                  # N = 1,000 and 10,000
    python bench/batch_scale.py -n 1000 10000 100000 --model lkmm,x86-tso

The tests are written here (our own generator, not a corpus): the classic shapes (SB, MP, LB,
S, R, 2+2W with 2 threads, WRC and ISA2 with 3, IRIW with 4) in kernel C, each access and
barrier drawn from the kernel's menu (READ_ONCE/WRITE_ONCE, acquire/release, smp_mb,
smp_rmb, smp_wmb, xchg), written values varied so that no two tests are the same file.
They are checked by `verifier batch DIR -j 2 --progress --json FILE`, run as a user runs it, and the
numbers are read from its summary: pairs/s, each worker's pairs, busy share and peak
resident memory (workers are replaced past `RECYCLE_MB`, which is what keeps them flat),
and the parent's peak (it keeps a `Tally`, not the rows, and walks the folders lazily).
Discovery (walking the folders and predicting each test's cost) is timed on its own, in
this process.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from verifier.runner.cost import predicted_cost  # noqa: E402
from verifier.runner.discover import discover  # noqa: E402

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
    for i in range(n):  # in folders of 1,000, as corpora are laid out (a folder's names are sorted in memory)
        sub = folder / f"d{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir()
        (sub / f"gen{i:06d}.litmus").write_text(generate(i, rng))
    start = time.monotonic()
    found = discover([str(folder)])
    for f in found:
        predicted_cost(f)
    discovery = time.monotonic() - start
    rows = folder.parent / f"rows-{n}.jsonl"
    # --progress: a line every 5 s with the pairs done, read here as they come, so that the
    # rate can be seen along the batch (flat in N means flat along one batch too)
    proc = subprocess.Popen([sys.executable, "-m", "verifier", "batch", str(folder), "--model", ",".join(models),
                             "-j", str(workers), "--progress", "--json", str(rows), "--timeout", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stderr is not None and proc.stdout is not None
    marks: list[tuple[float, int]] = []  # (seconds, pairs done)
    begun = time.monotonic()
    for line in proc.stderr:
        if m := re.match(r"progress: (\d+)/", line):
            marks.append((time.monotonic() - begun, int(m[1])))
    r = subprocess.CompletedProcess(proc.args, proc.wait(), proc.stdout.read(), "")
    if r.returncode not in (0, 1, 3):
        raise SystemExit(f"batch failed ({r.returncode}): {r.stdout}")
    tenths = _rates_by_tenth(marks, n * len(models))
    head = re.search(r"^batch: (\d+) \(file, model\) pairs in ([\d.]+)s on \d+ worker\(s\), ([\d.]+) pairs/s"
                     r", workers busy (\d+)%", r.stdout, re.M)
    shares = re.findall(r"^  \S+\s+\d+ pairs  busy\s+\d+%  peak (\d+) MB$", r.stdout, re.M)
    parent = re.search(r"^  parent: peak (\d+) MB$", r.stdout, re.M)
    if head is None or parent is None:
        raise SystemExit(f"no summary in the batch's output:\n{r.stdout}")
    rows.unlink()
    problems = sum(int(m) for m in re.findall(r"(?:unknown|unsupported|error) (\d+)", r.stdout.splitlines()[1]))
    return {"n": n, "pairs": int(head[1]), "wall": float(head[2]), "rate": float(head[3]), "busy": int(head[4]),
            "discovery": discovery, "parent_mb": float(parent[1]),
            "worker_peak_mb": max((float(x) for x in shares), default=0.0), "errors": problems,
            "tenth_min": min(tenths, default=0.0), "tenth_max": max(tenths, default=0.0)}


def _rates_by_tenth(marks: list[tuple[float, int]], total: int) -> list[float]:
    """Pairs/s over each tenth of the batch (from the progress lines nearest the tenths; the
    first tenth, which includes start-up, is left out)."""
    rates = []
    for k in range(1, 10):
        lo = min(marks, key=lambda m: abs(m[1] - total * k / 10), default=None)
        hi = min(marks, key=lambda m: abs(m[1] - total * (k + 1) / 10), default=None)
        if lo is not None and hi is not None and hi[0] > lo[0]:
            rates.append((hi[1] - lo[1]) / (hi[0] - lo[0]))
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--model", default="lkmm")
    ap.add_argument("-j", type=int, default=2)
    args = ap.parse_args()
    print(f"{'N':>7} {'pairs':>7} {'wall s':>8} {'pairs/s':>8} {'by tenth':>11} {'busy':>5} {'discovery s':>12} "
          f"{'parent MB':>10} {'worker peak MB':>15} {'problems':>8}")
    for n in args.n:
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "tests").mkdir()
            r = run(n, args.model.split(","), args.j, Path(d) / "tests")
        tenth = f"{r['tenth_min']:.0f}-{r['tenth_max']:.0f}" if r["tenth_max"] else "-"
        print(f"{r['n']:>7} {r['pairs']:>7} {r['wall']:>8.1f} {r['rate']:>8.1f} {tenth:>11} {r['busy']:>4}% "
              f"{r['discovery']:>12.2f} "
              f"{r['parent_mb']:>10.0f} {r['worker_peak_mb']:>15.0f} {r['errors']:>8}", flush=True)


if __name__ == "__main__":
    main()
