"""Where the time goes, stage by stage, and what the may sets save.

    python bench/stages.py [--suite PREFIX] [--large] [--model M ...]

For each (test, model) of ../shared/reference/verdicts.jsonl (or, with --large, the large
kernel tests of large.jsonl) that the verifier supports, runs the pipeline one stage at a time
and prints, per suite and model, the seconds spent in

  parse    litmus text -> program (frontends)
  events   program -> guarded events (events/build)
  encode   events -> candidate executions: rf, co, fr, values (smt/encode)
  model    the relation analysis and the terms: every relation value over the pairs that
           may be in it, must pairs as constants (smt/model)
  demand   the derived terms no check reaches, dropped (smt/terms, Script.text)
  solve    Z3: the observation's two queries (condition, negated condition)

and the encoding's size at each step of the analysis: `dense`, the pairs a dense encoding
(every pair of events for every relation value the model computed) would hold; `may`, the
pairs the may sets kept; `named`, the SMT constants declared; `kept`, those that reach the
solver once the demand is applied.  herd7's recorded time is printed beside.  A benchmark,
not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import z3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from verifier.analyses.observe import prop_term  # noqa: E402
from verifier.analyses.registry import resolve_model  # noqa: E402
from verifier.errors import InputError, Pos  # noqa: E402
from verifier.events.build import build_events  # noqa: E402
from verifier.frontends import parse_file  # noqa: E402
from verifier.smt.encode import encode_execution  # noqa: E402
from verifier.smt.model import constrain  # noqa: E402
from verifier.smt.terms import not_  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference"
# `kernel`: the kernel's own files (test data), beside `lkmm`, our own text of the same model
MODEL_FILES = {"kernel": REFERENCE / "models" / "linux-kernel" / "linux-kernel.cfg"}
SUPPORTED = {"X86": ("sc", "x86-tso"), "X86_64": ("sc", "x86-tso"), "C": ("sc", "x86-tso", "armv8", "lkmm", "kernel"),
             "AArch64": ("sc", "armv8")}
STAGES = ("parse", "events", "encode", "model", "demand", "solve")


def profile(file: Path, model: str) -> dict[str, float]:
    out: dict[str, float] = {}
    t = time.perf_counter()
    test = parse_file(str(file))
    out["parse"] = time.perf_counter() - t
    spec = resolve_model(str(MODEL_FILES.get(model, model)))
    t = time.perf_counter()
    graph = build_events(test, spec.mapping_for(test.arch, Pos(test.path, 1, 1)))
    out["events"] = time.perf_counter() - t
    t = time.perf_counter()
    ex = encode_execution(graph)
    out["encode"] = time.perf_counter() - t
    t = time.perf_counter()
    interp = constrain(spec.program, ex, spec.tags)
    out["model"] = time.perf_counter() - t
    cond = prop_term(ex, test.condition.prop, test)
    t = time.perf_counter()
    text = ex.script.text()
    out["demand"] = time.perf_counter() - t
    t = time.perf_counter()
    solver = z3.Solver()
    solver.from_string(text)
    for c in (cond, not_(cond)):
        solver.push()
        solver.from_string(f"(assert {c})")
        solver.check()
        solver.pop()
    out["solve"] = time.perf_counter() - t
    n = len(graph.events)
    out["named"] = sum(1 for line in ex.script.lines if line.startswith("(declare-const"))
    out["kept"] = text.count("(declare-const")
    out["may"] = interp.pairs
    out["dense"] = interp.relations * n * n
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default="", help="only files whose path starts with this")
    ap.add_argument("--large", action="store_true", help="the large kernel tests (large.jsonl)")
    ap.add_argument("--model", action="append", help="only these models (sc, x86-tso, armv8, lkmm, kernel: the kernel's files)")
    args = ap.parse_args()
    source = REFERENCE / ("large.jsonl" if args.large else "verdicts.jsonl")
    records = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    herd = {(r["file"], r["model"]): r.get("herd_seconds", 0.0) for r in records}
    sums: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for file, arch in sorted({(r["file"], r["arch"]) for r in records if r["file"].startswith(args.suite)}):
        for model in SUPPORTED.get(arch, ()):
            if args.model and model not in args.model:
                continue
            try:
                p = profile(REFERENCE / file, model)
            except InputError:
                continue
            key = (file.split("/")[1], model)
            for k, v in p.items():
                sums[key][k] += v
            sums[key]["tests"] += 1
            sums[key]["herd7"] += herd.get((file, model), herd.get((file, "lkmm"), 0.0))
    head = f"{'suite':<10} {'model':<8} {'tests':>5} " + " ".join(f"{s:>7}" for s in STAGES)
    print(head + f" {'total':>7} {'herd7':>7} {'dense':>11} {'may':>9} {'named':>8} {'kept':>8}")
    for (suite, model), s in sorted(sums.items()):
        total = sum(s[k] for k in STAGES)
        print(f"{suite:<10} {model:<8} {int(s['tests']):>5} " + " ".join(f"{s[k]:>7.2f}" for k in STAGES)
              + f" {total:>7.2f} {s['herd7']:>7.2f} {int(s['dense']):>11} {int(s['may']):>9}"
              f" {int(s['named']):>8} {int(s['kept']):>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
