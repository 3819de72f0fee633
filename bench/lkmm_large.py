"""`--model lkmm` on the large kernel tests of ../shared/reference/large.jsonl (5 to 19 threads).

    python bench/lkmm_large.py [--repeat N] [--model M]

For every test: our answer (and whether it is the recorded one), our time (median of N runs,
in this one process, as `verifier batch` runs tests), the thread count, and herd7's time:
measured (2-core machine), or at least its 10 s budget where herd7 did not finish, or none
(the 19-thread tests of Paul McKenney's repository, reported at minutes to hours).  Then the
median and worst time, the ratio to herd7 where herd7 has a time (a lower bound where it
timed out), and the growth with the number of threads.  A benchmark, not a test: nothing is
asserted; `tests/test_kernel_model.py` checks the answers.
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
from verifier.frontends import parse_file  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs per test; the median is kept")
    ap.add_argument("--model", default="lkmm", help="the model (default lkmm; e.g. the kernel's .cfg)")
    args = ap.parse_args()
    rows = [json.loads(line) for line in (REFERENCE / "large.jsonl").read_text().splitlines() if line.strip()]
    spec = resolve_model(args.model)
    print(f"{'test':<58} {'thr':>3} {'ours':>7} {'herd7':>8}  answer")
    ours_all: list[float] = []
    by_threads: dict[int, list[float]] = defaultdict(list)
    measured = [0.0, 0.0]  # ours, herd7: where herd7 answered
    budget = [0.0, 0.0]  # ours, herd7's budget: where it did not
    agree = 0
    for r in rows:
        test = parse_file(str(REFERENCE / r["file"]))
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            v = check(test, spec, timeout=600)
            times.append(time.perf_counter() - t)
        ours = statistics.median(times)
        good = (v.observation, list(v.flags)) == (r["observation"], sorted(r.get("flags") or []))
        agree += good
        ours_all.append(ours)
        by_threads[len(test.threads)].append(ours)
        if "herd_seconds" in r:
            herd = f"{r['herd_seconds']:.2f}"
            measured[0] += ours
            measured[1] += r["herd_seconds"]
        elif "herd_timeout_seconds" in r:
            herd = f">{r['herd_timeout_seconds']}"
            budget[0] += ours
            budget[1] += r["herd_timeout_seconds"]
        else:
            herd = "-"
        name = Path(r["file"]).name
        name = name if len(name) <= 58 else name[:55] + "..."
        print(f"{name:<58} {len(test.threads):>3} {ours:>7.3f} {herd:>8}  {v.observation}"
              + ("" if good else f"  MISMATCH (recorded {r['observation']})"))
    print(f"\n{agree}/{len(rows)} give the recorded answer; median {statistics.median(ours_all):.3f} s, "
          f"worst {max(ours_all):.3f} s, all {sum(ours_all):.2f} s ({spec.name})")
    if measured[1]:
        print(f"where herd7 answered: ours {measured[0]:.2f} s, herd7 {measured[1]:.2f} s: "
              f"{measured[1] / measured[0]:.0f}x faster")
    if budget[1]:
        print(f"where herd7 did not finish in its budget: ours {budget[0]:.2f} s, herd7 more than "
              f"{budget[1]:.0f} s: at least {budget[1] / budget[0]:.0f}x faster")
    print("\nthreads  tests  median s  worst s")
    for n in sorted(by_threads):
        ts = by_threads[n]
        print(f"{n:>7} {len(ts):>6} {statistics.median(ts):>9.3f} {max(ts):>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
