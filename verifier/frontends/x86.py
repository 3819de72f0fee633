"""Front end for herd's `X86` (Intel syntax) and `X86_64` (AT&T syntax) litmus tests.

Layout: the header line, an optional doc string and `Key=value` lines (ignored), the init
block, the program table (`P0 | P1 ;`, then rows of `|`-separated cells ending in `;`)
and the tail.  Each cell is parsed into a small syntax tree (`x86_lower.Ins`/`Lbl`) whose
operands are in *Intel order* (destination first) -- AT&T operands are reversed when read
-- so one lowering (`x86_lower`) serves both dialects.

Register names follow herd's printing of final states: X86 keeps its upper-case names as
written (`EAX`); X86_64 maps every alias of a register to its 64-bit lower-case name
(`%eax`, `EAX`, `ax` -> `rax`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Final

from verifier.errors import InputError, Pos, Unsupported, unsupported
from verifier.frontends.asm_test import assemble, refuse_extensions
from verifier.frontends.common import (
    RegNormalizer,
    Token,
    TokenStream,
    blank_comments,
    header,
    skip_preamble,
    tokenize,
    within_threads,
)
from verifier.frontends.condition import find_tail, parse_tail
from verifier.frontends.init import parse_init
from verifier.frontends.table import ProgramTable
from verifier.frontends.x86_lower import (
    ARITY,
    JUMPS,
    LOCKABLE,
    NOPS,
    Imm,
    Ins,
    Item,
    Lbl,
    Mem,
    Operand,
    RegOp,
    lower_thread,
    mnemonic,
)
from verifier.program.ast import (
    BinOp,
    Const,
    Expr,
    Litmus,
    LocAddr,
    Reg,
)

# --------------------------------------------------------------------------- registers

# herd's X86 general-purpose registers (its parser is case-sensitive: `eax` is a name).
_X86_REGS: Final = frozenset({"EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP", "ESP"})
# The init block and the condition may also name the program counter.
_X86_STATE_REGS: Final = _X86_REGS | {"EIP"}


def _x86_64_aliases() -> dict[str, tuple[str, int]]:
    """Every lower-case X86_64 register name -> the 64-bit register it is part of, and the
    width it names (`eax` -> rax, 32).  The high-byte names (`ah`) are refused when used."""
    table: dict[str, tuple[str, int]] = {}
    for b in "abcd":
        for alias, bits in ((f"r{b}x", 64), (f"e{b}x", 32), (f"{b}x", 16), (f"{b}l", 8), (f"{b}h", 0)):
            table[alias] = (f"r{b}x", bits)
    for b in ("si", "di", "bp", "sp"):
        for alias, bits in ((f"r{b}", 64), (f"e{b}", 32), (b, 16), (f"{b}l", 8)):
            table[alias] = (f"r{b}", bits)
    for k in range(8, 16):
        for alias, bits in ((f"r{k}", 64), (f"r{k}d", 32), (f"r{k}w", 16), (f"r{k}b", 8)):
            table[alias] = (f"r{k}", bits)
    # Special registers are ordinary registers here (0 unless initialised).
    for special in ("rip", "cs", "ds", "es", "fs", "gs", "ss"):
        table[special] = (special, 64)
    return table


_X86_64_REGS: Final[Mapping[str, tuple[str, int]]] = MappingProxyType(_x86_64_aliases())
_SEGMENTS: Final = frozenset({"cs", "ds", "es", "fs", "gs", "ss"})


def _norm_x86(tid: int, name: str, pos: Pos) -> str:
    if name in _X86_STATE_REGS:
        return name
    hint = f" (X86 register names are upper case: '{name.upper()}')" if name.upper() in _X86_STATE_REGS else ""
    raise InputError(pos, f"unknown X86 register '{name}'{hint}")


def _norm_x86_64(tid: int, name: str, pos: Pos) -> str:
    return _reg_x86_64(name, pos).name


def _reg_x86_64(name: str, pos: Pos) -> RegOp:
    entry = _X86_64_REGS.get(name.removeprefix("%").lower())
    if entry is None:
        raise InputError(pos, f"unknown X86_64 register '{name}'")
    if entry[1] == 0:
        raise Unsupported(pos, f"unsupported X86_64 register '{name}' (the high byte of a register)")
    return RegOp(*entry)


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>-?(?:0[xX][0-9a-fA-F]+|[0-9]+)(?!\w))
  | (?P<reg>%[A-Za-z]\w*)
  | (?P<name>[A-Za-z_][\w.]*)
  | (?P<op>[;|,()\[\]:+*$])
    """,
    re.VERBOSE,
)


def _to_int(text: str) -> int:
    """A decimal or hexadecimal literal (Python's base-0 parsing rejects `08`)."""
    body = text.removeprefix("-")
    value = int(body[2:], 16) if body[:2].lower() == "0x" else int(body, 10)
    return -value if text.startswith("-") else value


# --------------------------------------------------------------------------- the program table


class _TableParser(ProgramTable[Item]):
    """The X86 cells; also records the locations named by operands with their offsets (for
    order of first appearance)."""

    def __init__(self, text: str, start: int, end: int, path: str, arch: str, arrays: frozenset[str] = frozenset()) -> None:
        super().__init__(text, TokenStream(text, tokenize(text, start, end, path, _TOKEN, " in the program"), path), path)
        self.arch = arch
        self.arrays = arrays  # an array's name in an operand is its first cell's address
        self.names: list[tuple[int, str]] = []

    def expect_cell_end(self) -> None:
        t = self.ts.peek()
        if not self.at_cell_end():
            raise self.ts.error(t, f"unexpected {t.text!r}: expected ',', '|' or ';'")

    def cell(self) -> list[Item]:
        ts = self.ts
        items: list[Item] = []
        while ts.peek().kind == "name" and ts.peek(1).text == ":":
            t = ts.next()
            ts.next()
            items.append(Lbl(t.text, self.pos(t)))
        if not self.at_cell_end():
            first = ts.i
            ins = self.instruction()
            last = ts.toks[ts.i - 1]
            written = ts.text[ts.toks[first].offset:last.offset + len(last.text)]
            items.append(replace(ins, text=" ".join(written.split())))
        return items

    def instruction(self) -> Ins:
        ts = self.ts
        first = word = ts.next()
        if first.kind != "name":
            raise ts.error(first, f"expected an instruction, found {first.text!r}")
        lock = first.text.lower() == "lock"
        if lock:
            if ts.at(";") and ts.peek(1).kind == "name":
                ts.next()  # herd accepts `LOCK; ADD [x],$1`
            word = ts.next()
            if word.kind != "name":
                raise ts.error(word, "expected an instruction after LOCK")
        found = mnemonic(word.text)
        if found is None:
            raise unsupported(ts.error(word, f"unsupported {self.arch} instruction {word.text!r}"))
        mn, size = found
        if lock and mn not in LOCKABLE:
            raise ts.error(first, f"LOCK prefix is not allowed on {word.text}")
        pos = self.pos(first)
        if mn in JUMPS:
            t = ts.next()
            if t.kind != "name":
                raise ts.error(t, f"expected a label after {word.text}")
            self.expect_cell_end()
            return Ins(mn, word.text, lock, (), t.text, pos, size)
        seen = len(self.names)
        ops: list[Operand] = []
        if not self.at_cell_end():
            ops.append(self.operand())
            while ts.accept(","):
                ops.append(self.operand())
        self.expect_cell_end()
        if mn in NOPS:
            del self.names[seen:]  # a no-op's operands name nothing
        elif len(ops) not in ARITY[mn]:
            want = " or ".join(str(n) for n in ARITY[mn])
            raise InputError(pos, f"{word.text} takes {want} operand(s), found {len(ops)}")
        if self.arch == "X86_64":
            ops.reverse()  # AT&T: source first
        return Ins(mn, word.text, lock, tuple(ops), None, pos, size)

    # ----- operands

    def operand(self) -> Operand:
        ts = self.ts
        t = ts.peek()
        if ts.accept("$"):
            return Imm(self.immediate())
        if self.arch == "X86":
            return self.intel_operand()
        if t.kind == "reg":
            ts.next()
            reg = _reg_x86_64(t.text, self.pos(t))
            if ts.accept(":"):
                if reg.name not in _SEGMENTS:
                    raise ts.error(t, f"'{t.text}' is not a segment register")
                return self.att_memory()
            return reg
        if t.kind == "num" and ts.peek(1).text != "(":
            ts.next()
            return Imm(Const(_to_int(t.text)))  # herd reads a bare number as an immediate
        if t.kind == "name" and t.text.lower() in _X86_64_REGS and ts.peek(1).text != "(":
            ts.next()
            return _reg_x86_64(t.text, self.pos(t))  # herd also accepts registers without '%'
        return self.att_memory()

    def immediate(self) -> Expr:
        t = self.ts.next()
        if t.kind == "num":
            return Const(_to_int(t.text))
        if t.kind == "name":
            return self.location(t)
        raise self.ts.error(t, f"expected a number or a location name after '$', found {t.text!r}")

    def location(self, t: Token) -> LocAddr:
        name = f"{t.text}[0]" if t.text in self.arrays else t.text
        self.names.append((t.offset, name))
        return LocAddr(name)

    def intel_operand(self) -> Operand:
        ts = self.ts
        t = ts.next()
        if t.kind == "num":
            return Imm(Const(_to_int(t.text)))
        if t.kind == "name" and t.text in _X86_REGS:
            return RegOp(t.text, 32)
        if t.text == "[":
            addr = self.sum(intel=True)
            ts.expect("]", "']'")
            return Mem(addr)
        if t.kind == "name":
            if t.text.upper() in _X86_REGS:
                _norm_x86(0, t.text, self.pos(t))  # explains the upper-case rule
            raise ts.error(t, f"bad operand {t.text!r}: write [{t.text}] for a memory location")
        raise ts.error(t, f"expected an operand, found {t.text or 'end of input'!r}")

    def sum(self, intel: bool) -> Expr:
        """`term (+ term)*` where a term is a number, a location or (Intel) `REG[*scale]`."""
        ts = self.ts
        out: Expr | None = None
        while True:
            t = ts.next()
            term: Expr
            if t.kind == "num":
                term = Const(_to_int(t.text))
            elif intel and t.kind == "name" and t.text in _X86_REGS:
                term = Reg(t.text)
                if ts.accept("*"):
                    term = BinOp("*", term, self.number())
            elif t.kind == "name":
                term = self.location(t)
            else:
                raise ts.error(t, f"expected an address, found {t.text or 'end of input'!r}")
            out = term if out is None else BinOp("+", out, term)
            # `x-8` lexes as `x` then `-8`: a negative number continues the sum.
            if not ts.accept("+") and not (ts.peek().kind == "num" and ts.peek().text.startswith("-")):
                return out

    def number(self) -> Const:
        t = self.ts.next()
        if t.kind != "num":
            raise self.ts.error(t, f"expected a number, found {t.text or 'end of input'!r}")
        return Const(_to_int(t.text))

    def att_reg(self, t: Token) -> str:
        return _norm_x86_64(0, t.text, self.pos(t))

    def att_memory(self) -> Mem:
        """`disp`, `(x)`, `disp(base)`, `disp(base,index,scale)`; `x(%rip)` is `x`."""
        ts = self.ts
        t = ts.peek()
        disp = self.sum(intel=False) if t.kind in ("num", "name") else None
        if not ts.accept("("):
            if disp is None:
                raise ts.error(t, f"expected an operand, found {t.text or 'end of input'!r}")
            return Mem(disp)
        terms: list[Expr] = [] if disp is None or disp == Const(0) else [disp]
        if not ts.at(",") and not ts.at(")"):
            b = ts.next()
            if b.kind == "reg" or (b.kind == "name" and b.text.lower() in _X86_64_REGS):
                base = self.att_reg(b)
                if base != "rip" or not terms:  # rip-relative: the displacement is the location
                    terms.append(Reg(base))
            elif b.kind == "name":
                terms.append(self.location(b))
            else:
                raise ts.error(b, f"expected a base register or a location, found {b.text!r}")
        if ts.accept(","):
            i = ts.next()
            if i.kind != "reg":
                raise ts.error(i, f"expected an index register, found {i.text or 'end of input'!r}")
            index: Expr = Reg(self.att_reg(i))
            if ts.accept(","):
                scale = self.number()
                index = index if scale == Const(1) else BinOp("*", index, scale)
            terms.append(index)
        ts.expect(")", "')'")
        if not terms:
            return Mem(Const(0))
        addr = terms[0]
        for term in terms[1:]:
            addr = BinOp("+", addr, term)
        return Mem(addr)


# --------------------------------------------------------------------------- the test


def parse_x86(text: str, path: str) -> Litmus:
    """Parse an `X86` or `X86_64` litmus test into the program IR."""
    src = blank_comments(text, path)  # in assembly, `(* ... *)` is a comment everywhere
    arch, name, after_header = header(src, path)
    if arch not in ("X86", "X86_64"):
        raise InputError(Pos(path, 1, 1), f"expected an X86 or X86_64 litmus test, found {arch!r}")
    norm: RegNormalizer = _norm_x86 if arch == "X86" else _norm_x86_64
    init_at, info = skip_preamble(src, after_header, path)
    refuse_extensions(src, path, info)
    init = parse_init(src, init_at, path, norm)
    tail_at = find_tail(src, init.end)
    table = _TableParser(src, init.end, tail_at, path, arch, frozenset(a for a, _ in init.arrays))
    columns = table.parse()
    tail = parse_tail(src, tail_at, path, within_threads(norm, len(columns)), dict(init.arrays))
    threads = [lower_thread(arch, f"P{tid}", items) for tid, items in enumerate(columns)]
    names = [n for _, n in sorted(table.names)]
    return assemble(arch, name, path, src, init_at, init, tail, threads, info, text, names, 32 if arch == "X86" else 64)


def program_items(text: str, path: str) -> list[list[Item]]:
    """The program table's parsed cells, one list of items per thread (syntax only: what the
    test oracle's own machine executes)."""
    src = blank_comments(text, path)
    arch, _, after_header = header(src, path)
    norm: RegNormalizer = _norm_x86 if arch == "X86" else _norm_x86_64
    init_at, _ = skip_preamble(src, after_header, path)
    init = parse_init(src, init_at, path, norm)
    return _TableParser(src, init.end, find_tail(src, init.end), path, arch, frozenset(a for a, _ in init.arrays)).parse()
