"""Machine arithmetic as IR expressions: fixed-width values over the IR's whole integers.

The assembly front ends keep every register as an unsigned bit pattern of its width (an
AArch64 `Xn` in [0, 2^64), a value written through `Wn` in [0, 2^32)), so that comparisons,
right shifts and divisions see the machine's value.  These helpers build the expressions:
`low(e, w)` is the low `w` bits (`e mod 2^w`, exact for any integer in two's complement),
`signed(e, w)` the signed reading of a `w`-bit pattern, and the flags of an addition, a
subtraction or a logical operation.  The SMT stage drops a `low` it can prove idle
(`events.ranges`), so a test whose values stay small pays nothing for the exactness.

Flags are 0/1 expressions.  `Flags` holds Arm's N, Z, C, V; x86's SF, ZF, CF, OF are the same
four with the carry of a subtraction inverted (x86 borrows where Arm does not carry).
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.program.ast import BinOp, Const, Expr, UnOp


def ones(w: int) -> int:
    return (1 << w) - 1


def low(e: Expr, w: int) -> Expr:
    """The low `w` bits of `e`, as an unsigned number (folded for a constant, and not taken
    twice)."""
    if isinstance(e, Const):
        return Const(e.value % (1 << w))
    if isinstance(e, BinOp) and e.op == "&" and isinstance(e.right, Const) and e.right.value & (e.right.value + 1) == 0:
        if e.right.value <= ones(w):
            return e  # already the low bits of a narrower width
        return BinOp("&", e.left, Const(ones(w)))  # the low bits of the low bits
    return BinOp("&", e, Const(ones(w)))


def signed(e: Expr, w: int) -> Expr:
    """The signed value of the `w`-bit pattern `e` (which must be in [0, 2^w)): `e` less
    2^w when its top bit is set.  Arithmetic, not a choice (an if-then-else would make the
    reads behind `e` pick dependencies)."""
    return BinOp("-", e, BinOp("<<", BinOp(">>", e, Const(w - 1)), Const(w)))


def sign_extend(e: Expr, frm: int, to: int) -> Expr:
    """The `frm`-bit pattern `e` sign-extended to a `to`-bit pattern."""
    return low(signed(low(e, frm), frm), to)


def negative(e: Expr, w: int) -> Expr:
    """1 if the `w`-bit pattern `e` has its top bit set."""
    return BinOp(">=", e, Const(1 << (w - 1)))


def _in_signed_range(e: Expr, w: int) -> Expr:
    return BinOp("&&", BinOp(">=", e, Const(-(1 << (w - 1)))), BinOp("<", e, Const(1 << (w - 1))))


@dataclass(frozen=True)
class Flags:
    """The four condition flags, each a 0/1 expression (Arm's names)."""

    n: Expr
    z: Expr
    c: Expr
    v: Expr


CLEAR = Flags(Const(0), Const(0), Const(0), Const(0))


NO_CARRY = Const(0)


def add_flags(a: Expr, b: Expr, w: int, carry_in: Expr = NO_CARRY) -> tuple[Expr, Flags]:
    """`a + b (+ carry)` of two `w`-bit patterns: the result's pattern and Arm's flags."""
    total = BinOp("+", a, b) if carry_in is NO_CARRY else BinOp("+", BinOp("+", a, b), carry_in)
    r = low(total, w)
    signed_sum = BinOp("+", signed(a, w), signed(b, w))
    if carry_in is not NO_CARRY:
        signed_sum = BinOp("+", signed_sum, carry_in)
    overflow = UnOp("!", _in_signed_range(signed_sum, w))
    return r, Flags(negative(r, w), BinOp("==", r, Const(0)), BinOp(">=", total, Const(1 << w)), overflow)


def sub_flags(a: Expr, b: Expr, w: int) -> tuple[Expr, Flags]:
    """`a - b` of two `w`-bit patterns: the result's pattern and Arm's flags (C: no borrow)."""
    r = low(BinOp("-", a, b), w)
    overflow = UnOp("!", _in_signed_range(BinOp("-", signed(a, w), signed(b, w)), w))
    return r, Flags(negative(r, w), BinOp("==", a, b), BinOp(">=", a, b), overflow)


def logic_flags(r: Expr, w: int) -> Flags:
    """Flags of a logical result (ANDS, TST; x86 AND/OR/XOR/TEST): C and V clear."""
    return Flags(negative(r, w), BinOp("==", r, Const(0)), Const(0), Const(0))


def _not(e: Expr) -> Expr:
    return UnOp("!", e)


def _and(a: Expr, b: Expr) -> Expr:
    return BinOp("&&", a, b)


def _or(a: Expr, b: Expr) -> Expr:
    return BinOp("||", a, b)


def arm_condition(code: str, f: Flags) -> Expr | None:
    """Whether Arm condition `code` (EQ, NE, ..., upper case) holds; None if unknown."""
    n, z, c, v = f.n, f.z, f.c, f.v
    same = BinOp("==", n, v)
    table: dict[str, Expr] = {
        "EQ": z, "NE": _not(z), "CS": c, "HS": c, "CC": _not(c), "LO": _not(c),
        "MI": n, "PL": _not(n), "VS": v, "VC": _not(v),
        "HI": _and(c, _not(z)), "LS": _or(_not(c), z),
        "GE": same, "LT": _not(same), "GT": _and(_not(z), same), "LE": _or(z, _not(same)),
        "AL": Const(1), "NV": Const(1),
    }
    return table.get(code)


def x86_condition(cc: str, f: Flags) -> Expr | None:
    """Whether x86 condition `cc` (e, ne, l, ...; the jump without its `j`) holds, with
    `f.c` being x86's CF (a borrow after a subtraction); None if unknown."""
    sf, zf, cf, of = f.n, f.z, f.c, f.v
    same = BinOp("==", sf, of)
    table: dict[str, Expr] = {
        "e": zf, "z": zf, "ne": _not(zf), "nz": _not(zf),
        "l": _not(same), "nge": _not(same), "ge": same, "nl": same,
        "g": _and(_not(zf), same), "nle": _and(_not(zf), same), "le": _or(zf, _not(same)), "ng": _or(zf, _not(same)),
        "b": cf, "c": cf, "nae": cf, "ae": _not(cf), "nb": _not(cf), "nc": _not(cf),
        "a": _and(_not(cf), _not(zf)), "nbe": _and(_not(cf), _not(zf)), "be": _or(cf, zf), "na": _or(cf, zf),
        "s": sf, "ns": _not(sf), "o": of, "no": _not(of),
    }
    return table.get(cc)
