"""The kernel C primitives, as one table: `encodings/lkmm/kernel.def`, read here.

Every primitive the C front end accepts is one line of that file, in herd7's `.def` format
(`program/kernel_def.py`).  From the line's expansion into herd7's built-in forms this module
derives all the front end needs: which arguments are locations (`*x` written, or a pointer
passed), the access class each form's event gets (the mapping tables' row names: R.once,
RMW.mb, F.rmb, ...), and what an atomic operation does to values.  The same table names what
`fences` may insert and `explain` may take away (`primitive_for`), and the README's list of
supported primitives is generated from it.

The forms, and what each does (Old: the value the read returns):

    __load{A}(L)               a read of L                       value: Old
    __store{A}(L,V)            a write of V to L
    __fence{A}                 a fence of kind A
    __xchg{A}(P,V)             RMW: stores V                     value: Old
    __cmpxchg{A}(P,V,W)        RMW if Old == V: stores W         value: Old
    __atomic_op{A}(P,op,V)     RMW: stores Old op V              no value
    __atomic_op_return{A}(..)  the same                          value: Old op V
    __atomic_fetch_op{A}(..)   the same                          value: Old
    __atomic_add_unless{A}(P,V,W)  RMW if Old != W: Old + V      value: Old != W
    __lock(P) __trylock(P) __unlock(P) __islocked(P)   herd7's lock events
    __srcu{A}(P)               an event on P that neither reads nor writes (synchronize_srcu)

where L is `*p` written as `X` (READ_ONCE(*x)) or `*X` with X a pointer (smp_load_acquire(x)),
P a pointer, and `op` one of + - & | ^ &~ (and not).  A failed conditional RMW is only its
read.  The project's table adds forms herd7 does not have, for kernel APIs its file lacks;
the kernel's file defines none of those primitives, so under its model they are refused:

    __try_cmpxchg{A}(P,R,W)    cmpxchg(P, r, W) with R = &r a register: r := Old; value: Old == r
    __bit_lock{A}(P,N)         RMW if bit N of Old is clear: sets it; value: bit N of Old
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from verifier.errors import InputError, Pos, UsageError
from verifier.program.ast import BinOp, Const, Expr, Old, UnOp
from verifier.program.kernel_def import Form, Macro, expand, load_def

ArgKind = Literal["star", "ptr", "val", "reg-ref"]
FormName = Literal["__load", "__store", "__fence", "__xchg", "__cmpxchg", "__atomic_op", "__atomic_op_return",
                   "__atomic_fetch_op", "__atomic_add_unless", "__lock", "__trylock", "__unlock",
                   "__islocked", "__srcu", "__try_cmpxchg", "__bit_lock"]
RMW_FORMS = frozenset({"__xchg", "__cmpxchg", "__atomic_op", "__atomic_op_return", "__atomic_fetch_op",
                       "__atomic_add_unless", "__try_cmpxchg", "__bit_lock"})
LOCK_FORMS = frozenset({"__lock", "__trylock", "__unlock", "__islocked"})
# Forms whose RMW may fail (then only the read happens): the mapping tables' RMW-fail rows.
CONDITIONAL_FORMS = frozenset({"__cmpxchg", "__atomic_add_unless", "__try_cmpxchg", "__bit_lock", "__trylock"})
_FORMS = frozenset({"__load", "__store", "__fence", "__srcu"}) | RMW_FORMS | LOCK_FORMS

# The project table's annotations, as the access classes the mapping tables name rows by.
_RMW_CLASS = {"full": "mb", "once": "relaxed", "acq": "acquire", "rel": "release", "noret": "noreturn"}
_ACCESS_CLASS = {"once": "once", "acq": "acquire", "rel": "release"}
_LOCK_CLASS = {"__lock": "lock", "__trylock": "trylock", "__unlock": "unlock", "__islocked": "is-locked"}
_OPS = frozenset({"+", "-", "&", "|", "^", "&~"})

ZERO, ONE, OLD = Const(0), Const(1), Old()


@dataclass(frozen=True)
class Access:
    """One event-producing form of a primitive: the form, its access class, and its
    arguments as written with the primitive's parameters (`X`, `*X`, `+`, `1<<N`)."""

    form: FormName
    cls: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Primitive:
    """A kernel C primitive: its parameters and what each argument is, the forms it expands
    to (in program order), and for an expression body the operators applied to its value."""

    name: str
    params: tuple[str, ...]
    args: tuple[ArgKind, ...]
    accesses: tuple[Access, ...]
    tail: tuple[tuple[str, str], ...]
    returns: bool
    pos: Pos

    @property
    def single(self) -> Access:
        return self.accesses[0]


def operand(text: str, values: dict[str, Expr]) -> Expr:
    """A form's operand as an expression: a number, a parameter's value, or `A<<B`."""
    if "<<" in text:
        lo, _, hi = text.partition("<<")
        return BinOp("<<", operand(lo, values), operand(hi, values))
    if text in values:
        return values[text]
    return Const(int(text))


def rmw_values(a: Access, values: dict[str, Expr]) -> tuple[Expr, Expr, Expr | None, Expr | None]:
    """What an RMW form stores, returns (before the tail), its success condition and the
    condition without which the execution does not exist (spin_lock reads an unlocked lock)."""
    args = [operand(x, values) if x not in _OPS and i > 0 else x for i, x in enumerate(a.args)]
    if a.form == "__xchg":
        return _e(args[1]), OLD, None, None
    if a.form in ("__cmpxchg", "__try_cmpxchg"):
        return _e(args[2]), OLD, BinOp("==", OLD, _e(args[1])), None
    if a.form in ("__atomic_op", "__atomic_op_return", "__atomic_fetch_op"):
        op, v = str(args[1]), _e(args[2])
        new = BinOp("&", OLD, UnOp("~", v)) if op == "&~" else BinOp(op, OLD, v)
        return new, (new if a.form == "__atomic_op_return" else OLD), None, None
    if a.form == "__atomic_add_unless":
        ok = BinOp("!=", OLD, _e(args[2]))
        return BinOp("+", OLD, _e(args[1])), ok, ok, None
    if a.form == "__bit_lock":
        bit = BinOp("<<", ONE, _e(args[1]))
        clear = BinOp("==", BinOp("&", OLD, bit), ZERO)
        return BinOp("|", OLD, bit), BinOp("&", BinOp(">>", OLD, _e(args[1])), ONE), clear, None
    if a.form == "__lock":
        return ONE, OLD, None, BinOp("==", OLD, ZERO)
    if a.form == "__trylock":
        ok = BinOp("==", OLD, ZERO)
        return ONE, ok, ok, None
    raise ValueError(f"not an RMW form: {a.form}")


def _e(x: Expr | str) -> Expr:
    assert not isinstance(x, str), x
    return x


def apply_tail(p: Primitive, value: Expr, values: dict[str, Expr]) -> Expr:
    for op, arg in p.tail:
        value = BinOp(op, value, operand(arg, values))
    return value


def _location(a: Form) -> str | None:
    return a.args[0] if a.args and a.name != "__fence" else None


def _class(f: Form, pos: Pos) -> str:
    ann = f.annotation or ""
    if f.name in LOCK_FORMS:
        return _LOCK_CLASS[f.name]
    if f.name in ("__fence", "__srcu"):
        if not ann:
            raise InputError(pos, f"a {f.name} needs its kind in braces")
        return ann
    table = _RMW_CLASS if f.name in RMW_FORMS else _ACCESS_CLASS
    extra = {"srcu-lock", "srcu-unlock"} if f.name in ("__load", "__store") else set()
    if ann in extra:
        return ann
    if ann not in table:
        raise InputError(pos, f"the annotation '{ann}' of {f.name} is not one of {', '.join(sorted(table))}")
    return table[ann]


def primitive(m: Macro, macros: dict[str, Macro]) -> Primitive:
    forms, tail = expand(m, macros)
    for f in forms:
        if f.name not in _FORMS:
            raise InputError(m.pos, f"'{m.name}': {f.name} is not a form this table may use")
    kinds: list[ArgKind] = []
    for p in m.params:
        kind: ArgKind = "val"
        for f in forms:
            loc = _location(f)
            if loc == "*" + p or (loc == p and f.name not in ("__load", "__store")):
                kind = "ptr"
            elif loc == p:
                kind = "star"
            elif f.name == "__try_cmpxchg" and f.args[1] == p:
                kind = "reg-ref"
        kinds.append(kind)
    accesses = tuple(Access(f.name, _class(f, m.pos), f.args) for f in forms)  # type: ignore[arg-type]
    if not m.statements and len(forms) != 1:
        raise InputError(m.pos, f"'{m.name}': an expression body is one form (statements go in braces)")
    return Primitive(m.name, m.params, tuple(kinds), accesses, tail, not m.statements, m.pos)


def table_path() -> Path:
    """The project's table: in the installed package data, or beside the package."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "encodings", here.parent / "encodings"):
        if (candidate / "lkmm" / "kernel.def").is_file():
            return candidate / "lkmm" / "kernel.def"
    raise UsageError("cannot find encodings/lkmm/kernel.def (the kernel C primitives)")


@cache
def table_macros() -> dict[str, Macro]:
    """The project's table as written (read once per process: it is data, not state)."""
    return load_def(table_path())


@cache
def primitives() -> dict[str, Primitive]:
    """Every kernel C primitive the front end accepts, from the project's table."""
    macros = table_macros()
    return {name: primitive(m, macros) for name, m in macros.items()}


def primitive_for(form: str, cls: str) -> str | None:
    """The table's first primitive that is exactly one `form` of class `cls` (what `fences`
    writes for an inserted smp_mb, what an upgraded access becomes)."""
    for name, p in primitives().items():
        if len(p.accesses) == 1 and p.single.form == form and p.single.cls == cls:
            return name
    return None
