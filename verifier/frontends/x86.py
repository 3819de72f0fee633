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
from types import MappingProxyType
from typing import Final

from verifier.errors import InputError, Pos, unsupported
from verifier.frontends.common import (
    RegNormalizer,
    Token,
    TokenStream,
    blank_comments,
    find_tail,
    header,
    parse_init,
    parse_tail,
    pos_of,
    read_expectations,
    tokenize,
)
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
    Atom,
    BinOp,
    Const,
    Expr,
    Litmus,
    LocAddr,
    Location,
    MemObs,
    Prop,
    Reg,
    Thread,
    prop_atoms,
)

# --------------------------------------------------------------------------- registers

# herd's X86 general-purpose registers (its parser is case-sensitive: `eax` is a name).
_X86_REGS: Final = frozenset({"EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP", "ESP"})
# The init block and the condition may also name the program counter.
_X86_STATE_REGS: Final = _X86_REGS | {"EIP"}


def _x86_64_aliases() -> dict[str, str]:
    """Every lower-case X86_64 register name -> the 64-bit register it is part of."""
    table: dict[str, str] = {}
    for b in "abcd":
        for alias in (f"r{b}x", f"e{b}x", f"{b}x", f"{b}l", f"{b}h"):
            table[alias] = f"r{b}x"
    for b in ("si", "di", "bp", "sp"):
        for alias in (f"r{b}", f"e{b}", b, f"{b}l"):
            table[alias] = f"r{b}"
    for k in range(8, 16):
        for alias in (f"r{k}", f"r{k}d", f"r{k}w", f"r{k}b"):
            table[alias] = f"r{k}"
    # Special registers are ordinary registers here (0 unless initialised).
    for special in ("rip", "cs", "ds", "es", "fs", "gs", "ss"):
        table[special] = special
    return table


_X86_64_REGS: Final[Mapping[str, str]] = MappingProxyType(_x86_64_aliases())
_SEGMENTS: Final = frozenset({"cs", "ds", "es", "fs", "gs", "ss"})


def _norm_x86(tid: int, name: str, pos: Pos) -> str:
    if name in _X86_STATE_REGS:
        return name
    hint = f" (X86 register names are upper case: '{name.upper()}')" if name.upper() in _X86_STATE_REGS else ""
    raise InputError(pos, f"unknown X86 register '{name}'{hint}")


def _norm_x86_64(tid: int, name: str, pos: Pos) -> str:
    canon = _X86_64_REGS.get(name.removeprefix("%").lower())
    if canon is None:
        raise InputError(pos, f"unknown X86_64 register '{name}'")
    return canon


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

    def __init__(self, text: str, start: int, end: int, path: str, arch: str) -> None:
        super().__init__(text, TokenStream(text, tokenize(text, start, end, path, _TOKEN, " in the program"), path), path)
        self.arch = arch
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
            items.append(self.instruction())
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
        mn = mnemonic(word.text)
        if mn is None:
            raise unsupported(ts.error(word, f"unsupported {self.arch} instruction {word.text!r}"))
        if lock and mn not in LOCKABLE:
            raise ts.error(first, f"LOCK prefix is not allowed on {word.text}")
        pos = self.pos(first)
        if mn in JUMPS:
            t = ts.next()
            if t.kind != "name":
                raise ts.error(t, f"expected a label after {word.text}")
            self.expect_cell_end()
            return Ins(mn, word.text, lock, (), t.text, pos)
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
        return Ins(mn, word.text, lock, tuple(ops), None, pos)

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
            reg = self.att_reg(t)
            if ts.accept(":"):
                if reg not in _SEGMENTS:
                    raise ts.error(t, f"'{t.text}' is not a segment register")
                return self.att_memory()
            return RegOp(reg)
        if t.kind == "num" and ts.peek(1).text != "(":
            ts.next()
            return Imm(Const(_to_int(t.text)))  # herd reads a bare number as an immediate
        if t.kind == "name" and t.text.lower() in _X86_64_REGS and ts.peek(1).text != "(":
            ts.next()
            return RegOp(_X86_64_REGS[t.text.lower()])  # herd also accepts registers without '%'
        return self.att_memory()

    def immediate(self) -> Expr:
        t = self.ts.next()
        if t.kind == "num":
            return Const(_to_int(t.text))
        if t.kind == "name":
            return self.location(t)
        raise self.ts.error(t, f"expected a number or a location name after '$', found {t.text!r}")

    def location(self, t: Token) -> LocAddr:
        self.names.append((t.offset, t.text))
        return LocAddr(t.text)

    def intel_operand(self) -> Operand:
        ts = self.ts
        t = ts.next()
        if t.kind == "num":
            return Imm(Const(_to_int(t.text)))
        if t.kind == "name" and t.text in _X86_REGS:
            return RegOp(t.text)
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


def _program_start(text: str, after_header: int, path: str) -> int:
    """Offset from which to look for the init block: after the optional doc string, which
    may contain braces."""
    i = after_header
    while i < len(text) and text[i].isspace():
        i += 1
    if i < len(text) and text[i] == '"':
        close = text.find('"', i + 1)
        if close < 0:
            raise InputError(pos_of(text, i, path), "unterminated doc string '\"'")
        return close + 1
    return i


def parse_x86(text: str, path: str) -> Litmus:
    """Parse an `X86` or `X86_64` litmus test into the program IR."""
    src = blank_comments(text, path)  # in assembly, `(* ... *)` is a comment everywhere
    arch, name, after_header = header(src, path)
    if arch not in ("X86", "X86_64"):
        raise InputError(Pos(path, 1, 1), f"expected an X86 or X86_64 litmus test, found {arch!r}")
    norm: RegNormalizer = _norm_x86 if arch == "X86" else _norm_x86_64
    init_from = _program_start(src, after_header, path)
    init = parse_init(src, init_from, path, norm)
    tail_at = find_tail(src, init.end)
    table = _TableParser(src, init.end, tail_at, path, arch)
    columns = table.parse()
    tail = parse_tail(src, tail_at, path, norm)

    for tid, reg, _ in init.registers:
        if tid >= len(columns):
            raise InputError(
                pos_of(src, src.find("{", init_from), path),
                f"the init block sets register {tid}:{reg} but there is no thread P{tid}",
            )
    threads = tuple(
        Thread(
            tid,
            lower_thread(arch, f"P{tid}", items),
            tuple((reg, value) for t, reg, value in init.registers if t == tid),
        )
        for tid, items in enumerate(columns)
    )

    # Locations in order of first appearance: init block, program, tail.
    order: list[str] = [n for n, _, _ in init.memory]
    order += [v.name for _, v, _ in init.memory if isinstance(v, LocAddr)]
    order += [v.name for _, _, v in init.registers if isinstance(v, LocAddr)]
    order += [n for _, n in sorted(table.names)]
    props: list[Prop] = [Atom(o, 0) for o in tail.observed]
    props += [tail.filter] if tail.filter is not None else []
    for atom in (a for p in [*props, tail.condition.prop] for a in prop_atoms(p)):
        if isinstance(atom.obs, MemObs):
            order.append(atom.obs.loc)
        if isinstance(atom.value, str):
            order.append(atom.value)
    declared = {n: (v, ctype) for n, v, ctype in init.memory}
    locations = tuple(
        Location(n, *declared.get(n, (Const(0), None))) for n in dict.fromkeys(order)
    )
    return Litmus(
        arch=arch,
        name=name,
        path=path,
        threads=threads,
        locations=locations,
        condition=tail.condition,
        observed=tail.observed,
        filter=tail.filter,
        expected=read_expectations(text),
    )
