"""Coherence orders a model generates itself (herd's `with co from generate_orders(S, r)`).

One execution per order, total on each location's events of S, that contains r's
same-location pairs.  Over the execution's writes that is the engine's own co (clocks per
write, smt/encode.py); herd's lock.cat puts its lock writes (LKW: events with no value) into S
too, and those get clocks of their own here.
"""

from __future__ import annotations

from verifier.errors import Pos, Unsupported
from verifier.smt.cat_values import Pair, RelV, SetV
from verifier.smt.encode import Execution, same_loc
from verifier.smt.terms import F, Script, and_, implies, lt, not_


def generated_co(ex: Execution, s: Script, writes: SetV, base: RelV, clocks: str, pos: Pos) -> RelV:
    """The co `generate_orders(writes, base)` chooses.  Over the execution's writes it is
    the engine's co; herd's lock.cat also orders its lock writes (LKW, events with no
    value) among them: those get clocks of their own, every pair at one location apart."""
    g = ex.graph
    builtin_w = {e.eid: ex.guard[e.eid] for e in g.events if e.kind == "W"}
    if any(writes.terms.get(w) != t for w, t in builtin_w.items()):
        raise Unsupported(pos, "unsupported: generating co over a set that leaves out some writes of W")
    extra = [e for e in writes.terms if e not in builtin_w]
    if any(g.event(e).kind != "L" for e in extra):
        raise Unsupported(pos, "unsupported: generating co over events that are not writes")
    co: dict[Pair, str] = dict(ex.co)
    clock = dict(ex.clock)
    if extra:
        for e in extra:
            clock[e] = s.declare(f"{clocks}_{e}", "Int")
            s.add(f"(>= {clock[e]} 1)")
        for e in extra:
            for w in writes.terms:
                same = same_loc(ex, g.event(e), g.event(w))
                if w == e or same == F or (w, e) in co:  # (w, e) in co: made from w's side
                    continue
                both = and_(writes.terms[e], writes.terms[w], same)
                if not g.event(w).is_init:
                    s.add(implies(both, not_(f"(= {clock[e]} {clock[w]})")))
                co[(w, e)] = s.name_bool("co", and_(both, lt(clock[w], clock[e])))
                co[(e, w)] = s.name_bool("co", and_(both, lt(clock[e], clock[w])))
    for (a, b), t in base.terms.items():
        if a not in writes.terms or b not in writes.terms:
            continue
        same = same_loc(ex, g.event(a), g.event(b))
        if same == F:
            continue
        s.add(implies(and_(t, same, writes.terms[a], writes.terms[b]), co.get((a, b), F)))
    return RelV(co)
