"""The names every model may use that a candidate execution defines: the event sets
(R, W, F, M, IW, FW, _ and one per tag) and relations (po, rf, co, fr, rmw, iico, loc, int, ext,
id, sm/si, the dependencies), as maps from what may be present to SMT terms.  No
architecture's axioms are named here."""

from __future__ import annotations

from collections.abc import Callable

from verifier.events.graph import Dep
from verifier.program.ast import MemObs, observed_of, prop_observables
from verifier.smt.cat_values import Pair, RelV, SetV, Value
from verifier.smt.encode import Execution, same_loc
from verifier.smt.terms import F, and_, eq, num, or_


def execution_builtins(ex: Execution, tags: frozenset[str]) -> dict[str, Callable[[], Value]]:
    """Each built-in name, computed when first used: the sets and relations of the candidate
    executions, and a set per tag (`tags`: every tag a model may name)."""
    g = ex.graph
    evs = g.events
    gd = ex.guard

    def kind(k: str) -> SetV:
        return SetV({e.eid: gd[e.eid] for e in evs if e.kind in k})

    def tag(t: str) -> SetV:
        out: dict[int, str] = {}
        for e in evs:
            for name, cond in e.tags:
                if name == t:
                    term = and_(gd[e.eid], ex.bool_of(cond))
                    if term != F:
                        out[e.eid] = term
        return SetV(out)

    def static(pairs: tuple[Pair, ...] | list[Pair]) -> RelV:
        return RelV({p: and_(gd[p[0]], gd[p[1]]) for p in pairs})

    def po() -> RelV:
        # One instruction's events are not ordered by po (herd7): an atomic's read and
        # write (iico), the two accesses of a pair.
        inside = set(g.iico) | set(g.unordered)
        pairs = [(a, b) for th in g.threads for i, a in enumerate(th) for b in th[i + 1 :] if (a, b) not in inside]
        return static(pairs)

    def dependency(deps: tuple[Dep, ...]) -> RelV:
        out: dict[Pair, str] = {}
        for a, b, cond in deps:
            t = and_(gd[a], gd[b], ex.bool_of(cond))
            if t != F:
                out[(a, b)] = or_(out[(a, b)], t) if (a, b) in out else t
        return RelV(out)

    def final_writes() -> SetV:
        # herd7's final writes come from the final state's rf map (memUtils.ml,
        # make_write_mem_finals), which has entries only for the locations the final state
        # shows: the condition's, the filter's and `locations`.  A location no thread
        # writes reads from "Init" there, not from its initial-write event: not in FW.
        test = g.test
        shown = [*observed_of(test), *(prop_observables(test.filter) if test.filter is not None else [])]
        codes = [ex.addr_code[o.loc] for o in shown if isinstance(o, MemObs) and o.loc in ex.addr_code]
        out: dict[int, str] = {}
        for w, t in ex.last.items():
            if t == F or g.event(w).is_init:
                continue
            term = and_(t, or_(*(eq(ex.addr[w], num(c)) for c in codes)))
            if term != F:
                out[w] = term
        return SetV(out)

    def rel_loc() -> RelV:
        mem = [e for e in evs if e.kind != "F"]
        out: dict[Pair, str] = {}
        for a in mem:
            for b in mem:
                t = and_(gd[a.eid], gd[b.eid], same_loc(ex, a, b))
                if t != F:
                    out[(a.eid, b.eid)] = t
        return RelV(out)

    def same_thread(want: bool) -> RelV:
        out: dict[Pair, str] = {}
        for a in evs:
            for b in evs:
                same = a.tid == b.tid and not a.is_init
                if same == want:
                    out[(a.eid, b.eid)] = and_(gd[a.eid], gd[b.eid])
        return RelV(out)

    table: dict[str, Callable[[], Value]] = {
        "R": lambda: kind("R"),
        "W": lambda: kind("W"),
        "F": lambda: kind("F"),
        "M": lambda: kind("RW"),
        "_": lambda: kind("RWFL"),
        "IW": lambda: SetV({e.eid: gd[e.eid] for e in evs if e.is_init}),
        "FW": final_writes,
        "po": po,
        "rf": lambda: RelV(dict(ex.rf)),
        "co": lambda: RelV(dict(ex.co)),
        "fr": lambda: RelV(dict(ex.fr)),
        "rmw": lambda: static(g.rmw),
        "addr": lambda: dependency(g.addr),
        "data": lambda: dependency(g.data),
        "ctrl": lambda: dependency(g.ctrl),
        "pick-addr": lambda: dependency(g.pick_addr),
        "pick-data": lambda: dependency(g.pick_data),
        "iico": lambda: static(g.iico),
        "loc": rel_loc,
        "id": lambda: RelV({(e.eid, e.eid): gd[e.eid] for e in evs}),
        # herd's same single-copy-atomic access: the identity on memory events, since
        # mixed-size accesses (the only ones that share a class) are refused.
        "sm": lambda: RelV({(e.eid, e.eid): gd[e.eid] for e in evs if e.kind in "RW"}),
        "si": lambda: RelV({(e.eid, e.eid): gd[e.eid] for e in evs if e.kind in "RW"}),
        "int": lambda: same_thread(True),
        "ext": lambda: same_thread(False),
    }
    for t in tags | {name for e in evs for name, _ in e.tags}:
        table.setdefault(t, lambda t=t: tag(t))  # type: ignore[misc]
    return table
