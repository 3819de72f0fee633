"""Symbolic values of an execution: integers computed from the values that reads return.

A value is an expression over `SRead(eid)` leaves (the value read by event `eid`), constants
and location addresses.  Constructors fold constants, so straight-line tests with constant
stores produce constant values and the SMT stage sees almost nothing symbolic.
Booleans are integers as in C: 0 is false, anything else true.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SConst:
    value: int


@dataclass(frozen=True)
class SAddr:
    """The address of shared location `name` (a pointer value)."""

    name: str


@dataclass(frozen=True)
class SRead:
    """The value returned by read event `eid`."""

    eid: int


@dataclass(frozen=True)
class SChoice:
    """A free choice of the execution (whether store-exclusive `index` succeeds): 0 or 1."""

    index: int


@dataclass(frozen=True)
class SPick:
    """An analysis's free Boolean choice `index` (see `program.ast.Pick`): 1 if made, else 0."""

    index: int


@dataclass(frozen=True)
class SBin:
    op: str
    left: Sym
    right: Sym


@dataclass(frozen=True)
class SUn:
    op: str
    arg: Sym


@dataclass(frozen=True)
class SIte:
    cond: Sym
    then: Sym
    other: Sym


Sym = SConst | SAddr | SRead | SChoice | SPick | SBin | SUn | SIte

TRUE = SConst(1)
FALSE = SConst(0)

COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
BOOLEAN_OPS = COMPARISONS | {"&&", "||"}


def _c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _fold(op: str, a: int, b: int) -> int | None:
    if op in ("/", "%") and b == 0:
        return None  # leave division by zero symbolic: the SMT stage decides
    table = {
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
        "/": lambda: _c_div(a, b), "%": lambda: a - b * _c_div(a, b),
        "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
        "<<": lambda: a << b if 0 <= b < 64 else None,
        ">>": lambda: a >> b if 0 <= b < 64 else None,
        "==": lambda: int(a == b), "!=": lambda: int(a != b),
        "<": lambda: int(a < b), "<=": lambda: int(a <= b),
        ">": lambda: int(a > b), ">=": lambda: int(a >= b),
        "&&": lambda: int(bool(a) and bool(b)), "||": lambda: int(bool(a) or bool(b)),
    }
    return table[op]()


def binop(op: str, a: Sym, b: Sym) -> Sym:
    """`a op b` with constant folding and the identities that keep guards small."""
    if isinstance(a, SConst) and isinstance(b, SConst):
        v = _fold(op, a.value, b.value)
        if v is not None:
            return SConst(v)
    if isinstance(a, SAddr) and isinstance(b, SAddr) and op in ("==", "!="):
        return SConst(int((a.name == b.name) == (op == "==")))
    if op == "&&":
        if isinstance(a, SConst):
            return truth(b) if a.value else FALSE
        if isinstance(b, SConst):
            return truth(a) if b.value else FALSE
    if op == "||":
        if isinstance(a, SConst):
            return TRUE if a.value else truth(b)
        if isinstance(b, SConst):
            return TRUE if b.value else truth(a)
    if op == "^" and a == b:
        return SConst(0)  # herd's false-dependency idiom: the value is 0 whatever was read
    if op in ("+", "-", "|", "^") and isinstance(b, SConst) and b.value == 0:
        return a
    if op == "+" and isinstance(a, SConst) and a.value == 0:
        return b
    return SBin(op, a, b)


def unop(op: str, a: Sym) -> Sym:
    if isinstance(a, SConst):
        if op == "-":
            return SConst(-a.value)
        if op == "!":
            return SConst(int(not a.value))
        if op == "~":
            return SConst(~a.value)
    if op == "!" and isinstance(a, SUn) and a.op == "!":
        return truth(a.arg)
    return SUn(op, a)


def ite(c: Sym, a: Sym, b: Sym) -> Sym:
    if isinstance(c, SConst):
        return a if c.value else b
    if a == b:
        return a
    return SIte(c, a, b)


def is_boolean(s: Sym) -> bool:
    return (
        (isinstance(s, SBin) and s.op in BOOLEAN_OPS)
        or (isinstance(s, SUn) and s.op == "!")
        or (isinstance(s, SConst) and s.value in (0, 1))
        or isinstance(s, SPick)
    )


def truth(s: Sym) -> Sym:
    """`s != 0` as a boolean expression."""
    if isinstance(s, SConst):
        return SConst(int(s.value != 0))
    if is_boolean(s):
        return s
    return SBin("!=", s, SConst(0))


def conj(*args: Sym) -> Sym:
    out: Sym = TRUE
    for a in args:
        out = binop("&&", out, a)
    return out


def disj(*args: Sym) -> Sym:
    out: Sym = FALSE
    for a in args:
        out = binop("||", out, a)
    return out


def neg(a: Sym) -> Sym:
    return unop("!", truth(a))


def reads_in(s: Sym) -> frozenset[int]:
    """The read events whose values `s` depends on."""
    if isinstance(s, SRead):
        return frozenset({s.eid})
    if isinstance(s, SBin):
        return reads_in(s.left) | reads_in(s.right)
    if isinstance(s, SUn):
        return reads_in(s.arg)
    if isinstance(s, SIte):
        return reads_in(s.cond) | reads_in(s.then) | reads_in(s.other)
    return frozenset()
