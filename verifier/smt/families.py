"""Sets of sets and relations, and the choices `with x from S` makes among them.

herd's lock.cat gives each failed `spin_trylock` and each `spin_is_locked` that returns false a
read-from edge of its own choosing:

    let possible-rf-ru e = ((UL | IW) * {e}) & loc & ext | ...
    let all-possible-rf-ru = map (fun e -> map pair-to-relation (possible-rf-ru e)) RU
    with rf-ru from cross(all-possible-rf-ru)

herd evaluates this on each candidate execution, where RU is a known set: `map` builds a set
of sets of one-edge relations, `cross` every union taking one member of each, and `with` runs
the rest of the model once per union.  Here RU is symbolic (an event is in it under a term), so
the same values are families whose members exist under terms (`FamV`), and the choice is free
Booleans, one per member, constrained as herd enumerates: for each outer member that exists,
exactly one of its existing inner members is taken; none of a member that does not exist.  An
existing outer member with no existing inner member leaves no union at all, and so no
execution, as in herd (`cross` of a family holding {} is {}; `with x from {}` has no run).
"""

from __future__ import annotations

from collections.abc import Callable

from verifier.errors import InputError, Pos, Unsupported
from verifier.smt.cat_values import Data, ElemV, FamV, RelV, SetV, Value, like
from verifier.smt.terms import F, Script, T, and_, implies, not_, or_


def singleton(e: ElemV) -> Data:
    return RelV({e.key: T}) if isinstance(e.key, tuple) else SetV({e.key: T})


def as_data(v: Value, pos: Pos) -> Data:
    """A set or relation (an element stands for the set holding only it)."""
    if isinstance(v, ElemV):
        return singleton(v)
    if isinstance(v, (SetV, RelV)):
        return v
    raise InputError(pos, f"expected a set or a relation here, found {_what(v)}")


def as_family(v: Value, pos: Pos) -> FamV:
    """A set of sets or relations (`{}` is the empty one)."""
    if isinstance(v, FamV):
        return v
    if isinstance(v, (SetV, RelV)) and not v.terms:
        return FamV(())
    raise InputError(pos, f"expected a set of sets or relations here, found {_what(v)}")


def _what(v: Value) -> str:
    return {"SetV": "a set of events", "RelV": "a relation", "ElemV": "an element", "FamV": "a set of sets",
            "ChoiceV": "a choice (cross)", "FunV": "a function"}[type(v).__name__]


def map_over(apply: Callable[[Value], Value], s: Value, pos: Pos) -> Value:
    """herd's `map f S`: f applied to each member of S.  Members that are elements (f returns
    an event or a pair) make a set or relation again; sets and relations make a family."""
    if isinstance(s, FamV):
        members: list[tuple[str, Value]] = [(g, apply(v)) for g, v in s.members]
    elif isinstance(s, (SetV, RelV)):
        members = [(t, apply(ElemV(k))) for k, t in s.terms.items()]
    else:
        raise InputError(pos, f"map needs a set, a relation or a set of sets, found {_what(s)}")
    if members and all(isinstance(v, ElemV) for _, v in members):
        out: dict = {}  # type: ignore[type-arg]
        for g, v in members:
            assert isinstance(v, ElemV)
            out[v.key] = or_(out[v.key], g) if v.key in out else g
        return RelV(out) if isinstance(next(iter(out)), tuple) else SetV(out)
    family: list[tuple[str, SetV | RelV | FamV]] = []
    for g, v in members:
        if g == F:
            continue
        family.append((g, v if isinstance(v, FamV) else as_data(v, pos)))
    return FamV(tuple(family))


def add_member(a: Value, b: Value, pos: Pos) -> Value | None:
    """`a ++ b` when it is set addition (an element into a set, a set into a set of sets);
    None when both are sets or relations (then it is their union, as the engine always read it)."""
    if isinstance(a, ElemV):
        base = as_data(b, pos)
        if base.terms and isinstance(next(iter(base.terms)), tuple) != isinstance(a.key, tuple):
            raise InputError(pos, "'++' adds an event to a set of events, a pair to a relation")
        terms: dict = dict(base.terms)  # type: ignore[type-arg]
        terms[a.key] = T
        return RelV(terms) if isinstance(a.key, tuple) else SetV(terms)
    if isinstance(b, FamV):
        member = a if isinstance(a, FamV) else as_data(a, pos)
        return FamV(((T, member), *b.members))
    return None


def set_literal(items: list[Value], pos: Pos) -> Value:
    """`{e1, e2}`: elements make a set or relation, sets and relations a set of sets."""
    if not items:
        return SetV({})
    if all(isinstance(v, ElemV) for v in items):
        keys = [v.key for v in items if isinstance(v, ElemV)]
        if len({isinstance(k, tuple) for k in keys}) > 1:
            raise InputError(pos, "a set literal mixes events and pairs")
        return like(RelV({}) if isinstance(keys[0], tuple) else SetV({}), {k: T for k in keys})
    if any(isinstance(v, ElemV) for v in items):
        raise InputError(pos, "a set literal mixes elements and sets")
    return FamV(tuple((T, v if isinstance(v, FamV) else as_data(v, pos)) for v in items))


def _pick(s: Script, members: list[tuple[str, str]]) -> list[str]:
    """Free Booleans taking at most one of the members; member k only when its term holds."""
    picks = []
    for _, guard in members:
        c = s.fresh("pick", "Bool")
        s.add(implies(c, guard))
        picks.append(c)
    for i, a in enumerate(picks):
        for b in picks[i + 1 :]:
            s.add(not_(and_(a, b)))
    return picks


def _taken(picks: list[str], values: list[Data]) -> Data:
    out: dict = {}  # type: ignore[type-arg]
    for c, v in zip(picks, values, strict=True):
        for k, t in v.terms.items():
            term = and_(c, t)
            out[k] = or_(out[k], term) if k in out else term
    return like(values[0] if values else RelV({}), out)


def choose_member(s: Script, family: FamV, pos: Pos) -> Data:
    """`with x from S` over a set of sets or relations: x is one existing member."""
    members = [(g, g) for g, _ in family.members]
    picks = _pick(s, members)
    s.add(or_(*picks))
    values = [as_data(v, pos) if not isinstance(v, FamV) else _nested(pos) for _, v in family.members]
    return _taken(picks, values)


def choose_cross(s: Script, family: FamV, pos: Pos) -> Data:
    """`with x from cross(F)`: x is the union of one existing member of each existing member
    of F (see the module's docstring)."""
    picks: list[str] = []
    values: list[Data] = []
    # herd's F is a set: two equal members are one, of which cross takes one member, where
    # free Booleans per member would take two.  Members that can never be equal (no key in
    # common, as lock.cat's, one event's edges each) keep the count exact; others are refused.
    seen: set[object] = set()
    for _, inner_v in family.members:
        keys = {k for _, v in as_family(inner_v, pos).members for k in as_data(v, pos).terms}
        if keys & seen:
            raise Unsupported(pos, "unsupported: cross over sets of relations that may be equal")
        seen |= keys
    for outer, inner_v in family.members:
        inner = as_family(inner_v, pos)
        mine = _pick(s, [(h, and_(outer, h)) for h, _ in inner.members])
        s.add(implies(outer, or_(*mine)))
        picks += mine
        values += [as_data(v, pos) if not isinstance(v, FamV) else _nested(pos) for _, v in inner.members]
    return _taken(picks, values)


def _nested(pos: Pos) -> Data:
    raise InputError(pos, "'with ... from' needs a set of sets or relations, not of sets of sets")
