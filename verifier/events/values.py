"""Register values during symbolic execution: a symbolic value plus the reads it depends on.

herd7 computes dependencies per execution: after `r = c ? a : b` (AArch64 `CSEL`, or a join of
two branches) the register depends on the read behind `a` only in executions that took `a`.
So a dependency here is a read event *and the condition under which it holds*; a static
over-approximation would order events that the hardware may reorder and so could prove
`Never` wrongly.

Two kinds of dependency are kept apart, as in the Arm model:
- `deps`: reads whose values flow into the value (address and data dependencies);
- `picks`: reads that only decided *which* value was chosen (the condition of a `CSEL`, the
  comparison of a `CAS`).  Arm orders a picked write after such a read, but not a picked read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from verifier.events.sym import FALSE, TRUE, Sym, conj, disj, ite, neg, truth

# read eid -> condition under which the dependency exists (a Sym boolean)
Deps = dict[int, Sym]


def union(*ds: Deps) -> Deps:
    out: Deps = {}
    for d in ds:
        for eid, c in d.items():
            out[eid] = disj(out[eid], c) if eid in out else c
    return out


def under(d: Deps, cond: Sym) -> Deps:
    """The dependencies that hold when `cond` also holds."""
    if cond == TRUE:
        return d
    out: Deps = {}
    for eid, c in d.items():
        k = conj(c, cond)
        if k != FALSE:
            out[eid] = k
    return out


@dataclass(frozen=True)
class Val:
    sym: Sym
    deps: Deps = field(default_factory=dict)
    picks: Deps = field(default_factory=dict)

    def sources(self) -> Deps:
        """Every read the value depends on in any way (for control dependencies)."""
        return union(self.deps, self.picks)


def select(c: Val, a: Val, b: Val) -> Val:
    """`c ? a : b`: data from the chosen operand, picks from the condition."""
    cond = truth(c.sym)
    not_c = neg(cond)
    return Val(
        ite(cond, a.sym, b.sym),
        union(under(a.deps, cond), under(b.deps, not_c)),
        union(c.deps, c.picks, under(a.picks, cond), under(b.picks, not_c)),
    )


def merge(branches: list[tuple[Sym, Val]]) -> Val:
    """A register after a join: (path condition, value) pairs; the first whose condition
    holds supplies the value, and the last is taken when none does."""
    *firsts, (_, last) = branches
    value = last.sym
    for cond, v in reversed(firsts):
        value = ite(cond, v.sym, value)
    rest: Sym = TRUE
    deps: list[Deps] = []
    picks: list[Deps] = []
    for cond, v in firsts:
        here = conj(rest, cond)
        deps.append(under(v.deps, here))
        picks.append(under(v.picks, here))
        rest = conj(rest, neg(cond))
    deps.append(under(last.deps, rest))
    picks.append(under(last.picks, rest))
    return Val(value, union(*deps), union(*picks))
