"""The init block `{ ... }` of a herd litmus test (herd7's `stateParser.mly`, `init`).

Items, separated by `;` (the last one may end without it):

    x=1   [x]=1   x=y (y's address)   x=&y   0:r=1   0:r=x   P0:r=1
    int x   int x=1   uint64_t x=0x10   int *p=x   atomic_t v = ATOMIC_INIT(1)
    int 0:r   uint64_t 0:X0=x              (a typed register)
    int t[2]   int t[2]={1,2}              (an array: one location per cell, `t[0]`, `t[1]`)

An array's name used as a value is the address of its first cell.  Register names are passed
through the dialect's normalizer (`W2` is `X2` in AArch64).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifier.errors import InputError, Unsupported
from verifier.frontends.common import RegNormalizer, TokenStream, identity_reg, number, pos_of, tokenize
from verifier.program.ast import Const, Expr, LocAddr


@dataclass(frozen=True)
class InitBlock:
    """Shared locations (name, initial value, C type if declared) in order of appearance,
    initial register values and declared register types per thread, and the arrays (name ->
    number of cells; their cells are locations `t[i]` in `memory`)."""

    memory: tuple[tuple[str, Expr, str | None], ...]
    registers: tuple[tuple[int, str, Expr], ...]
    end: int  # offset just after the closing '}'
    reg_types: tuple[tuple[int, str, str], ...] = ()
    arrays: tuple[tuple[str, int], ...] = ()


TYPE_WORDS = frozenset(
    {"int", "long", "short", "char", "unsigned", "signed", "atomic_t", "atomic64_t", "atomic_long_t",
     "spinlock_t", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t",
     "uint32_t", "uint64_t", "intptr_t", "uintptr_t", "void", "const", "volatile", "_Atomic"}
)


def parse_init(text: str, start: int, path: str, norm: RegNormalizer = identity_reg) -> InitBlock:
    """Parse `{ ... }` starting at the first '{' at or after `start`."""
    i = text.find("{", start)
    if i < 0:
        raise InputError(pos_of(text, start, path), "missing init block '{ ... }'")
    depth = 0
    j = i
    while j < len(text):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                break
        j += 1
    if depth != 0:
        raise InputError(pos_of(text, i, path), "unterminated init block '{'")
    ts = TokenStream(text, tokenize(text, i + 1, j, path), path)
    memory: dict[str, tuple[Expr, str | None]] = {}
    order: list[str] = []
    registers: list[tuple[int, str, Expr]] = []
    reg_types: list[tuple[int, str, str]] = []
    arrays: dict[str, int] = {}
    while ts.peek().kind != "eof":
        if ts.accept(";"):
            continue
        ctype_words: list[str] = []
        while ts.peek().text in TYPE_WORDS and ts.peek(1).text not in ("=", ";"):
            ctype_words.append(ts.next().text)
        # herd7 reads any name before a location as its type (`ins_t *y`, `pteval_t x`); an
        # unknown one is reported by the dialect with its position.
        if not ctype_words and ts.peek().kind == "id" and _type_follows(ts):
            ctype_words.append(ts.next().text)
        pointer = False
        while ts.accept("*"):
            pointer = True
        ctype = " ".join(ctype_words) + ("*" if pointer else "") if ctype_words or pointer else None
        t = ts.peek()
        proc = t.kind == "id" and t.text[:1] == "P" and t.text[1:].isdigit() and ts.peek(1).text == ":"
        if (t.kind == "num" or proc) and ts.peek(1).text == ":":
            ts.next()
            ts.next()
            r = ts.next()
            if r.kind != "id":
                raise ts.error(r, "expected a register name in the init block")
            if t.kind == "num" and not t.text.isdigit():
                raise ts.error(t, f"bad thread number {t.text!r}")
            tid = int(t.text.lstrip("P"))
            reg = norm(tid, r.text, ts.pos(r))
            if any(x == tid and y == reg for x, y, _ in registers):
                raise ts.error(r, f"register {tid}:{r.text} is initialised more than once")  # herd7 refuses it too
            value: Expr = Const(0)
            if ts.accept("="):
                value = _init_value(ts)
            registers.append((tid, reg, value))
            if ctype is not None:
                reg_types.append((tid, reg, ctype))
        else:
            bracket = ts.accept("[")
            n = ts.next()
            if n.kind != "id":
                raise ts.error(n, f"expected a location name in the init block, found {n.text!r}")
            if bracket:
                ts.expect("]")
            if ts.at("["):
                if n.text in memory or n.text in arrays:
                    raise ts.error(n, f"location {n.text} is initialised more than once")
                cells = _array(ts, n, ctype)
                arrays[n.text] = len(cells)
                for cell, v in cells:
                    if cell in memory:
                        raise ts.error(n, f"location {cell} is initialised more than once")
                    order.append(cell)
                    memory[cell] = (v, ctype)
                if ts.peek().kind != "eof":
                    ts.expect(";", "';' between init items")
                continue
            value = Const(0)
            if ts.accept("="):
                value = _init_value(ts)
            if n.text in memory or n.text in arrays:
                raise ts.error(n, f"location {n.text} is initialised more than once")  # herd7 refuses it too
            order.append(n.text)
            memory[n.text] = (value, ctype)
        if ts.peek().kind != "eof":
            ts.expect(";", "';' between init items")

    def cell0(v: Expr) -> Expr:
        # An array's name as a value is the address of its first cell.
        return LocAddr(f"{v.name}[0]") if isinstance(v, LocAddr) and v.name in arrays else v

    return InitBlock(
        tuple((n, cell0(memory[n][0]), memory[n][1]) for n in order),
        tuple((t, r, cell0(v)) for t, r, v in registers),
        j + 1,
        tuple(reg_types),
        tuple(arrays.items()),
    )


def _type_follows(ts: TokenStream) -> bool:
    """Whether the name at the cursor is a type: a location (a name, `*name`, `N:reg`)
    follows it."""
    nxt = ts.peek(1)
    return nxt.kind == "id" or nxt.text == "*" or (nxt.kind == "num" and ts.peek(2).text == ":")


def _array(ts: TokenStream, name: object, ctype: str | None) -> list[tuple[str, Expr]]:
    """`t[N]` or `t[N] = {v0, v1, ...}`: one location per cell, named `t[i]`."""
    text = getattr(name, "text", "")
    ts.expect("[")
    size = ts.next()
    if size.kind != "num" or not size.text.isdigit() or int(size.text) == 0:
        raise ts.error(size, f"expected an array size for '{text}'")
    if int(size.text) > 64:
        raise Unsupported(ts.pos(size), f"unsupported: an array of {size.text} cells (at most 64)")
    ts.expect("]")
    if ctype is None:
        raise ts.error(ts.toks[ts.i - 1], f"array '{text}' needs an element type (e.g. int64_t)")
    values: list[Expr] = [Const(0)] * int(size.text)
    if ts.accept("="):
        ts.expect("{")
        k = 0
        while not ts.accept("}"):
            if k >= len(values):
                raise ts.error(ts.peek(), f"too many initial values for '{text}[{size.text}]'")
            values[k] = _init_value(ts)
            k += 1
            if not ts.at("}"):
                ts.expect(",", "',' between array values")
    return [(f"{text}[{i}]", v) for i, v in enumerate(values)]


def _init_value(ts: TokenStream) -> Expr:
    t = ts.peek()
    if ts.accept("ATOMIC_INIT"):
        ts.expect("(")
        v = _init_value(ts)
        ts.expect(")")
        return v
    if ts.accept("&"):
        n = ts.next()
        if n.kind != "id":
            raise ts.error(n, "expected a location name after '&'")
        return _cell_address(ts, n.text)
    if ts.accept("-"):
        n = ts.next()
        if n.kind != "num":
            raise ts.error(n, "expected a number after '-'")
        return Const(-number(n.text))
    ts.next()
    if t.kind == "num":
        return Const(number(t.text))
    if t.kind == "str" or (t.text == "instr" and ts.at(":")):
        raise Unsupported(ts.pos(t), "unsupported initial value: an instruction (self-modifying code)")
    if t.kind == "id" and ts.at(":"):
        if not re.fullmatch(r"P?\d+", t.text):
            # `x:red`: a location with a memory tag
            raise Unsupported(ts.pos(t), f"unsupported: memory tags ('{t.text}:...': herd7's MTE model)")
        raise Unsupported(ts.pos(t), f"unsupported initial value '{t.text}:...' (a code label: self-modifying code)")
    if t.kind == "id":
        return _cell_address(ts, t.text)
    raise ts.error(t, f"expected an initial value, found {t.text or 'end of input'!r}")


def _cell_address(ts: TokenStream, name: str) -> LocAddr:
    """`x`, or `t[i]`: the address of an array's cell."""
    if not ts.accept("["):
        return LocAddr(name)
    i = ts.next()
    if i.kind != "num" or not i.text.isdigit():
        raise ts.error(i, f"expected a cell index after '{name}['")
    ts.expect("]")
    return LocAddr(f"{name}[{int(i.text)}]")
