"""Front end for herd's `AArch64` litmus tests.

Layout: the header line `AArch64 NAME`, an optional doc string and `Key=value` lines
(`Unroll=N` is read), the init block, the program table (`P0 | P1 ;`, then rows of
`|`-separated cells ending in `;`) and the tail.  Each cell is parsed into a small syntax tree
(`aarch64_lower.Ins`/`Lbl`), which `aarch64_lower` turns into the IR.

Registers: `Wn` and `Xn` (n = 0..30) are one register, named `Xn` everywhere in the IR, as
herd prints final states (`0:X0`); `WZR`/`XZR` are the zero register.  Mnemonics and
register names are read case-insensitively.  Anything outside the supported subset is an
error naming it, never an approximation.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final, Literal

from verifier.errors import InputError, Pos, Unsupported, unsupported
from verifier.frontends.aarch64_lower import (
    EXTENDS,
    KNOWN,
    SHIFTS,
    SIMD_REGISTER,
    Imm,
    Index,
    Ins,
    Item,
    Lbl,
    Mem,
    Operand,
    RegOp,
    Shift,
    Sym,
    condition_holds,
    lower_thread,
)
from verifier.frontends.asm_test import assemble, refuse_extensions
from verifier.frontends.common import (
    Token,
    TokenStream,
    blank_comments,
    header,
    number,
    pos_of,
    skip_preamble,
    tokenize,
    within_threads,
)
from verifier.frontends.condition import find_tail, parse_tail
from verifier.frontends.init import parse_init
from verifier.frontends.table import ProgramTable
from verifier.program.ast import Litmus

# --------------------------------------------------------------------------- registers

_REG: Final = re.compile(r"([WX])(ZR|\d+)", re.I)
# Registers that exist but that the IR does not model (stack pointer, 31 as a number).
_UNSUPPORTED_REGS: Final = frozenset({"SP", "WSP"})


def _register(text: str, pos: Pos) -> RegOp | None:
    """The register `text` names; None if it does not look like one; an error for SP or
    an out-of-range number."""
    m = _REG.fullmatch(text)
    if m is None:
        if text.upper() in _UNSUPPORTED_REGS:
            raise Unsupported(pos, f"unsupported AArch64 register '{text}' (only W0-W30, X0-X30, WZR, XZR)")
        return None
    wide = m.group(1).upper() == "X"
    if m.group(2).upper() == "ZR":
        return RegOp(None, wide, text, pos)
    n = int(m.group(2))
    if n > 30:
        raise InputError(pos, f"unknown AArch64 register '{text}'")
    return RegOp(f"X{n}", wide, text, pos)


ZERO: Final = "XZR"  # the zero register as a condition names it (herd prints `0:XZR=0`)


def _norm(tid: int, name: str, pos: Pos) -> str:
    """Register names in the init block, `locations` and the condition: `W2` is `X2`; the
    zero register is `XZR`, which no instruction writes (so it reads 0)."""
    reg = _register(name, pos)
    if reg is None:
        if re.fullmatch(r"\w+_EL[0-3]", name, re.I):
            raise Unsupported(pos, f"unsupported AArch64 system register '{name}'")
        if SIMD_REGISTER.fullmatch(name):
            raise Unsupported(pos, f"unsupported: SIMD, floating-point and SVE registers ('{name}')")
        raise InputError(pos, f"unknown AArch64 register '{name}'")
    return reg.name or ZERO


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>-?(?:0[xX][0-9a-fA-F]+|[0-9]+)(?!\w))
  | (?P<name>[A-Za-z_][\w.]*)
  | (?P<op>[;|,\[\]:\#!])
  | (?P<herd>%\w+|"[^"\n]*"|\.[+-]?\d*)
    """,
    re.VERBOSE,
)
# herd7 constructs no model here gives a meaning to: symbolic registers, instructions as
# values, branches relative to the program counter.
_HERD_ONLY = {"%": "symbolic registers", '"': "instructions as values", ".": "branches relative to the program counter"}


# --------------------------------------------------------------------------- the program table


class _TableParser(ProgramTable[Item]):
    """The AArch64 cells: labels and one instruction with its operands."""

    def __init__(self, text: str, start: int, end: int, path: str) -> None:
        super().__init__(text, TokenStream(text, tokenize(text, start, end, path, _TOKEN, " in the program"), path), path)

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
        word = ts.next()
        if word.kind != "name":
            raise ts.error(word, f"expected an instruction, found {word.text!r}")
        mn = self.mnemonic(word)
        ops: list[Operand] = []
        if not self.at_cell_end():
            ops.append(self.operand())
            while ts.accept(","):
                ops.append(self.operand())
        if not self.at_cell_end():
            t = ts.peek()
            raise ts.error(t, f"unexpected {t.text!r}: expected ',', '|' or ';'")
        return Ins(mn, word.text, tuple(ops), self.pos(word))

    def mnemonic(self, word: Token) -> str:
        up = word.text.upper()
        if up.startswith("B.") and len(up) > 2:
            condition_holds(word.text[2:], self.pos(word, 2))  # names an unknown code
            return up
        if up not in KNOWN:
            raise unsupported(self.ts.error(word, f"unsupported AArch64 instruction '{word.text}'"))
        return up

    # ----- operands

    def operand(self) -> Operand:
        ts = self.ts
        t = ts.peek()
        if t.kind == "herd":
            raise Unsupported(self.pos(t), f"unsupported: {_HERD_ONLY[t.text[0]]} ('{t.text}')")
        if t.text == "#":
            return self.immediate()
        if t.text == "[":
            return self.memory()
        if t.kind == "name":
            ts.next()
            up = t.text.upper()
            if up in SHIFTS or up in EXTENDS:
                amount = self.immediate().value if ts.at("#") or ts.peek().kind == "num" else None
                return Shift(up, amount, self.pos(t))
            return _register(t.text, self.pos(t)) or Sym(t.text, self.pos(t))
        if t.kind == "num":
            return self.immediate()  # herd7 reads a bare number as an immediate
        raise ts.error(t, f"expected an operand, found {t.text or 'end of input'!r}")

    def immediate(self) -> Imm:
        """`#n`, or the bare `n` herd7 also accepts."""
        start = self.ts.peek()
        self.ts.accept("#")
        t = self.ts.next()
        if t.kind != "num":
            raise self.ts.error(t, f"expected a number after '#', found {t.text or 'end of input'!r}")
        return Imm(number(t.text), self.pos(start))

    def memory(self) -> Mem:
        """`[Xn]`, `[Xn,#imm]`, `[Xn,Xm{,LSL #s}]`, `[Xn,Wm,SXTW|UXTW {#s}]`, `[Xn,Xm,SXTX {#s}]`,
        `[Xn,#imm]!` (pre-index) and `[Xn],#imm` (post-index)."""
        ts = self.ts
        open_ = ts.expect("[")
        b = ts.next()
        base = _register(b.text, self.pos(b)) if b.kind == "name" else None
        if base is None or base.name is None or not base.wide:
            raise ts.error(b, f"expected a base register X0-X30, found {b.text or 'end of input'!r}")
        imm: int | None = None
        index: Index | None = None
        if ts.accept(","):
            if ts.at("#") or ts.peek().kind == "num":
                imm = self.immediate().value
            else:
                index = self.index()
        ts.expect("]", "']'")
        mode: Literal["offset", "pre", "post"] = "offset"
        if ts.at("!"):
            if imm is None:
                raise ts.error(ts.peek(), "pre-index '!' needs an immediate offset '[Xn,#imm]!'")
            ts.next()
            mode = "pre"
        elif ts.at(",") and (ts.peek(1).text == "#" or ts.peek(1).kind == "num"):
            if imm is not None or index is not None:
                raise ts.error(ts.peek(1), "post-index needs a plain base '[Xn],#imm'")
            ts.next()
            imm, mode = self.immediate().value, "post"
        if mode == "offset" and imm == 0:
            imm = None
        return Mem(base.name, imm, index, mode, self.pos(open_))

    def index(self) -> Index:
        """An index register with its optional extension and shift."""
        ts = self.ts
        t = ts.next()
        reg = _register(t.text, self.pos(t)) if t.kind == "name" else None
        if reg is None:
            raise ts.error(t, f"expected an offset '#imm' or an index register, found {t.text or 'end of input'!r}")
        ext = ts.next() if ts.accept(",") else None
        kind = ext.text.upper() if ext is not None else None
        if ext is not None and kind not in ("SXTW", "UXTW", "LSL", "SXTX"):
            raise unsupported(ts.error(ext, f"unsupported index extension {ext.text!r} (expected SXTW, UXTW, SXTX or LSL)"))
        if not reg.wide and kind not in ("SXTW", "UXTW"):
            raise ts.error(t, f"a W index register needs SXTW or UXTW: '{t.text}'")
        shift = 0
        if ts.at("#") or ts.peek().kind == "num":
            shift = self.immediate().value
            if not 0 <= shift <= 4:
                raise ts.error(ts.toks[ts.i - 1], f"index shift must be 0 to 4, found {shift}")
        elif kind == "LSL":
            raise ts.error(ts.peek(), "LSL needs a shift amount '#s'")
        return Index(reg, kind, shift)


# --------------------------------------------------------------------------- the test


def program_items(text: str, path: str) -> list[list[Item]]:
    """The program table's parsed cells, one list of items per thread (syntax only: what the
    test oracle's own machine executes)."""
    src = blank_comments(text, path)
    _, _, after_header = header(src, path)
    init_at, _ = skip_preamble(src, after_header, path)
    init = parse_init(src, init_at, path, _norm)
    return _TableParser(src, init.end, find_tail(src, init.end), path).parse()


def parse_aarch64(text: str, path: str) -> Litmus:
    """Parse an `AArch64` litmus test into the program IR."""
    src = blank_comments(text, path)  # in assembly, `(* ... *)` is a comment everywhere
    arch, name, after_header = header(src, path)
    if arch != "AArch64":
        raise InputError(Pos(path, 1, 1), f"expected an AArch64 litmus test, found {arch!r}")
    init_at, info = skip_preamble(src, after_header, path)
    refuse_extensions(src, path, info)
    sym = src.find("%", init_at)
    if sym >= 0:  # `X%P0_x`, `uint64_t %P0_x=x` (tests compiled from C keep symbolic names)
        raise Unsupported(pos_of(src, sym, path), "unsupported: symbolic registers ('%')")
    init = parse_init(src, init_at, path, _norm)
    for _, reg, _ in init.registers:
        if reg == ZERO:
            raise InputError(pos_of(src, init_at, path), "the zero register has no state to set")
    tail_at = find_tail(src, init.end)
    # SIMD register lists (`LD1 {V0.4S},[X0]`) and SVE predicates (`P0/Z`): not modelled.
    m = re.compile(r"[{}]|/[ZM]\b", re.I).search(src, init.end, tail_at)
    if m:
        raise Unsupported(pos_of(src, m.start(), path), "unsupported: SIMD register lists and SVE predicates "
                          f"('{m.group()}' in the program)")
    columns = _TableParser(src, init.end, tail_at, path).parse()
    tail = parse_tail(src, tail_at, path, within_threads(_norm, len(columns)), dict(init.arrays))
    threads = [lower_thread(f"P{tid}", items) for tid, items in enumerate(columns)]
    return assemble(arch, name, path, src, init_at, init, tail, threads, info, text)
