"""AArch64 instructions, as parsed by `frontends.aarch64`, lowered to the program IR.

`Wn` and `Xn` name one register, `Xn` in the IR (herd prints final states as `0:X0`).  The
zero register reads as 0 and drops writes; a load into it still accesses memory (into the
pseudo-register `%zr`, which nothing reads).  Values are integers as elsewhere; only ADD and
SUB with a W destination wrap at 32 bits, as herd computes them.

Dependencies are computed later from register data flow, so the lowering is literal:
`EOR W4,W2,W2` stays `X2 ^ X2` (zero, yet data-dependent on X2).

The condition flags live in the pseudo-registers `%cmp_l`/`%cmp_r` as in the X86 lowering:
CMP records the pair it compared, and B.cond/CSEL compare the pair.  herd starts with NZCV
clear, which reads as "compared 1 with 0" (NE, GE, GT hold).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from verifier.errors import InputError, Pos, Unsupported, unsupported
from verifier.program.ast import (
    Assign,
    BinOp,
    Branch,
    Const,
    Expr,
    Fence,
    Goto,
    Instr,
    Ite,
    Label,
    Load,
    Old,
    Reg,
    Rmw,
    Store,
    StoreEx,
    UnOp,
)

FLAG_L: Final = "%cmp_l"
FLAG_R: Final = "%cmp_r"
ZERO_SINK: Final = "%zr"  # destination of a load into WZR/XZR
MASK32: Final = Const(0xFFFFFFFF)

# --------------------------------------------------------------------------- syntax


@dataclass(frozen=True)
class RegOp:
    """A general-purpose register: `name` is canonical (`X3`), None for WZR/XZR."""

    name: str | None
    wide: bool  # written Xn (64 bits) rather than Wn
    written: str
    pos: Pos


@dataclass(frozen=True)
class Imm:
    """`#1`, `#0x10`, `#-4`."""

    value: int
    pos: Pos


@dataclass(frozen=True)
class Mem:
    """`[base]`, `[base,offset]`, `[base,#imm]!` (pre-index), `[base],#imm` (post-index)."""

    base: str
    offset: Expr | None
    mode: Literal["offset", "pre", "post"]
    pos: Pos


@dataclass(frozen=True)
class Sym:
    """Any other word: a label, a condition code, a barrier option, or a bad register."""

    text: str
    pos: Pos


Operand = RegOp | Imm | Mem | Sym


@dataclass(frozen=True)
class Ins:
    """One instruction: `mnemonic` in upper case, `written` as in the file."""

    mnemonic: str
    written: str
    operands: tuple[Operand, ...]
    pos: Pos


@dataclass(frozen=True)
class Lbl:
    name: str
    pos: Pos


Item = Ins | Lbl

# --------------------------------------------------------------------------- instruction set

LOADS: Final[Mapping[str, str]] = MappingProxyType(
    {"LDR": "plain", "LDAR": "acquire", "LDAPR": "acquire-pc", "LDXR": "ex", "LDAXR": "ex-acquire"}
)
STORES: Final[Mapping[str, str]] = MappingProxyType({"STR": "plain", "STLR": "release"})
STORE_EX: Final[Mapping[str, str]] = MappingProxyType({"STXR": "ex", "STLXR": "ex-release"})
ALU: Final[Mapping[str, str]] = MappingProxyType({"ADD": "+", "SUB": "-", "EOR": "^", "AND": "&", "ORR": "|"})
# Signed condition codes: the comparison of (%cmp_l, %cmp_r) under which they hold.
CONDS: Final[Mapping[str, str]] = MappingProxyType(
    {"EQ": "==", "NE": "!=", "GE": ">=", "GT": ">", "LE": "<=", "LT": "<"}
)
# Codes that read the carry, sign or overflow flag alone: named as unsupported, since
# comparing unbounded integers cannot give them.
OTHER_CONDS: Final = frozenset({"HS", "LO", "HI", "LS", "CS", "CC", "MI", "PL", "VS", "VC", "AL", "NV"})
BARRIER_OPTIONS: Final = frozenset(
    {"SY", "ISH", "ISHLD", "ISHST", "LD", "ST", "OSH", "OSHLD", "OSHST", "NSH", "NSHLD", "NSHST"}
)
_ORDERING: Final = {"": "amo", "A": "amo-a", "L": "amo-l", "AL": "amo-al"}
_AMO_OPS: Final = ("ADD", "CLR", "EOR", "SET")


def _atomics() -> dict[str, tuple[str, str]]:
    """LSE atomic mnemonic -> (operation, class): CAS, SWP, LD<op> with A/L/AL suffixes,
    and ST<op> (LD<op> without result) with L only."""
    table: dict[str, tuple[str, str]] = {}
    for suffix, cls in _ORDERING.items():
        table[f"CAS{suffix}"] = ("CAS", cls)
        table[f"SWP{suffix}"] = ("SWP", cls)
        for op in _AMO_OPS:
            table[f"LD{op}{suffix}"] = (op, cls)
            if suffix in ("", "L"):
                table[f"ST{op}{suffix}"] = (f"ST{op}", cls)
    return table


ATOMICS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(_atomics())
BRANCHES: Final = frozenset({"B", "CBZ", "CBNZ"})  # and B.<cond>
ARITY: Final[Mapping[str, int]] = MappingProxyType(
    {
        **{m: 2 for m in (*LOADS, *STORES, "MOV", "CMP", "CBZ", "CBNZ")},
        **{m: 3 for m in (*STORE_EX, *ALU)},
        **{m: (2 if op.startswith("ST") else 3) for m, (op, _) in ATOMICS.items()},
        "CSEL": 4, "B": 1, "DMB": 1, "DSB": 1, "ISB": 0, "NOP": 0,
    }
)


def condition(code: str, pos: Pos) -> str:
    """The IR comparison for a condition code, or an error naming it."""
    c = code.upper()
    if c in CONDS:
        return CONDS[c]
    if c in OTHER_CONDS:
        raise Unsupported(pos, f"unsupported condition code '{code}'")
    raise InputError(pos, f"unknown condition code '{code}'")


# --------------------------------------------------------------------------- lowering


def lower_thread(thread: str, items: list[Item]) -> tuple[Instr, ...]:
    """The IR of one thread (`thread` is its name, `P0`, for messages)."""
    return _Lowering(thread, items).run()


class _Lowering:
    def __init__(self, thread: str, items: list[Item]) -> None:
        self.thread = thread
        self.items = items
        # Flags are only tracked in threads that read them.
        self.flags = any(
            isinstance(i, Ins) and (i.mnemonic == "CSEL" or i.mnemonic.startswith("B.")) for i in items
        )
        self.out: list[Instr] = []

    def run(self) -> tuple[Instr, ...]:
        self.check_labels()
        if self.flags and self.flags_may_be_unset():
            pos = self.items[0].pos
            self.out += [Assign(FLAG_L, Const(1), pos), Assign(FLAG_R, Const(0), pos)]
        for item in self.items:
            if isinstance(item, Lbl):
                self.out.append(Label(item.name, item.pos))
            else:
                self.instruction(item)
        return tuple(self.out)

    def check_labels(self) -> None:
        defined: set[str] = set()
        for item in self.items:
            if isinstance(item, Lbl):
                if item.name in defined:
                    raise InputError(item.pos, f"label '{item.name}' is defined twice in {self.thread}")
                defined.add(item.name)
        for item in self.items:
            if isinstance(item, Ins) and (item.mnemonic in BRANCHES or item.mnemonic.startswith("B.")):
                target = item.operands[-1]
                name = target.written if isinstance(target, RegOp) else target.text if isinstance(target, Sym) else None
                if name is None:
                    raise self.fail(item, "expected a label")
                if name not in defined:
                    raise InputError(target.pos, f"{item.written} to label '{name}', which {self.thread} does not define")

    def flags_may_be_unset(self) -> bool:
        """False when the thread runs straight (no label, no branch) into a CMP."""
        for item in self.items:
            if isinstance(item, Lbl) or item.mnemonic in BRANCHES or item.mnemonic.startswith("B."):
                return True
            if item.mnemonic == "CMP":
                return False
        return True

    def fail(self, ins: Ins, message: str, pos: Pos | None = None) -> InputError:
        return InputError(pos or ins.pos, f"{ins.written}: {message}")

    # ----- operands

    def reg(self, ins: Ins, op: Operand) -> RegOp:
        if isinstance(op, RegOp):
            return op
        if isinstance(op, Sym):
            raise InputError(op.pos, f"unknown AArch64 register '{op.text}'")
        raise self.fail(ins, f"expected a register, found {_describe(op)}", op.pos)

    def value(self, ins: Ins, op: Operand, imm: bool = False) -> Expr:
        """A source register (0 for WZR/XZR) or, if `imm`, an immediate."""
        if imm and isinstance(op, Imm):
            return Const(op.value)
        r = self.reg(ins, op)
        return Const(0) if r.name is None else Reg(r.name)

    def same_width(self, ins: Ins, *ops: Operand) -> bool:
        """Whether the registers are X (64-bit); they must not mix W and X."""
        widths = {op.wide for op in ops if isinstance(op, RegOp)}
        if len(widths) > 1:
            raise self.fail(ins, "operands mix W and X registers")
        return widths == {True}

    def mem(self, ins: Ins, op: Operand, simple: bool = False) -> Mem:
        if not isinstance(op, Mem):
            raise self.fail(ins, f"expected a memory operand '[Xn...]', found {_describe(op)}", op.pos)
        if simple and (op.mode != "offset" or op.offset is not None):
            raise self.fail(ins, "only '[Xn]' addressing is allowed", op.pos)
        return op

    def access(self, ins: Ins, mem: Mem, data: RegOp | None) -> tuple[Expr, list[Instr]]:
        """The address accessed, and the base register write-back to emit after the access."""
        base: Expr = Reg(mem.base)
        if mem.offset is None:
            return base, []
        moved = BinOp("+", base, mem.offset)
        if mem.mode == "offset":
            return moved, []
        if data is not None and data.name == mem.base:
            raise self.fail(ins, "write-back to the transferred register is unpredictable", mem.pos)
        return (moved if mem.mode == "pre" else base), [Assign(mem.base, moved, ins.pos)]

    def set_flags(self, left: Expr, right: Expr, pos: Pos) -> None:
        if self.flags:
            self.out += [Assign(FLAG_L, left, pos), Assign(FLAG_R, right, pos)]

    def assign(self, dst: RegOp, value: Expr, pos: Pos) -> None:
        if dst.name is not None:  # writes to WZR/XZR are discarded
            self.out.append(Assign(dst.name, value, pos))

    # ----- instructions

    def instruction(self, ins: Ins) -> None:
        mn, ops, pos = ins.mnemonic, ins.operands, ins.pos
        if mn == "NOP":
            return
        if mn in LOADS:
            dst, mem = self.reg(ins, ops[0]), self.mem(ins, ops[1], simple=mn != "LDR")
            addr, after = self.access(ins, mem, dst)
            exclusive = mn in ("LDXR", "LDAXR")
            self.out.append(Load(dst.name or ZERO_SINK, addr, LOADS[mn], pos, exclusive=exclusive))
            self.out += after
        elif mn in STORES:
            src, mem = self.reg(ins, ops[0]), self.mem(ins, ops[1], simple=mn != "STR")
            addr, after = self.access(ins, mem, src)
            self.out.append(Store(addr, self.value(ins, src), STORES[mn], pos))
            self.out += after
        elif mn in STORE_EX:
            self.store_exclusive(ins)
        elif mn in ATOMICS:
            self.atomic(ins)
        elif mn in ("DMB", "DSB"):
            opt = ops[0]
            if not isinstance(opt, Sym) or opt.text.upper() not in BARRIER_OPTIONS:
                shown = opt.text if isinstance(opt, Sym) else _describe(opt)
                raise unsupported(self.fail(ins, f"unsupported barrier option '{shown}'", opt.pos))
            self.out.append(Fence(f"{mn.lower()}.{opt.text.lower()}", pos))
        elif mn == "ISB":
            self.out.append(Fence("isb", pos))
        elif mn == "MOV":
            self.same_width(ins, *ops)
            self.assign(self.reg(ins, ops[0]), self.value(ins, ops[1], imm=True), pos)
        elif mn in ALU:
            wide = self.same_width(ins, *ops)
            e: Expr = BinOp(ALU[mn], self.value(ins, ops[1]), self.value(ins, ops[2], imm=True))
            if not wide and mn in ("ADD", "SUB"):
                e = BinOp("&", e, MASK32)
            self.assign(self.reg(ins, ops[0]), e, pos)
        elif mn == "CMP":
            self.same_width(ins, *ops)
            self.set_flags(self.value(ins, ops[0]), self.value(ins, ops[1], imm=True), pos)
        elif mn == "CSEL":
            self.same_width(ins, *ops[:3])
            code = ops[3]
            if not isinstance(code, Sym):
                raise self.fail(ins, f"expected a condition code, found {_describe(code)}", code.pos)
            test = BinOp(condition(code.text, code.pos), Reg(FLAG_L), Reg(FLAG_R))
            choice = Ite(test, self.value(ins, ops[1]), self.value(ins, ops[2]))
            self.assign(self.reg(ins, ops[0]), choice, pos)
        elif mn in ("CBZ", "CBNZ"):
            test = BinOp("==" if mn == "CBZ" else "!=", self.value(ins, ops[0]), Const(0))
            self.out.append(Branch(test, _label(ops[1]), pos))
        elif mn == "B":
            self.out.append(Goto(_label(ops[0]), pos))
        else:  # B.<cond>, checked by the parser
            test = BinOp(CONDS[mn[2:]], Reg(FLAG_L), Reg(FLAG_R))
            self.out.append(Branch(test, _label(ops[0]), pos))

    def store_exclusive(self, ins: Ins) -> None:
        """`STXR Ws,Rt,[Xn]`: Ws receives 0 on success, 1 on failure."""
        status, src = self.reg(ins, ins.operands[0]), self.reg(ins, ins.operands[1])
        mem = self.mem(ins, ins.operands[2], simple=True)
        if status.wide:
            raise self.fail(ins, "the status register must be a W register", status.pos)
        if status.name is not None and status.name in (src.name, mem.base):
            raise self.fail(ins, "the status register must differ from the others (unpredictable)", status.pos)
        addr, _ = self.access(ins, mem, None)
        self.out.append(StoreEx(status.name, addr, self.value(ins, src), STORE_EX[ins.mnemonic], ins.pos))

    def atomic(self, ins: Ins) -> None:
        """The LSE atomics, each one `Rmw` whose read and write are one instruction.  The
        class gets `-noret` when the old value goes to the zero register."""
        op, cls = ATOMICS[ins.mnemonic]
        ops = ins.operands
        wide = self.same_width(ins, *ops[:-1])
        rs = self.reg(ins, ops[0])
        rt = self.reg(ins, ops[1]) if len(ops) == 3 else None
        addr, _ = self.access(ins, self.mem(ins, ops[-1], simple=True), None)
        s = self.value(ins, rs)
        cond: Expr | None = None
        if op == "CAS":
            assert rt is not None
            # Ws holds the expected value and receives the old one; Wt is the new value.
            cond, new, dst = BinOp("==", Old(), s), self.value(ins, rt), rs.name
        elif op == "SWP":
            assert rt is not None
            new, dst = s, rt.name
        else:
            name = op.removeprefix("ST")
            new = _amo_value(name, s, wide)
            dst = None if rt is None else rt.name
        if dst is None:
            cls += "-noret"
        self.out.append(Rmw(dst, addr, new, Old(), cls, ins.pos, cond=cond, one_instruction=True))


def _amo_value(op: str, s: Expr, wide: bool) -> Expr:
    if op == "ADD":
        total: Expr = BinOp("+", Old(), s)
        return total if wide else BinOp("&", total, MASK32)
    if op == "CLR":
        return BinOp("&", Old(), UnOp("~", s))
    return BinOp("^" if op == "EOR" else "|", Old(), s)


def _label(op: Operand) -> str:
    # check_labels has verified that the target is a defined label's name.
    return op.written if isinstance(op, RegOp) else op.text if isinstance(op, Sym) else ""


def _describe(op: Operand) -> str:
    if isinstance(op, Imm):
        return f"the immediate '#{op.value}'"
    if isinstance(op, Mem):
        return "a memory operand"
    if isinstance(op, RegOp):
        return f"the register '{op.written}'"
    return f"'{op.text}'"
