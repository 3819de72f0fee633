"""What a test observes: its final registers and locations as SMT terms, the values herd7
prints for them, and the condition over them.

herd7 keeps a value as a bit pattern and prints (and compares) it as its register's or
location's type: `int` unless declared, in the assembly dialects.  So a register holding
0xffffffff prints `-1`, and the condition `0:X0=-1` holds of it.  An address prints as its
location's name (`x`, or `t+4` inside array `t`) and never goes through a cast.  Kernel C
(`Litmus.default_type` None) keeps whole integers.  A whole array (`locations [t]`) prints
`t={1,2}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.errors import InputError, Pos
from verifier.events.layout import ADDR_NEAR, address_name
from verifier.events.ranges import Interval, hull, within
from verifier.events.sym import SAddr
from verifier.program.ast import (
    ArrayObs,
    Atom,
    Litmus,
    MemObs,
    Observable,
    PAnd,
    PFalse,
    PImplies,
    PNot,
    POr,
    Prop,
    PTrue,
    RegObs,
    Value,
)
from verifier.program.types import IntType, int_type, is_pointer
from verifier.smt.encode import Execution
from verifier.smt.terms import F, T, and_, eq, implies, not_, num, or_


@dataclass(frozen=True)
class Column:
    """One printed item of a final state: its key (`0:X0`, `[x]`, `t[1]`, `t`) and the SMT
    terms of its values (one, or an array's cells)."""

    key: str
    terms: tuple[str, ...]
    array: bool = False


def type_of(test: Litmus, o: Observable) -> IntType | None:
    """The integer type a final value is printed as; None: as it is (an address, C)."""
    if test.default_type is None:
        return None
    if isinstance(o, RegObs):
        thread = next((t for t in test.threads if t.tid == o.tid), None)
        ctype = dict(thread.reg_types).get(o.reg) if thread is not None else None
    else:
        loc = next((x for x in test.locations if x.name == o.loc), None) if isinstance(o, MemObs) else None
        ctype = loc.ctype if loc is not None else None
    if is_pointer(ctype):
        return None
    return int_type(ctype or test.default_type)


def _cast(ex: Execution, term: str, rng: Interval, t: IntType | None) -> str:
    """`term` as type `t` (addresses excepted), or as it is when it already fits."""
    if t is None:
        return term
    lo, hi = (-(1 << (t.bits - 1)), (1 << (t.bits - 1)) - 1) if t.signed else (0, (1 << t.bits) - 1)
    if within(rng, lo, hi):
        return term
    m = 1 << t.bits
    u = f"(mod {term} {m})"
    cast = f"(let ((u {u})) (ite (>= u {m >> 1}) (- u {m}) u))" if t.signed else u
    if rng is not None and rng[1] < ADDR_NEAR:
        return cast
    return f"(ite {ex.is_address(term)} {term} {cast})"


def _location_range(ex: Execution, loc: str) -> Interval:
    """Every value location `loc` can finally hold: what its writes store."""
    acc: Interval = (1, 0)
    for e in ex.graph.events:
        if e.kind == "W" and e.value is not None and (not isinstance(e.addr, SAddr) or e.addr.name == loc):
            acc = hull(acc, ex.ranges.of(e.value))
    return acc


def _term(ex: Execution, test: Litmus, o: RegObs | MemObs) -> str:
    if isinstance(o, MemObs):
        if o.loc not in ex.final_mem:
            raise InputError(Pos(test.path, 1, 1), f"the condition names unknown location '{o.loc}'")
        return _cast(ex, ex.final_mem[o.loc], _location_range(ex, o.loc), type_of(test, o))
    if o.tid not in ex.graph.tids:
        raise InputError(Pos(test.path, 1, 1), f"the condition names thread {o.tid}, which the test does not have")
    value = ex.graph.final_reg(o.tid, o.reg)
    if value is None:
        return "0"
    return _cast(ex, ex.int_of(value), ex.ranges.of(value), type_of(test, o))


def cells(test: Litmus, name: str) -> list[MemObs]:
    """An array's cells, in order."""
    return [MemObs(loc.name) for loc in test.locations if loc.array is not None and loc.array[0] == name]


def columns(ex: Execution, test: Litmus, observed: tuple[Observable, ...]) -> list[Column]:
    out: list[Column] = []
    for o in observed:
        if isinstance(o, ArrayObs):
            out.append(Column(str(o), tuple(_term(ex, test, c) for c in cells(test, o.name)), array=True))
        else:
            out.append(Column(str(o), (_term(ex, test, o),)))
    return out


def value_code(ex: Execution, test: Litmus, o: Observable, v: Value) -> int:
    """A condition's value as the observed item's SMT value: a location's address, or the
    integer converted to the item's type."""
    if isinstance(v, tuple):
        raise InputError(Pos(test.path, 1, 1), f"'{o}' is not an array: it has no value {{...}}")
    if isinstance(v, str):
        if v not in ex.addr_code:
            raise InputError(Pos(test.path, 1, 1), f"the condition compares with unknown location '{v}'")
        return ex.addr_code[v]
    t = type_of(test, o)
    return v if t is None else t.cast(v)


def prop_term(ex: Execution, p: Prop, test: Litmus) -> str:
    if isinstance(p, Atom):
        if isinstance(p.obs, ArrayObs):
            return and_(*(prop_term(ex, a, test) for a in _cell_atoms(test, p)))
        return eq(_term(ex, test, p.obs), num(value_code(ex, test, p.obs, p.value)))
    if isinstance(p, PTrue):
        return T
    if isinstance(p, PFalse):
        return F
    if isinstance(p, PNot):
        return not_(prop_term(ex, p.arg, test))
    if isinstance(p, PAnd):
        return and_(*(prop_term(ex, a, test) for a in p.args))
    if isinstance(p, POr):
        return or_(*(prop_term(ex, a, test) for a in p.args))
    if isinstance(p, PImplies):
        return implies(prop_term(ex, p.left, test), prop_term(ex, p.right, test))
    raise TypeError(p)


def _cell_atoms(test: Litmus, p: Atom) -> list[Atom]:
    """`t={1,2}` as `t[0]=1`, `t[1]=2`."""
    assert isinstance(p.obs, ArrayObs)
    cs = cells(test, p.obs.name)
    if not isinstance(p.value, tuple) or len(p.value) != len(cs):
        raise InputError(Pos(test.path, 1, 1), f"'{p.obs}' has {len(cs)} cells: compare it with {len(cs)} values")
    return [Atom(c, v) for c, v in zip(cs, p.value, strict=True)]


def eval_prop(p: Prop, values: dict[Observable, int], ex: Execution, test: Litmus) -> bool:
    """The proposition in a final state (`values`: each printed item's SMT value; an
    array's cells are items of their own)."""
    if isinstance(p, Atom):
        if isinstance(p.obs, ArrayObs):
            return all(eval_prop(a, values, ex, test) for a in _cell_atoms(test, p))
        return values[p.obs] == value_code(ex, test, p.obs, p.value)
    if isinstance(p, PTrue):
        return True
    if isinstance(p, PFalse):
        return False
    if isinstance(p, PNot):
        return not eval_prop(p.arg, values, ex, test)
    if isinstance(p, PAnd):
        return all(eval_prop(a, values, ex, test) for a in p.args)
    if isinstance(p, POr):
        return any(eval_prop(a, values, ex, test) for a in p.args)
    if isinstance(p, PImplies):
        return (not eval_prop(p.left, values, ex, test)) or eval_prop(p.right, values, ex, test)
    raise TypeError(p)


def format_value(ex: Execution, v: int) -> str:
    """A value as herd7 prints it: an address by its location's name, else the number."""
    return address_name(ex.graph.test, ex.addr_code, v) or str(v)


def format_typed(ex: Execution, test: Litmus, o: Observable, v: int) -> str:
    """A raw value (a witness's) printed as the observed item's type."""
    if address_name(test, ex.addr_code, v) is not None:
        return format_value(ex, v)
    t = type_of(test, o)
    return str(v if t is None else t.cast(v))


def _value_text(v: Value) -> str:
    if isinstance(v, tuple):
        return "{" + ",".join(_value_text(x) for x in v) + "}"
    if isinstance(v, str) and v.endswith("[0]"):
        return v[:-3]  # an array's name stands for its first cell's address
    return str(v)


def format_prop(p: Prop) -> str:
    if isinstance(p, Atom):
        return f"{p.obs}={_value_text(p.value)}"
    if isinstance(p, PTrue):
        return "true"
    if isinstance(p, PFalse):
        return "false"
    if isinstance(p, PNot):
        return f"not ({format_prop(p.arg)})"
    if isinstance(p, PAnd):
        return " /\\ ".join(_paren(a) for a in p.args)
    if isinstance(p, POr):
        return " \\/ ".join(_paren(a) for a in p.args)
    return f"{_paren(p.left)} -> {_paren(p.right)}"


def _paren(p: Prop) -> str:
    return f"({format_prop(p)})" if isinstance(p, (PAnd, POr, PImplies)) else format_prop(p)


def format_condition(test: Litmus) -> str:
    return f"{test.condition.kind} ({format_prop(test.condition.prop)})"
