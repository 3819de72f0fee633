"""Time `check` over the reference suites and compare with herd7's recorded times.

    python bench/check_suites.py [--states] [--repeat N] [--suite PREFIX]

For every (test, model) the project supports in ../shared/reference/verdicts.jsonl, runs the
verifier in this one process (as `verifier check` does for many files) and prints, per suite,
the total time of the verifier, herd7's recorded `herd_seconds` (one herd7 process per test
on a 2-core machine), and their ratio.  C tests also run under the kernel's own model files
(`lkmm`: ../shared/reference/models/linux-kernel/linux-kernel.cfg), and print as their own
suites (`kernel@lkmm`).  A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from verifier.analyses.check import check  # noqa: E402
from verifier.analyses.registry import resolve_model  # noqa: E402
from verifier.errors import InputError  # noqa: E402
from verifier.frontends import parse_file  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference"
# Models read from files: lkmm is the kernel's own model files, unmodified (herd7's -conf).
MODEL_FILES = {"lkmm": REFERENCE / "models" / "linux-kernel" / "linux-kernel.cfg"}
SUPPORTED = {
    "X86": ("sc", "x86-tso"),
    "X86_64": ("sc", "x86-tso"),
    "C": ("sc", "x86-tso", "armv8", "lkmm"),
    "AArch64": ("sc", "armv8"),
}


def suite_of(file: str) -> str:
    parts = file.split("/")
    return "/".join(parts[1:3]) if parts[1] in ("x86",) else parts[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--states", action="store_true", help="enumerate all final states (as the conformance test does)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per test; the median is kept")
    ap.add_argument("--suite", default="", help="only files whose path starts with this (e.g. litmus/kernel)")
    args = ap.parse_args()
    records = [json.loads(line) for line in (REFERENCE / "verdicts.jsonl").read_text().splitlines() if line.strip()]
    # herd7's time per (file, model); C tests under x86-tso/armv8 have no herd7 line: use its lkmm time.
    herd: dict[tuple[str, str], float] = {(r["file"], r["model"]): r["herd_seconds"] for r in records}
    ours: dict[str, float] = defaultdict(float)
    theirs: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    skipped = 0
    files = sorted({(r["file"], r["arch"]) for r in records if r["file"].startswith(args.suite)})
    for file, arch in files:
        for model in SUPPORTED.get(arch, ()):
            baseline = herd.get((file, model), herd.get((file, "lkmm")))
            if baseline is None:
                continue
            try:
                test = parse_file(str(REFERENCE / file))
                spec = resolve_model(str(MODEL_FILES.get(model, model)))
                times = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    check(test, spec, want_states=args.states)
                    times.append(time.perf_counter() - t0)
            except InputError:
                skipped += 1
                continue
            suite = suite_of(file) + ("@lkmm" if model == "lkmm" else "")
            ours[suite] += statistics.median(times)
            theirs[suite] += baseline
            counts[suite] += 1
    print(f"{'suite':<24} {'pairs':>6} {'verifier s':>11} {'herd7 s':>9} {'herd7/verifier':>15}")
    for suite in sorted(ours):
        ratio = theirs[suite] / ours[suite] if ours[suite] else float("inf")
        print(f"{suite:<24} {counts[suite]:>6} {ours[suite]:>11.3f} {theirs[suite]:>9.3f} {ratio:>14.1f}x")
    total_ours, total_theirs = sum(ours.values()), sum(theirs.values())
    print(f"{'all':<24} {sum(counts.values()):>6} {total_ours:>11.3f} {total_theirs:>9.3f} {total_theirs / total_ours:>14.1f}x")
    if skipped:
        print(f"({skipped} (test, model) pairs skipped: unsupported input)")
    print("ratio > 1: the verifier is faster than one herd7 process per test (herd7 times as recorded).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
