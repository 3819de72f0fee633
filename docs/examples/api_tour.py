"""A tour of the library API, run by tests/test_api.py (so it stays true).

Run it yourself from the repository's root:  python docs/examples/api_tour.py
"""

from __future__ import annotations

import verifier

# 1. One test, under its dialect's model (kernel C: lkmm).  A Verdict is a frozen dataclass.
sb = verifier.check("litmus/classic/C-SB.litmus", states=True)
print(sb.test, sb.model, sb.observation)  # SB lkmm Sometimes
assert sb.observation == "Sometimes" and sb.witness is not None
print(len(sb.states or ()), "final states")

# 2. The same question on x86-64 and arm64: the kernel's C compiled to each.
for model in ("x86-tso", "armv8"):
    print(model, verifier.check("litmus/classic/C-SB.litmus", model=model).observation)

# 3. A test given as text: smp_mb() on both sides forbids the outcome, with a proof.
text = """C SB+mbs
{}
P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); smp_mb(); r0 = READ_ONCE(*y); }
P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); smp_mb(); r0 = READ_ONCE(*x); }
exists (0:r0=0 /\\ 1:r0=0)
"""
mbs = verifier.check(text)
assert mbs.observation == "Never"

# 4. Why it is impossible: the axioms the Never rests on, and the cycle each forbids.
proof = verifier.prove(text)
print(proof.alone, [v.axiom for v in proof.violations])  # ('propagation',) ['propagation']
assert proof.status == "proved" and proof.smallest

# 5. The cheapest barriers that forbid it, proved optimal, and what a Never rests on.
fix = verifier.fences("litmus/classic/C-SB.litmus")
print(fix.status, "cost", fix.cost, [fix.knobs[i].describe() for i in fix.chosen])
why = verifier.explain(text)
print(why.status, [why.knobs[i].describe() for i in why.needed])

# 6. A tree of tests on worker processes: one row (a dict, as `batch --json`) per pair.
rows = list(verifier.batch(["litmus/classic/C-MP.litmus", "litmus/classic/X86-SB.litmus"], jobs=1))
for row in rows:
    print(row["file"], row["model"], row["observation"], row["outcome"])
assert {r["model"] for r in rows} == {"lkmm", "x86-tso"}

# 7. Bad input is an exception whose text is file:line:col: what.
try:
    verifier.check(text.replace("READ_ONCE(*y)", "READ_ONC(*y)"))
except verifier.InputError as e:
    print(e)  # <text>.litmus:3:...: unknown primitive 'READ_ONC' (did you mean 'READ_ONCE'?)
