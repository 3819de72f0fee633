"""A herd7 `.def` file read as a mapping column: each kernel C primitive's events and tags.

herd7's C front end expands each primitive through the model's macros into built-in event
forms (`__load{ONCE}(X)`, `__xchg{MB}(X,V)`, ...); the annotation in braces is what the model
sees, as the set the bell file names after it (`cat/bell.py`).  The verifier's C front end
knows every primitive from the project's own table (`program/primitives.py`, the same format);
a model's `.def` file decides the annotations.  So a primitive's row here is

    form                      events (tags)                     herd7 (lkmmv2, CSem.ml)
    __load{A}                 R[A]                              read_mem
    __store{A}                W[A]                              write_mem
    __fence{A}                F[A]                              mk_fence
    __xchg{A}, __cmpxchg{A},  R[A,RMW] W[A,RMW];                read_mem_atomic,
    __atomic_op{A}, ...       a failed one: R[A,RMW]            write_mem_atomic

with each annotation A written as herd7 names its set (first letter upper case) and RMW the
set herd7 gives the accesses of atomic operations.  A primitive the file defines otherwise
than the project's table (other forms, operators or operands) is refused by name; one it does
not define is refused when a test uses it.  Lock primitives become herd7's lock events
(`_lock_rows`).
"""

from __future__ import annotations

from pathlib import Path

from verifier.cat.bell import set_name
from verifier.errors import Unsupported
from verifier.events.mapping import Item, Mapping, Recipe
from verifier.program.kernel_def import Form, Macro, expand
from verifier.program.primitives import CONDITIONAL_FORMS, LOCK_FORMS, Access, primitives, table_macros

# herd7's lock events (CAction.ml: Lock, Unlock, TryLock, ReadLock), which read and write no
# value (build_events: `_lock_rmw`, `_lock_query`): spin_lock is LKR then LKW (both in LK);
# a successful spin_trylock the same, a failed one LF; spin_unlock UL; spin_is_locked RL if it
# says locked, RU if not (one event, its tag by the execution's choice).
_LOCK = (Item("L", ("LKR", "LK")), Item("L", ("LKW", "LK")))


def _lock_rows(form: str, cls: str) -> dict[str, Recipe]:
    if form == "__lock":
        return {f"RMW.{cls}": _LOCK}
    if form == "__trylock":
        return {f"RMW.{cls}": _LOCK, f"RMW-fail.{cls}": (Item("L", ("LF",)),)}
    if form == "__unlock":
        return {f"W.{cls}": (Item("L", ("UL",)),)}
    return {f"R.{cls}": (Item("L", ("RL", "RU")),)}


def shape(m: Macro, macros: dict[str, Macro]) -> str:
    """What a macro does, annotations left out and parameters by position: two files that
    agree on it define the primitive alike (`__atomic_op_return($1,-,1) ==0`)."""
    forms, tail = expand(m, macros)
    rename = {p: f"${i}" for i, p in enumerate(m.params)}

    def arg(a: str) -> str:
        star = "*" if a.startswith("*") else ""
        return star + "<<".join(rename.get(x, x) for x in a.lstrip("*").split("<<"))

    text = " ; ".join(f"{f.name}({','.join(arg(a) for a in f.args)})" for f in forms)
    text += "".join(f" {op}{arg(v)}" for op, v in tail)
    return "{ " + text + " }" if m.statements else text


def _recipes(a: Access, f: Form) -> dict[str, Recipe]:
    tags = (set_name(f.annotation),) if f.annotation else ()
    if a.form in LOCK_FORMS:
        return _lock_rows(a.form, a.cls)
    if a.form == "__load":
        return {f"R.{a.cls}": (Item("R", tags),)}
    if a.form == "__store":
        return {f"W.{a.cls}": (Item("W", tags),)}
    if a.form == "__fence":
        return {f"F.{a.cls}": (Item("F", tags),)}
    if a.form == "__srcu":  # herd7's SRCU action: a location, no value, not a memory access
        return {f"W.{a.cls}": (Item("L", tags),)}
    atomic = (*tags, "RMW")
    rows: dict[str, Recipe] = {f"RMW.{a.cls}": (Item("R", atomic), Item("W", atomic))}
    if a.form in CONDITIONAL_FORMS:
        rows[f"RMW-fail.{a.cls}"] = (Item("R", atomic),)
    return rows


def def_mapping(macros: dict[str, Macro], path: Path) -> Mapping:
    """The mapping column a `.def` file gives the C front end's primitives."""
    rows: dict[str, tuple[Recipe, str]] = {
        "R.plain": ((Item("R", ()),), "*p"), "W.plain": ((Item("W", ()),), "*p = v"),
    }
    ours = primitives()
    own = {n: p.pos for n, p in ours.items()}
    table = table_macros()
    undefined: set[str] = set()
    for name, p in sorted(ours.items()):
        m = macros.get(name)
        if m is None:
            undefined.add(name)
            continue
        want, got = shape(table[name], table), shape(m, macros)
        if want != got:
            raise Unsupported(m.pos, f"unsupported: {path.name} defines {name} as '{got}', the C front end "
                                     f"reads it as '{want}' ({Path(own[name].file).name}:{own[name].line})")
        forms, _ = expand(m, macros)
        for a, f in zip(p.accesses, forms, strict=True):
            for key, recipe in _recipes(a, f).items():
                if key in rows and rows[key][0] != recipe:
                    other = rows[key][1]
                    raise Unsupported(m.pos, f"unsupported: {path.name} gives {name} and {other} different "
                                             f"annotations; the C front end compiles them alike ({key})")
                rows.setdefault(key, (recipe, name))
    return Mapping(path.name, tuple((k, r) for k, (r, _) in sorted(rows.items())), frozenset(undefined))

