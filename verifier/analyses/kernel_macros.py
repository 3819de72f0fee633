"""A herd7 `.def` file read as a mapping column: each kernel C primitive's events and tags.

herd7's C front end expands each primitive through the model's macros into built-in event
forms (`__load{ONCE}(X)`, `__xchg{MB}(X,V)`, ...); the annotation in braces is what the model
sees, as the set the bell file names after it (`cat/bell.py`).  The verifier's C front end
already knows what each primitive does to values (`frontends/c_expr.py`, where each also says
which herd form it is); the `.def` file decides the annotations.  So a primitive's row here is

    form                      events (tags)                     herd7 (lkmmv2, CSem.ml)
    __load{A}                 R[A]                              read_mem
    __store{A}                W[A]                              write_mem
    __fence{A}                F[A]                              mk_fence
    __xchg{A}, __cmpxchg{A},  R[A,RMW] W[A,RMW];                read_mem_atomic,
    __atomic_op{A}, ...       a failed one: R[A,RMW]            write_mem_atomic

with each annotation A written as herd7 names its set (first letter upper case) and RMW the
set herd7 gives the accesses of atomic operations.  A primitive the file defines otherwise
than the front end reads it (another form, operator or operand) is refused by name, so is one
it does not define.  Lock primitives become herd7's lock events (`_lock_rows`).
"""

from __future__ import annotations

from pathlib import Path

from verifier.cat.bell import set_name
from verifier.cat.herd_files import Form, Macro
from verifier.errors import InputError, Unsupported
from verifier.events.mapping import Item, Mapping, Recipe
from verifier.frontends.c_expr import PRIMITIVES, Prim

_ATOMIC_OPS = ("__atomic_op", "__atomic_op_return", "__atomic_fetch_op")
_RMW_FORMS = ("__xchg", "__cmpxchg", "__atomic_add_unless", *_ATOMIC_OPS)
# herd7's lock events (CAction.ml: Lock, Unlock, TryLock, ReadLock), which read and write no
# value (build_events: `_lock_rmw`, `_lock_query`): spin_lock is LKR then LKW (both in LK);
# a successful spin_trylock the same, a failed one LF; spin_unlock UL; spin_is_locked RL if it
# says locked, RU if not (one event, its tag by the execution's choice).
_LOCK_FORMS = ("__lock", "__unlock", "__trylock", "__islocked")
_LOCK = (Item("L", ("LKR", "LK")), Item("L", ("LKW", "LK")))


def _lock_rows(form: str, cls: str) -> dict[str, Recipe]:
    if form == "__lock":
        return {f"RMW.{cls}": _LOCK}
    if form == "__trylock":
        return {f"RMW.{cls}": _LOCK, f"RMW-fail.{cls}": (Item("L", ("LF",)),)}
    if form == "__unlock":
        return {f"W.{cls}": (Item("L", ("UL",)),)}
    return {f"R.{cls}": (Item("L", ("RL", "RU")),)}


def _expand(m: Macro, macros: dict[str, Macro], depth: int = 0) -> list[Form]:
    """The built-in forms a macro's body comes to, arguments substituted."""
    if depth > 20:
        raise InputError(m.pos, f"the macro '{m.name}' expands into itself")
    out: list[Form] = []
    for f in m.forms:
        if f.builtin:
            out.append(f)
            continue
        inner = macros.get(f.name)
        if inner is None:
            raise InputError(m.pos, f"the macro '{m.name}' calls '{f.name}', which no macro defines")
        if len(inner.params) != len(f.args):
            raise InputError(m.pos, f"'{f.name}' takes {len(inner.params)} argument(s), given {len(f.args)}")
        subst = dict(zip(inner.params, f.args, strict=True))
        for g in _expand(inner, macros, depth + 1):
            out.append(Form(g.name, g.annotation, tuple(_subst(a, subst) for a in g.args)))
    return out


def _subst(arg: str, subst: dict[str, str]) -> str:
    star = arg.startswith("*")
    body = subst.get(arg.lstrip("*"), arg.lstrip("*"))
    return "*" + body if star else body


def signature(m: Macro, macros: dict[str, Macro]) -> tuple[str, str | None]:
    """The primitive as the front end's `Prim.herd` states it, and its annotation."""
    forms = _expand(m, macros)
    if len(forms) != 1:
        names = " ; ".join(f.name for f in forms)
        return names, None
    f = forms[0]
    words = [f.name]

    def operand(a: str) -> str:
        return "V" if a in m.params else a

    if f.name in _ATOMIC_OPS and len(f.args) == 3:
        words += [f.args[1], operand(f.args[2])]
    elif f.name == "__atomic_add_unless" and len(f.args) == 3 and not all(a in m.params for a in f.args[1:]):
        words += [operand(a) for a in f.args[1:]]
    if m.compare is not None:
        words.append("".join(m.compare))
    return " ".join(words), f.annotation


def _recipes(p: Prim, annotation: str | None) -> dict[str, Recipe]:
    tags = (set_name(annotation),) if annotation else ()
    form = p.herd.split()[0]
    if form in _LOCK_FORMS:
        return _lock_rows(form, p.cls)
    if p.kind == "load":
        return {f"R.{p.cls}": (Item("R", tags),)}
    if p.kind == "store":
        return {f"W.{p.cls}": (Item("W", tags),)}
    if p.kind == "fence":
        return {f"F.{p.cls}": (Item("F", tags),)}
    atomic = (*tags, "RMW")
    rows: dict[str, Recipe] = {f"RMW.{p.cls}": (Item("R", atomic), Item("W", atomic))}
    if p.herd.split()[0] in ("__cmpxchg", "__atomic_add_unless"):
        rows[f"RMW-fail.{p.cls}"] = (Item("R", atomic),)
    return rows


def _check_composite(name: str, m: Macro, macros: dict[str, Macro], path: Path) -> None:
    """smp_store_mb: the front end emits WRITE_ONCE's store then smp_mb's fence, whose rows
    those two primitives give; the file must define it as exactly those two forms."""
    forms = _expand(m, macros)
    parts = [macros.get(n) for n in ("WRITE_ONCE", "smp_mb")]
    want = [(f.name, f.annotation) for q in parts if q is not None for f in _expand(q, macros)]
    if [(f.name, f.annotation) for f in forms] != want or len(want) != 2:
        shown = " ; ".join(f"{f.name}{{{f.annotation}}}" for f in forms)
        raise Unsupported(m.pos, f"unsupported: {path.name} defines {name} as '{shown}', the C front end "
                                 "reads it as WRITE_ONCE's store then smp_mb's fence")


def def_mapping(macros: dict[str, Macro], path: Path) -> Mapping:
    """The mapping column a `.def` file gives the C front end's primitives."""
    rows: dict[str, tuple[Recipe, str]] = {
        "R.plain": ((Item("R", ()),), "*p"), "W.plain": ((Item("W", ()),), "*p = v"),
    }
    undefined: set[str] = set()
    for name, p in sorted(PRIMITIVES.items()):
        m = macros.get(name)
        if m is None:
            undefined.add(name)
            continue
        sig, annotation = signature(m, macros)
        if p.kind == "store-mb":
            _check_composite(name, m, macros, path)
            continue
        if sig != p.herd:
            raise Unsupported(m.pos, f"unsupported: {path.name} defines {name} as '{sig}', the C front end "
                                     f"reads it as '{p.herd}'")
        if p.herd.split()[0] not in ("__load", "__store", "__fence", *_RMW_FORMS, *_LOCK_FORMS):
            raise Unsupported(m.pos, f"unsupported: herd7's form {p.herd.split()[0]} ({name})")
        for key, recipe in _recipes(p, annotation).items():
            if key in rows and rows[key][0] != recipe:
                other = rows[key][1]
                raise Unsupported(m.pos, f"unsupported: {path.name} gives {name} and {other} different "
                                         f"annotations; the C front end compiles them alike ({key})")
            rows.setdefault(key, (recipe, name))
    return Mapping(path.name, tuple((k, r) for k, (r, _) in sorted(rows.items())), frozenset(undefined))
