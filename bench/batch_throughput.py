"""Batch throughput on the reference suites, against herd7's recorded times.

    python bench/batch_throughput.py [-j N] [--states]

For each suite, runs `verifier batch SUITE --model M,... -j N` as a user would (a fresh
process: start-up, workers, JSON output included) and prints (file, model) pairs per second
next to herd7's, computed from `herd_seconds` in ../shared/reference/verdicts.jsonl for the
same pairs.  herd7 runs one process per test, so its throughput is given twice: one process
at a time (as the kernel's scripts run it) and ideally spread over N cores (its recorded
seconds divided by N), which is the goal to beat.  C tests under x86-tso and armv8 have no
herd7 line: for them herd7's `lkmm` time is the yardstick (what kernel developers run today).
A benchmark, not a test: nothing is asserted.
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
REFERENCE = ROOT.parent / "shared" / "reference"

# suite (folder under the reference) -> models checked by the batch
SUITES = {
    "litmus/kernel": ("sc", "x86-tso", "armv8"),
    "litmus/linux": ("sc", "x86-tso", "armv8"),
    "litmus/x86": ("sc", "x86-tso"),
    "litmus/aarch64": ("sc", "armv8"),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-j", type=int, default=2, help="workers (default 2, the CI machine's cores)")
    ap.add_argument("--states", action="store_true", help="enumerate every final state (as --herd does)")
    args = ap.parse_args()
    records = [json.loads(line) for line in (REFERENCE / "verdicts.jsonl").read_text().splitlines() if line.strip()]
    herd = {(r["file"], r["model"]): r["herd_seconds"] for r in records}
    print(f"{'suite':<16} {'models':<18} {'pairs':>6} {'wall s':>7} {'pairs/s':>8} "
          f"{'herd7 1 proc':>13} {f'herd7 {args.j} cores':>13} {'ratio':>7}")
    total_pairs, total_wall, total_herd = 0, 0.0, 0.0
    for suite, models in SUITES.items():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "rows.jsonl"
            cmd = [sys.executable, "-m", "verifier.cli", "batch", str(REFERENCE / suite), "--model",
                   ",".join(models), "-j", str(args.j), "--json", str(out), "-q"]
            if args.states:
                cmd.append("--states")
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)
            wall = time.perf_counter() - t0
            rows = [json.loads(line) for line in out.read_text().splitlines()]
        herd_s = 0.0
        pairs = 0
        for r in rows:
            if r.get("observation") in (None, "Unknown"):
                continue
            rel = os.path.relpath(r["file"], REFERENCE).replace(os.sep, "/")
            base = herd.get((rel, r["model"]), herd.get((rel, "lkmm")))
            if base is not None:
                herd_s += base
                pairs += 1
        # Conservative: the wall time covers every row, the rate counts only pairs herd7 timed.
        ours = pairs / wall
        herd_1 = pairs / herd_s if herd_s else float("nan")
        herd_j = herd_1 * args.j
        print(f"{suite:<16} {','.join(models):<18} {len(rows):>6} {wall:>7.2f} {ours:>8.1f} "
              f"{herd_1:>13.1f} {herd_j:>13.1f} {ours / herd_j:>6.1f}x")
        total_pairs += pairs
        total_wall += wall
        total_herd += herd_s
    ours = total_pairs / total_wall
    herd_j = total_pairs / total_herd * args.j
    print(f"{'all':<16} {'':<18} {total_pairs:>6} {total_wall:>7.2f} {ours:>8.1f} "
          f"{total_pairs / total_herd:>13.1f} {herd_j:>13.1f} {ours / herd_j:>6.1f}x")
    print(f"pairs/s: (file, model) pairs per second, start-up included.  ratio: ours / herd7 on {args.j} cores.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
