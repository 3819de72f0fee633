"""Fence synthesis on every buggy test: the GUP library and the reference suites' reachable tests.

    python bench/fence_synthesis.py [--timeout S] [--limit N] [--suite PREFIX] [-v] [--json FILE]

Which (test, model) pairs:
- litmus/gup/*.litmus.yaml under x86-tso and armv8 where the test's own expected answer
  (`expected:` in the file) says the bad outcome is reachable (Sometimes, for these `exists`
  tests): the buggy variants;
- ../shared/reference/ under x86-tso and armv8 where herd7's verdict (verdicts.jsonl) says the
  bad outcome is reachable.  herd7 has x86-tso/armv8 lines for X86, X86_64 and AArch64 tests
  only; C tests have an `lkmm` line instead, which selects them (as in bench/check_suites.py,
  where lkmm is the yardstick for C tests).  LKMM is weaker than the hardware models, so some
  of those are already unreachable under x86-tso or armv8 (status "already").
sc is left out: under SC a reachable outcome is always "sc-reachable" after one check.

Each pair runs `synthesize` (the cheapest fix, not all of them) in this one process, one at a
time, with a per-test timeout.  The goal (issue): under 5 s per test on a 2-core machine.
Per suite: statuses, median and max seconds, how many over 5 s, mean solver queries, and
synthesis seconds / herd7's recorded seconds for the plain check of the same test (C tests:
its lkmm check) - how many herd7 runs one synthesis costs.  A benchmark: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from verifier.analyses.check import check  # noqa: E402
from verifier.analyses.knobs import load_menu  # noqa: E402
from verifier.analyses.registry import resolve_model  # noqa: E402
from verifier.analyses.synth import synthesize, unreachable  # noqa: E402
from verifier.errors import InputError  # noqa: E402
from verifier.frontends import parse_file  # noqa: E402
from verifier.program.ast import Litmus  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference"
GUP = ROOT / "litmus" / "gup"
MODELS = ("x86-tso", "armv8")
# The dialects each model compiles (as in bench/check_suites.py, without sc).
SUPPORTED = {"X86": ("x86-tso",), "X86_64": ("x86-tso",), "C": MODELS, "AArch64": ("armv8",)}
GOAL_SECONDS = 5.0
STATUSES = ("fixed", "already", "sc-reachable", "no-fix", "unknown", "error")


@dataclass
class Job:
    suite: str
    path: Path
    model: str
    basis: str  # whose verdict selected the pair: "expected" (gup), or herd7's model name
    herd_seconds: float | None  # herd7's time for the plain check (None: no herd7 line)


@dataclass
class Row:
    job: Job
    status: str
    seconds: float
    check_seconds: float
    queries: int = 0
    knobs: int = 0
    cost: int = 0
    chosen: tuple[str, ...] = ()
    note: str = ""

    def as_json(self) -> dict[str, object]:
        j = self.job
        return {
            "suite": j.suite, "file": str(j.path), "model": j.model, "basis": j.basis, "status": self.status,
            "seconds": round(self.seconds, 4), "check_seconds": round(self.check_seconds, 4),
            "herd_seconds": j.herd_seconds, "queries": self.queries, "knobs": self.knobs, "cost": self.cost,
            "chosen": list(self.chosen), "note": self.note,
        }


def suite_of(file: str) -> str:
    """As bench/check_suites.py: litmus/x86/<sub>, otherwise the folder under litmus/."""
    parts = file.split("/")
    return "/".join(parts[1:3]) if parts[1] == "x86" else parts[1]


def bad_reachable(condition_kind: str, observation: str) -> bool:
    """Whether an observation means the bad outcome happens: the condition for `exists` and
    `~exists` (herd's observation is about the condition either way), its negation for `forall`."""
    return observation != ("Always" if condition_kind == "forall" else "Never")


def gup_jobs() -> list[Job]:
    jobs = []
    for path in sorted(GUP.glob("*.litmus.yaml")):
        test = parse_file(str(path))
        expected = dict(test.expected)
        for model in MODELS:
            if model in expected and bad_reachable(test.condition.kind, expected[model]):
                jobs.append(Job("gup", path, model, "expected", None))
    return jobs


def reference_jobs() -> list[Job]:
    records = [json.loads(line) for line in (REFERENCE / "verdicts.jsonl").read_text().splitlines() if line.strip()]
    jobs = []
    for r in records:
        kind = r["condition"].split()[0]
        kind = "forall" if kind == "forall" else "exists"
        if not bad_reachable(kind, r["observation"]):
            continue
        # herd7's own line for the model; for C tests, the lkmm line stands for both models.
        models = (r["model"],) if r["model"] in MODELS else MODELS if r["model"] == "lkmm" else ()
        for model in models:
            if model in SUPPORTED.get(r["arch"], ()):
                jobs.append(Job(suite_of(r["file"]), REFERENCE / r["file"], model, r["model"], r["herd_seconds"]))
    return sorted(jobs, key=lambda j: (j.suite, str(j.path), j.model))


def run(job: Job, timeout: float) -> Row:
    t0 = time.perf_counter()
    try:
        test: Litmus = parse_file(str(job.path))
        spec = resolve_model(job.model)
        c0 = time.perf_counter()
        check(test, spec)
        check_seconds = time.perf_counter() - c0
        t0 = time.perf_counter()
        s = synthesize(test, spec, load_menu(test.arch), timeout=timeout)
    except InputError as e:  # includes Unsupported: a construct synthesis cannot rewrite
        return Row(job, "error", time.perf_counter() - t0, 0.0, note=e.message)
    seconds = time.perf_counter() - t0
    note = s.unknown_reason or ""
    # A fixed answer whose fresh re-check still reaches the outcome would be a synthesis bug.
    if s.status == "fixed" and s.recheck is not None and not unreachable(test, s.recheck):
        note = f"RECHECK FAILED: {s.recheck.observation}"
    return Row(job, s.status, seconds, check_seconds, s.queries, len(s.knobs), s.cost,
               tuple(k.describe() for k in s.chosen_knobs()), note)


def summary(rows: list[Row]) -> None:
    by_suite: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_suite[r.job.suite].append(r)
    print()
    print(f"{'suite':<24} {'pairs':>5}  {'fixed/already/sc-r/no-fix/unknown/error':<40} {'median s':>8} {'max s':>7} "
          f"{'>5s':>4} {'queries':>7} {'synth/herd7':>11}")
    for suite in [*sorted(by_suite), "all"]:
        group = rows if suite == "all" else by_suite[suite]
        if not group:
            continue
        counts = Counter(r.status for r in group)
        times = [r.seconds for r in group if r.status != "error"] or [0.0]
        timed = [r for r in group if r.status != "error"]
        queries = statistics.mean(r.queries for r in timed) if timed else 0.0
        ratios = [r.seconds / r.job.herd_seconds for r in timed if r.job.herd_seconds]
        ratio = f"{statistics.median(ratios):>10.1f}x" if ratios else f"{'n/a':>11}"
        print(f"{suite:<24} {len(group):>5}  {'/'.join(str(counts[s]) for s in STATUSES):<40} "
              f"{statistics.median(times):>8.3f} {max(times):>7.2f} "
              f"{sum(t > GOAL_SECONDS for t in times):>4} {queries:>7.1f} {ratio}")
    print()
    print("Seconds: one synthesize() per (test, model) in this process (parse and the plain check excluded).")
    print("synth/herd7: median over tests of (synthesis seconds / herd7's recorded seconds for the plain check")
    print("  of the same test; C tests: herd7's lkmm check): how many single herd7 runs one synthesis costs.")
    print("  n/a: no herd7 time (litmus/gup is the project's own library).")
    slow = [r for r in rows if r.seconds > GOAL_SECONDS or r.status in ("unknown", "error") or r.note]
    if slow:
        print(f"\nOver {GOAL_SECONDS:g} s, unknown, error or noted:")
        for r in slow:
            print(f"  {r.job.path.name} [{r.job.model}] {r.status} {r.seconds:.2f}s {r.note}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per test (default 60)")
    ap.add_argument("--limit", type=int, default=None, help="at most N (test, model) pairs per suite")
    ap.add_argument("--suite", default="", help="only suites whose name starts with this (gup, kernel, x86, ...)")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per test")
    ap.add_argument("--json", metavar="FILE", help="write one JSON object per (test, model) to FILE")
    args = ap.parse_args()

    jobs = [j for j in gup_jobs() + reference_jobs() if j.suite.startswith(args.suite)]
    if args.limit is not None:
        per_suite: Counter[str] = Counter()
        kept = []
        for j in jobs:
            per_suite[j.suite] += 1
            if per_suite[j.suite] <= args.limit:
                kept.append(j)
        jobs = kept
    rows: list[Row] = []
    start = time.perf_counter()
    for job in jobs:
        row = run(job, args.timeout)
        rows.append(row)
        if args.verbose:
            herd = f"{row.seconds / job.herd_seconds:7.1f}x herd7" if job.herd_seconds else " " * 13
            fix = "; ".join(row.chosen)
            print(f"{job.suite:<12} {job.path.name:<52} {job.model:<8} {row.status:<12} {row.seconds:7.3f}s "
                  f"{herd} q={row.queries:<4} knobs={row.knobs:<3} cost={row.cost:<3} {fix} {row.note}", flush=True)
    summary(rows)
    print(f"\n{len(rows)} (test, model) pairs in {time.perf_counter() - start:.1f} s wall (parse and checks included).")
    if args.json:
        Path(args.json).write_text("".join(json.dumps(r.as_json()) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
