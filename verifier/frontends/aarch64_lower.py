"""AArch64 instructions, as parsed by `frontends.aarch64`, lowered to the program IR.

Registers hold unsigned bit patterns: an `Xn` is in [0, 2^64); a write through `Wn` keeps the
low 32 bits and clears the upper half, and a read through `Wn` sees the low 32 bits, as the
hardware does.  `Wn` and `Xn` are one IR register, `Xn` (herd prints final states as `0:X0`).
The zero register reads as 0 and drops writes; a load into it still accesses memory.

Accesses carry their size (`LDRB` 8, `LDRH` 16, a `W` register 32, an `X` register 64 bits):
a store writes the low bits of its register, a load zero-extends (`LDRS*` sign-extend, done
here).  Arithmetic is exact at the operand width (`frontends.bits`); the condition flags N, Z,
C, V are the pseudo-registers `%N %Z %C %V`, written by the flag-setting instructions of a
thread that reads them (`B.cond`, `CSEL` and relatives, `CCMP`, `ADC`); herd starts with all
four clear.

Dependencies are computed later from register data flow, so the lowering is literal:
`EOR W4,W2,W2` stays `X2 ^ X2` (zero, yet data-dependent on X2).  Anything the lowering does
not model is refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from verifier.errors import InputError, Pos, Unsupported
from verifier.frontends.bits import (
    CLEAR,
    Flags,
    add_flags,
    arm_condition,
    logic_flags,
    low,
    ones,
    sign_extend,
    signed,
    sub_flags,
)
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
    with_source,
)

FLAGS: Final = Flags(Reg("%N"), Reg("%Z"), Reg("%C"), Reg("%V"))
ZERO_SINK: Final = "%zr"  # destination of a load into WZR/XZR
LOADED: Final = "%ld"  # a loaded value before its sign extension

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
class Shift:
    """A shift or extension operand: `LSL #2`, `ASR #1`, `SXTW`, `UXTB #2`."""

    kind: str
    amount: int | None
    pos: Pos


@dataclass(frozen=True)
class Index:
    """The index register of a memory operand, with its extension and shift."""

    reg: RegOp
    ext: str | None  # SXTW, UXTW, SXTX, LSL or None
    shift: int


@dataclass(frozen=True)
class Mem:
    """`[base]`, `[base,#imm]`, `[base,index]`, `[base,#imm]!` (pre-index), `[base],#imm` (post-index)."""

    base: str
    imm: int | None
    index: Index | None
    mode: Literal["offset", "pre", "post"]
    pos: Pos


@dataclass(frozen=True)
class Sym:
    """Any other word: a label, a condition code, a barrier option, or a bad register."""

    text: str
    pos: Pos


Operand = RegOp | Imm | Shift | Mem | Sym


@dataclass(frozen=True)
class Ins:
    """One instruction: `mnemonic` in upper case, `written` as in the file."""

    mnemonic: str
    written: str
    operands: tuple[Operand, ...]
    pos: Pos
    text: str = ""  # the whole instruction as written (witnesses name events by it)


@dataclass(frozen=True)
class Lbl:
    name: str
    pos: Pos


Item = Ins | Lbl

# --------------------------------------------------------------------------- instruction set

SHIFTS: Final = frozenset({"LSL", "LSR", "ASR", "ROR"})
EXTENDS: Final = frozenset({"UXTB", "UXTH", "UXTW", "UXTX", "SXTB", "SXTH", "SXTW", "SXTX"})
_EXT_BITS: Final = {"B": 8, "H": 16, "W": 32, "X": 64}

# Loads: mnemonic -> (class, size or None for the register's, sign-extending)
LOADS: Final[dict[str, tuple[str, int | None, bool]]] = {}
STORES: Final[dict[str, tuple[str, int | None]]] = {}
for _base, _cls in (("LDR", "plain"), ("LDUR", "plain"), ("LDAR", "acquire"), ("LDAPR", "acquire-pc"),
                    ("LDAPUR", "acquire-pc"), ("LDXR", "ex"), ("LDAXR", "ex-acquire")):
    LOADS[_base] = (_cls, None, False)
    LOADS[_base + "B"] = (_cls, 8, False)
    LOADS[_base + "H"] = (_cls, 16, False)
for _base in ("LDRS", "LDURS", "LDAPURS"):
    _cls = "acquire-pc" if _base.startswith("LDAP") else "plain"
    LOADS[_base + "B"] = (_cls, 8, True)
    LOADS[_base + "H"] = (_cls, 16, True)
    LOADS[_base + "W"] = (_cls, 32, True)
for _base, _cls in (("STR", "plain"), ("STUR", "plain"), ("STLR", "release"), ("STLUR", "release")):
    STORES[_base] = (_cls, None)
    STORES[_base + "B"] = (_cls, 8)
    STORES[_base + "H"] = (_cls, 16)
STORE_EX: Final = {m + s: (c, z) for m, c in (("STXR", "ex"), ("STLXR", "ex-release"))
                   for s, z in (("", None), ("B", 8), ("H", 16))}
PAIRS: Final = {"LDP": "R", "LDNP": "R", "LDPSW": "R", "STP": "W", "STNP": "W"}
_EXCLUSIVE: Final = frozenset({"LDXR", "LDXRB", "LDXRH", "LDAXR", "LDAXRB", "LDAXRH"})
_ORDERING: Final = {"": "amo", "A": "amo-a", "L": "amo-l", "AL": "amo-al"}
_AMO_OPS: Final = ("ADD", "CLR", "EOR", "SET", "SMAX", "SMIN", "UMAX", "UMIN")


def _atomics() -> dict[str, tuple[str, str, int | None]]:
    """LSE atomic mnemonic -> (operation, class, size): CAS, SWP, LD<op> with A/L/AL
    suffixes, ST<op> (LD<op> without result) with L, each also with B and H sizes."""
    table: dict[str, tuple[str, str, int | None]] = {}
    for sfx, z in (("", None), ("B", 8), ("H", 16)):
        for order, cls in _ORDERING.items():
            table[f"CAS{order}{sfx}"] = ("CAS", cls, z)
            table[f"SWP{order}{sfx}"] = ("SWP", cls, z)
            for op in _AMO_OPS:
                table[f"LD{op}{order}{sfx}"] = (op, cls, z)
                if order in ("", "L"):
                    table[f"ST{op}{order}{sfx}"] = (f"ST{op}", cls, z)
    return table


ATOMICS: Final = _atomics()
ALU: Final = {"ADD": "+", "SUB": "-", "ADDS": "+", "SUBS": "-"}
LOGIC: Final = {"AND": "&", "ORR": "|", "EOR": "^", "ANDS": "&", "BIC": "&", "BICS": "&", "ORN": "|", "EON": "^"}
CONDSEL: Final = frozenset({"CSEL", "CSINC", "CSINV", "CSNEG", "CSET", "CSETM", "CINC", "CINV", "CNEG"})
BITFIELD: Final = frozenset({"UBFM", "SBFM", "BFM", "UBFX", "SBFX", "UBFIZ", "SBFIZ", "BFI", "BFXIL",
                             "SXTB", "SXTH", "SXTW", "UXTB", "UXTH"})
SHIFT_INS: Final = frozenset({"LSL", "LSR", "ASR", "ROR", "LSLV", "LSRV", "ASRV", "RORV"})
MULDIV: Final = frozenset({"MUL", "MADD", "MSUB", "MNEG", "UDIV", "SDIV"})
BRANCHES: Final = frozenset({"B", "CBZ", "CBNZ", "TBZ", "TBNZ"})  # and B.<cond>
# Byte and bit reversals: mnemonic -> the size of the units reversed within (bits).
REVERSE: Final = {"REV": 0, "REV16": 16, "REV32": 32, "REV64": 64, "RBIT": 0}
# Real instructions the verifier does not model: refused by name.
REFUSED: Final = frozenset({
    "CASP", "CASPA", "CASPL", "CASPAL", "LDXP", "LDAXP", "STXP", "STLXP", "LDIAPP", "STILP",
    "BL", "BLR", "BR", "RET", "ADR", "ADRP", "SVC", "HVC", "CLZ", "CLS", "SMULL", "UMULL", "SMULH", "UMULH",
    "SMADDL", "UMADDL", "SMNEGL", "UMNEGL", "SEV", "WFE",
    "DC", "IC", "TLBI", "ERET", "BRK", "YIELD", "HINT",
})
KNOWN: Final = frozenset(
    {*LOADS, *STORES, *STORE_EX, *PAIRS, *ATOMICS, *ALU, *LOGIC, *CONDSEL, *BITFIELD, *SHIFT_INS, *MULDIV,
     *BRANCHES, *REFUSED, *REVERSE, "MOV", "MOVZ", "MOVN", "MOVK", "MVN", "NEG", "NEGS", "CMP", "CMN", "TST",
     "ABS", "MRS", "MSR",
     "CCMP", "CCMN", "ADC", "ADCS", "SBC", "SBCS", "DMB", "DSB", "ISB", "NOP"}
)
BARRIER_OPTIONS: Final = frozenset(
    {"SY", "ISH", "ISHLD", "ISHST", "LD", "ST", "OSH", "OSHLD", "OSHST", "NSH", "NSHLD", "NSHST"}
)
# The SIMD and floating-point registers (V0.2D, Q0, D0, S0, H0, B0) and SVE's (Z0.S, P0.B).
SIMD_REGISTER: Final = re.compile(r"[VQDSHBZP]\d+(\.\w+)?(\[\d+\])?", re.I)
_FLAG_READERS: Final = frozenset({*CONDSEL, "CCMP", "CCMN", "ADC", "ADCS", "SBC", "SBCS", "MRS"})


def condition_holds(code: str, pos: Pos) -> Expr:
    """The condition code as an expression over the flags, or an error naming it."""
    e = arm_condition(code.upper(), FLAGS)
    if e is None:
        raise InputError(pos, f"unknown condition code '{code}'")
    return e


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
            isinstance(i, Ins) and (i.mnemonic in _FLAG_READERS or i.mnemonic.startswith("B.")) for i in items
        )
        self.out: list[Instr] = []

    def run(self) -> tuple[Instr, ...]:
        self.check_labels()
        if self.flags and self.items:
            self.set_flags(CLEAR, self.items[0].pos)
        for item in self.items:
            if isinstance(item, Lbl):
                self.out.append(Label(item.name, item.pos))
            else:
                start = len(self.out)
                self.instruction(item)
                self.out[start:] = [with_source(i, item.text) for i in self.out[start:]]
        return tuple(self.out)

    def check_labels(self) -> None:
        defined: set[str] = set()
        for item in self.items:
            if isinstance(item, Lbl):
                if item.name in defined:
                    raise InputError(item.pos, f"label '{item.name}' is defined twice in {self.thread}")
                defined.add(item.name)
        for item in self.items:
            if isinstance(item, Ins) and (item.mnemonic in BRANCHES or item.mnemonic.startswith("B.")) and item.operands:
                target = item.operands[-1]
                name = _label_name(target)
                if name is None:
                    raise self.fail(item, "expected a label")
                if name not in defined:
                    raise InputError(target.pos, f"{item.written} to label '{name}', which {self.thread} does not define")

    def fail(self, ins: Ins, message: str, pos: Pos | None = None) -> InputError:
        return InputError(pos or ins.pos, f"{ins.written}: {message}")

    # ----- operands

    def arity(self, ins: Ins, *counts: int) -> None:
        if len(ins.operands) not in counts:
            want = " or ".join(str(c) for c in counts)
            raise self.fail(ins, f"takes {want} operand(s), found {len(ins.operands)}")

    def reg(self, ins: Ins, op: Operand) -> RegOp:
        if isinstance(op, RegOp):
            return op
        if isinstance(op, Sym):
            if SIMD_REGISTER.fullmatch(op.text):
                raise Unsupported(op.pos, f"unsupported: SIMD, floating-point and SVE registers ('{op.text}')")
            raise InputError(op.pos, f"unknown AArch64 register '{op.text}'")
        raise self.fail(ins, f"expected a register, found {_describe(op)}", op.pos)

    def imm(self, ins: Ins, op: Operand) -> int:
        if not isinstance(op, Imm):
            raise self.fail(ins, f"expected an immediate '#n', found {_describe(op)}", op.pos)
        return op.value

    def width(self, ins: Ins, *ops: Operand) -> int:
        """32 or 64: the width of the register operands, which must not mix W and X."""
        widths = {op.wide for op in ops if isinstance(op, RegOp)}
        if len(widths) > 1:
            raise self.fail(ins, "operands mix W and X registers")
        return 64 if widths == {True} else 32

    def read(self, ins: Ins, op: Operand, w: int | None = None) -> Expr:
        """A source register's value at width `w` (its own width by default); 0 for WZR/XZR."""
        r = self.reg(ins, op)
        if r.name is None:
            return Const(0)
        bits = w if w is not None else (64 if r.wide else 32)
        return Reg(r.name) if bits == 64 else low(Reg(r.name), bits)

    def write(self, dst: RegOp, value: Expr, w: int, pos: Pos) -> None:
        """A destination register: the value's low `w` bits, the rest cleared."""
        if dst.name is not None:  # writes to WZR/XZR are discarded
            self.out.append(Assign(dst.name, low(value, w), pos))

    def set_flags(self, f: Flags, pos: Pos) -> None:
        if self.flags:
            self.out += [Assign(r.name, e, pos) for r, e in zip(_flag_regs(), (f.n, f.z, f.c, f.v), strict=True)]

    def cond(self, ins: Ins, op: Operand) -> Expr:
        if not isinstance(op, Sym):
            raise self.fail(ins, f"expected a condition code, found {_describe(op)}", op.pos)
        return condition_holds(op.text, op.pos)

    def shifted(self, ins: Ins, value: Expr, shift: Operand, w: int, ror: bool) -> Expr:
        """`Rm, LSL|LSR|ASR|ROR #n` (the value is Rm's `w`-bit pattern)."""
        if not isinstance(shift, Shift) or shift.kind not in SHIFTS or (shift.kind == "ROR" and not ror):
            raise self.fail(ins, f"unexpected {_describe(shift)}", shift.pos)
        n = shift.amount
        if n is None or not 0 <= n < w:
            raise self.fail(ins, f"shift amount must be #0 to #{w - 1}", shift.pos)
        return _shift(shift.kind, value, Const(n), w, n)

    def extended(self, ins: Ins, rm: RegOp, ext: Shift, w: int) -> Expr:
        """`Rm, UXTB|...|SXTX {#n}`: Rm's low bits zero- or sign-extended, shifted by 0-4."""
        bits = _EXT_BITS[ext.kind[3]]
        value = self.read(ins, rm, min(bits, 64 if rm.wide else 32))
        e = sign_extend(value, bits, w) if ext.kind.startswith("S") else low(value, bits)
        n = ext.amount or 0
        if not 0 <= n <= 4:
            raise self.fail(ins, "extension shift must be #0 to #4", ext.pos)
        return low(BinOp("<<", e, Const(n)), w) if n else e

    def operand2(self, ins: Ins, ops: tuple[Operand, ...], w: int, *, logical: bool) -> Expr:
        """The flexible second operand: `#imm{, LSL #0|#12}`, `Rm{, shift #n}` or, for
        arithmetic, `Rm, extend {#n}`."""
        first = ops[0]
        if isinstance(first, Imm):
            v = first.value
            if len(ops) == 2:
                sh = ops[1]
                if logical or not isinstance(sh, Shift) or sh.kind != "LSL" or sh.amount not in (0, 12):
                    raise self.fail(ins, "an immediate takes only 'LSL #0' or 'LSL #12'", sh.pos)
                v <<= sh.amount or 0
            elif len(ops) > 2:
                raise self.fail(ins, "too many operands", ops[2].pos)
            return Const(v % (1 << w))
        rm = self.reg(ins, first)
        if len(ops) == 1:
            if rm.wide != (w == 64):
                raise self.fail(ins, "operands mix W and X registers")
            return self.read(ins, rm)
        if len(ops) > 2:
            raise self.fail(ins, "too many operands", ops[2].pos)
        sh = ops[1]
        if isinstance(sh, Shift) and sh.kind in EXTENDS and not logical:
            if rm.wide and sh.kind[3] != "X":
                raise self.fail(ins, f"{sh.kind} needs a W register, found '{rm.written}'", rm.pos)
            return self.extended(ins, rm, sh, w)
        if rm.wide != (w == 64):
            raise self.fail(ins, "operands mix W and X registers")
        return self.shifted(ins, self.read(ins, rm), sh, w, ror=logical)

    # ----- memory

    def address(self, ins: Ins, mem: Operand, size: int, data: tuple[RegOp, ...]) -> tuple[Expr, list[Instr]]:
        """The address a memory operand accesses, and the base register write-back to emit
        after the access."""
        if not isinstance(mem, Mem):
            raise self.fail(ins, f"expected a memory operand '[Xn...]', found {_describe(mem)}", mem.pos)
        base: Expr = Reg(mem.base)
        if mem.index is not None:
            ix = mem.index
            # UXTW and SXTW take the index's low 32 bits (herd7 also accepts an X register).
            value = self.read(ins, ix.reg, 32 if ix.ext in ("SXTW", "UXTW") else None)
            if ix.ext == "SXTW":
                value = sign_extend(value, 32, 64)
            offset = BinOp("<<", value, Const(ix.shift)) if ix.shift else value
            return low(BinOp("+", base, offset), 64), []
        if mem.imm is None:
            return base, []
        moved = low(BinOp("+", base, Const(mem.imm)), 64)
        if mem.mode == "offset":
            return moved, []
        if any(d.name == mem.base for d in data):
            raise self.fail(ins, "write-back to the transferred register is unpredictable", mem.pos)
        return (moved if mem.mode == "pre" else base), [Assign(mem.base, moved, ins.pos)]

    def simple(self, ins: Ins, mem: Operand) -> None:
        if isinstance(mem, Mem) and (mem.mode != "offset" or mem.imm is not None or mem.index is not None):
            raise self.fail(ins, "only '[Xn]' addressing is allowed", mem.pos)

    # ----- instructions

    def instruction(self, ins: Ins) -> None:
        mn = ins.mnemonic
        if mn in REFUSED:
            raise Unsupported(ins.pos, f"unsupported AArch64 instruction '{ins.written}'")
        handler = self.handler(mn)
        handler(ins)

    def handler(self, mn: str) -> Callable[[Ins], None]:
        if mn in LOADS:
            return self.load
        if mn in STORES:
            return self.store
        if mn in STORE_EX:
            return self.store_exclusive
        if mn in PAIRS:
            return self.pair
        if mn in ATOMICS:
            return self.atomic
        if mn in ALU or mn in ("CMP", "CMN", "NEG", "NEGS"):
            return self.arith
        if mn in LOGIC or mn in ("TST", "MVN"):
            return self.logic
        if mn in CONDSEL:
            return self.condsel
        if mn in BITFIELD:
            return self.bitfield
        if mn in SHIFT_INS:
            return self.shift_ins
        if mn in MULDIV:
            return self.muldiv
        if mn in ("CCMP", "CCMN"):
            return self.ccmp
        if mn in ("ADC", "ADCS", "SBC", "SBCS"):
            return self.carry
        if mn.startswith("B.") or mn in BRANCHES:
            return self.branch
        if mn in REVERSE:
            return self.reverse
        return {
            "MOV": self.mov, "MOVZ": self.movw, "MOVN": self.movw, "MOVK": self.movw, "ABS": self.abs,
            "MRS": self.nzcv, "MSR": self.nzcv,
            "DMB": self.barrier, "DSB": self.barrier, "ISB": self.isb, "NOP": lambda ins: None,
        }[mn]

    def load(self, ins: Ins) -> None:
        cls, size, sign = LOADS[ins.mnemonic]
        self.arity(ins, 2)
        dst = self.reg(ins, ins.operands[0])
        w = 64 if dst.wide else 32
        if size is None:
            size = w
        elif not sign and dst.wide:
            raise self.fail(ins, "needs a W destination register", dst.pos)
        elif sign and size == 32 and not dst.wide:
            raise self.fail(ins, "needs an X destination register", dst.pos)
        mem = ins.operands[1]
        if cls not in ("plain",) and not ins.mnemonic.startswith(("LDUR", "LDAPUR")):
            self.simple(ins, mem)
        addr, after = self.address(ins, mem, size, (dst,))
        exclusive = ins.mnemonic in _EXCLUSIVE
        if sign:
            self.out.append(Load(LOADED, addr, cls, ins.pos, exclusive=exclusive, size=size))
            self.write(dst, sign_extend(Reg(LOADED), size, w), w, ins.pos)
        else:
            self.out.append(Load(dst.name or ZERO_SINK, addr, cls, ins.pos, exclusive=exclusive, size=size))
        self.out += after

    def store(self, ins: Ins) -> None:
        cls, size = STORES[ins.mnemonic]
        self.arity(ins, 2)
        src = self.reg(ins, ins.operands[0])
        if size is None:
            size = 64 if src.wide else 32
        elif src.wide:
            raise self.fail(ins, "needs a W source register", src.pos)
        mem = ins.operands[1]
        if cls == "release" and not ins.mnemonic.startswith("STLUR"):
            self.simple(ins, mem)
        addr, after = self.address(ins, mem, size, (src,))
        self.out.append(Store(addr, self.read(ins, src), cls, ins.pos, size=size))
        self.out += after

    def store_exclusive(self, ins: Ins) -> None:
        """`STXR Ws,Rt,[Xn]`: Ws receives 0 on success, 1 on failure."""
        cls, size = STORE_EX[ins.mnemonic]
        self.arity(ins, 3)
        status, src = self.reg(ins, ins.operands[0]), self.reg(ins, ins.operands[1])
        mem = ins.operands[2]
        self.simple(ins, mem)
        if status.wide:
            raise self.fail(ins, "the status register must be a W register", status.pos)
        if isinstance(mem, Mem) and status.name is not None and status.name in (src.name, mem.base):
            raise self.fail(ins, "the status register must differ from the others (unpredictable)", status.pos)
        size = size or (64 if src.wide else 32)
        addr, _ = self.address(ins, mem, size, ())
        self.out.append(StoreEx(status.name, addr, self.read(ins, src), cls, ins.pos, size=size))

    def pair(self, ins: Ins) -> None:
        """LDP/STP (and LDNP/STNP/LDPSW): two accesses of one instruction, at the address and
        the next one, not ordered with each other (herd7 gives them no po)."""
        self.arity(ins, 3)
        r1, r2 = self.reg(ins, ins.operands[0]), self.reg(ins, ins.operands[1])
        w = self.width(ins, r1, r2)
        mn = ins.mnemonic
        size = 32 if mn == "LDPSW" else w
        if mn == "LDPSW" and w != 64:
            raise self.fail(ins, "needs X destination registers")
        if PAIRS[mn] == "R" and r1.name is not None and r1.name == r2.name:
            raise self.fail(ins, "loading one register twice is unpredictable")
        if isinstance(ins.operands[2], Mem) and ins.operands[2].index is not None:
            raise self.fail(ins, "a pair takes an immediate offset, not an index register", ins.operands[2].pos)
        addr, after = self.address(ins, ins.operands[2], size, (r1, r2))
        second = low(BinOp("+", addr, Const(size // 8)), 64)
        for k, (r, a) in enumerate(((r1, addr), (r2, second))):
            if PAIRS[mn] == "W":
                self.out.append(Store(a, self.read(ins, r), "plain", ins.pos, size=size, paired=k == 1))
            elif mn == "LDPSW":
                self.out.append(Load(LOADED + str(k), a, "plain", ins.pos, size=size, paired=k == 1))
            else:
                self.out.append(Load(r.name or ZERO_SINK, a, "plain", ins.pos, size=size, paired=k == 1))
        if mn == "LDPSW":
            for k, r in enumerate((r1, r2)):
                self.write(r, sign_extend(Reg(LOADED + str(k)), 32, 64), 64, ins.pos)
        self.out += after

    def atomic(self, ins: Ins) -> None:
        """The LSE atomics, each one `Rmw` whose read and write are one instruction.  The
        class gets `-noret` when the old value goes to the zero register."""
        op, cls, size = ATOMICS[ins.mnemonic]
        ops = ins.operands
        self.arity(ins, 2 if op.startswith("ST") else 3)
        rs = self.reg(ins, ops[0])
        rt = self.reg(ins, ops[1]) if len(ops) == 3 else None
        w = self.width(ins, *ops[:-1])
        if size is not None and w == 64:
            raise self.fail(ins, "needs W registers")
        size = size or w
        mem = ops[-1]
        self.simple(ins, mem)
        addr, _ = self.address(ins, mem, size, ())
        s = self.read(ins, rs, size)
        cond: Expr | None = None
        if op == "CAS":
            assert rt is not None
            # Rs holds the expected value and receives the old one; Rt is the new value.
            cond, new, dst = BinOp("==", Old(), s), self.read(ins, rt, size), rs.name
        elif op == "SWP":
            assert rt is not None
            new, dst = s, rt.name
        else:
            new = _amo_value(op.removeprefix("ST"), s, size)
            dst = None if rt is None else rt.name
        if dst is None:
            cls += "-noret"
        self.out.append(Rmw(dst, addr, new, Old(), cls, ins.pos, cond=cond, one_instruction=True, size=size))

    def arith(self, ins: Ins) -> None:
        """ADD, SUB, ADDS, SUBS, CMP, CMN, NEG, NEGS."""
        mn, ops = ins.mnemonic, ins.operands
        if mn in ("CMP", "CMN"):
            dst, rn, rest = None, self.reg(ins, ops[0]) if ops else None, ops[1:]
        elif mn in ("NEG", "NEGS"):
            dst, rn, rest = self.reg(ins, ops[0]) if ops else None, None, ops[1:]
        else:
            self.arity(ins, 3, 4)
            dst, rn, rest = self.reg(ins, ops[0]), self.reg(ins, ops[1]), ops[2:]
        if not rest:
            raise self.fail(ins, "missing operand")
        w = 64 if (dst or rn or self.reg(ins, rest[0])).wide else 32
        for r in (dst, rn):
            if r is not None and r.wide != (w == 64):
                raise self.fail(ins, "operands mix W and X registers")
        a = Const(0) if rn is None else self.read(ins, rn)
        b = self.operand2(ins, rest, w, logical=False)
        add = mn in ("ADD", "ADDS", "CMN")
        result, flags = add_flags(a, b, w) if add else sub_flags(a, b, w)
        if mn in ("ADDS", "SUBS", "CMP", "CMN", "NEGS"):
            self.set_flags(flags, ins.pos)
        if dst is not None:
            self.write(dst, result, w, ins.pos)

    def logic(self, ins: Ins) -> None:
        """AND, ORR, EOR, BIC, ORN, EON, ANDS, BICS, TST, MVN."""
        mn, ops = ins.mnemonic, ins.operands
        if mn == "TST":
            dst, rn, rest = None, self.reg(ins, ops[0]) if ops else None, ops[1:]
        elif mn == "MVN":
            dst, rn, rest = self.reg(ins, ops[0]) if ops else None, None, ops[1:]
        else:
            self.arity(ins, 3, 4)
            dst, rn, rest = self.reg(ins, ops[0]), self.reg(ins, ops[1]), ops[2:]
        if not rest:
            raise self.fail(ins, "missing operand")
        w = 64 if (dst or rn or self.reg(ins, rest[0])).wide else 32
        for r in (dst, rn):
            if r is not None and r.wide != (w == 64):
                raise self.fail(ins, "operands mix W and X registers")
        b = self.operand2(ins, rest, w, logical=True)
        if mn in ("BIC", "BICS", "ORN", "EON", "MVN"):
            b = BinOp("-", Const(ones(w)), b)  # ~b within the width
        if mn == "MVN":
            result: Expr = b
        else:
            assert rn is not None
            result = BinOp(LOGIC["AND" if mn == "TST" else mn], self.read(ins, rn), b)
        if mn in ("ANDS", "BICS", "TST"):
            self.set_flags(logic_flags(result, w), ins.pos)
        if dst is not None:
            self.write(dst, result, w, ins.pos)

    def carry(self, ins: Ins) -> None:
        """ADC, ADCS, SBC, SBCS: with the carry flag (SBC: a + ~b + C)."""
        self.arity(ins, 3)
        dst, rn, rm = (self.reg(ins, o) for o in ins.operands)
        w = self.width(ins, dst, rn, rm)
        b = self.read(ins, rm)
        if ins.mnemonic.startswith("SBC"):
            b = BinOp("-", Const(ones(w)), b)
        result, flags = add_flags(self.read(ins, rn), b, w, FLAGS.c)
        if ins.mnemonic.endswith("S"):
            self.set_flags(flags, ins.pos)
        self.write(dst, result, w, ins.pos)

    def ccmp(self, ins: Ins) -> None:
        """`CCMP Rn, #imm|Rm, #nzcv, cond`: the comparison's flags if cond holds, else #nzcv."""
        self.arity(ins, 4)
        rn = self.reg(ins, ins.operands[0])
        w = 64 if rn.wide else 32
        b = Const(self.imm(ins, ins.operands[1])) if isinstance(ins.operands[1], Imm) else self.read(ins, ins.operands[1])
        nzcv = self.imm(ins, ins.operands[2])
        if not 0 <= nzcv <= 15:
            raise self.fail(ins, "the flags immediate must be #0 to #15", ins.operands[2].pos)
        holds = self.cond(ins, ins.operands[3])
        _, f = (add_flags if ins.mnemonic == "CCMN" else sub_flags)(self.read(ins, rn), b, w)
        bits = [Const((nzcv >> k) & 1) for k in (3, 2, 1, 0)]
        chosen = [Ite(holds, e, bit) for e, bit in zip((f.n, f.z, f.c, f.v), bits, strict=True)]
        self.set_flags(Flags(*chosen), ins.pos)

    def condsel(self, ins: Ins) -> None:
        mn, ops = ins.mnemonic, ins.operands
        if mn in ("CSET", "CSETM"):
            self.arity(ins, 2)
            dst = self.reg(ins, ops[0])
            w = 64 if dst.wide else 32
            holds = self.cond(ins, ops[1])
            self.write(dst, Ite(holds, Const(1 if mn == "CSET" else ones(w)), Const(0)), w, ins.pos)
            return
        if mn in ("CINC", "CINV", "CNEG"):
            self.arity(ins, 3)
            dst, rn = self.reg(ins, ops[0]), self.reg(ins, ops[1])
            w = self.width(ins, dst, rn)
            holds, a = self.cond(ins, ops[2]), self.read(ins, rn)
            self.write(dst, Ite(holds, _csel_other(mn, a, w), a), w, ins.pos)
            return
        self.arity(ins, 4)
        dst, rn, rm = (self.reg(ins, o) for o in ops[:3])
        w = self.width(ins, dst, rn, rm)
        holds = self.cond(ins, ops[3])
        self.write(dst, Ite(holds, self.read(ins, rn), _csel_other(mn, self.read(ins, rm), w)), w, ins.pos)

    def bitfield(self, ins: Ins) -> None:
        mn, ops = ins.mnemonic, ins.operands
        if mn in ("SXTB", "SXTH", "SXTW", "UXTB", "UXTH"):
            self.arity(ins, 2)
            dst, src = self.reg(ins, ops[0]), self.reg(ins, ops[1])
            w = 64 if dst.wide else 32
            bits = _EXT_BITS[mn[3]]
            if src.wide or (mn[0] == "U" and dst.wide) or (mn == "SXTW" and not dst.wide):
                raise self.fail(ins, "wrong register widths")
            v = self.read(ins, src)
            self.write(dst, sign_extend(v, bits, w) if mn[0] == "S" else low(v, bits), w, ins.pos)
            return
        self.arity(ins, 4)
        dst, src = self.reg(ins, ops[0]), self.reg(ins, ops[1])
        w = self.width(ins, dst, src)
        a, b = self.imm(ins, ops[2]), self.imm(ins, ops[3])
        if mn in ("UBFM", "SBFM", "BFM"):
            if not (0 <= a < w and 0 <= b < w):
                raise self.fail(ins, f"immr and imms must be #0 to #{w - 1}")
            kind = {"UBFM": "U", "SBFM": "S", "BFM": "B"}[mn]
            lsb, width, extract = (a, b - a + 1, True) if b >= a else ((w - a) % w, b + 1, False)
        else:
            kind = mn[0] if mn[0] in "US" else "B"
            lsb, width = a, b
            extract = mn in ("UBFX", "SBFX", "BFXIL")
            if not (0 <= lsb < w and 1 <= width <= w - lsb):
                raise self.fail(ins, f"lsb and width must fit in {w} bits")
        v, old = self.read(ins, src), self.read(ins, dst)
        field = low(BinOp(">>", v, Const(lsb)), width) if extract else low(v, width)
        if kind == "B":
            at = 0 if extract else lsb
            kept = BinOp("-", old, BinOp("<<", low(BinOp(">>", old, Const(at)), width), Const(at)))
            result: Expr = BinOp("+", kept, BinOp("<<", field, Const(at)))
        else:
            if kind == "S":
                field = sign_extend(field, width, w)
            result = field if extract else low(BinOp("<<", field, Const(lsb)), w)
        self.write(dst, result, w, ins.pos)

    def shift_ins(self, ins: Ins) -> None:
        """LSL/LSR/ASR/ROR by an immediate or a register (modulo the width)."""
        self.arity(ins, 3)
        dst, src = self.reg(ins, ins.operands[0]), self.reg(ins, ins.operands[1])
        w = self.width(ins, dst, src, ins.operands[2])
        kind = ins.mnemonic[:3]
        v = self.read(ins, src)
        amount_op = ins.operands[2]
        if isinstance(amount_op, Imm):
            n = amount_op.value
            if not 0 <= n < w or ins.mnemonic.endswith("V"):
                raise self.fail(ins, f"shift amount must be #0 to #{w - 1}", amount_op.pos)
            self.write(dst, _shift(kind, v, Const(n), w, n), w, ins.pos)
            return
        amount = low(self.read(ins, amount_op), (w - 1).bit_length())
        if kind == "ROR":
            raise Unsupported(ins.pos, f"unsupported AArch64 instruction '{ins.written}' (rotate by a register)")
        self.write(dst, _shift(kind, v, amount, w, None), w, ins.pos)

    def muldiv(self, ins: Ins) -> None:
        mn, ops = ins.mnemonic, ins.operands
        self.arity(ins, 4 if mn in ("MADD", "MSUB") else 3)
        regs = [self.reg(ins, o) for o in ops]
        w = self.width(ins, *regs)
        a, b = self.read(ins, regs[1]), self.read(ins, regs[2])
        if mn == "UDIV":
            result: Expr = Ite(BinOp("==", b, Const(0)), Const(0), BinOp("/", a, b))
        elif mn == "SDIV":
            result = Ite(BinOp("==", b, Const(0)), Const(0), BinOp("/", signed(a, w), signed(b, w)))
        else:
            product = BinOp("*", a, b)
            if mn == "MUL":
                result = product
            elif mn == "MNEG":
                result = UnOp("-", product)
            else:
                result = BinOp("+" if mn == "MADD" else "-", self.read(ins, regs[3]), product)
        self.write(regs[0], result, w, ins.pos)

    def reverse(self, ins: Ins) -> None:
        """REV (bytes), REV16/REV32 (bytes within each halfword/word), REV64, RBIT (bits): each
        unit's value moved to its mirrored place, as a sum of shifted units (linear)."""
        self.arity(ins, 2)
        dst, src = self.reg(ins, ins.operands[0]), self.reg(ins, ins.operands[1])
        w = self.width(ins, dst, src)
        mn = ins.mnemonic
        unit = 1 if mn == "RBIT" else 8
        group = REVERSE[mn] or w
        if group > w or (mn == "REV64" and w != 64):
            raise self.fail(ins, "wrong register width")
        v = self.read(ins, src)
        total: Expr = Const(0)
        for at in range(0, w, unit):
            base = at - at % group
            to = base + group - unit - (at - base)
            part = low(BinOp(">>", v, Const(at)), unit)
            total = BinOp("+", total, BinOp("<<", part, Const(to)))
        self.write(dst, total, w, ins.pos)

    def abs(self, ins: Ins) -> None:
        self.arity(ins, 2)
        dst, src = self.reg(ins, ins.operands[0]), self.reg(ins, ins.operands[1])
        w = self.width(ins, dst, src)
        v = self.read(ins, src)
        self.write(dst, Ite(BinOp(">=", v, Const(1 << (w - 1))), UnOp("-", v), v), w, ins.pos)

    def nzcv(self, ins: Ins) -> None:
        """`MRS Xt, NZCV` (the flags at bits 31..28) and `MSR NZCV, Xt`; other system
        registers are refused."""
        self.arity(ins, 2)
        sysreg = ins.operands[1] if ins.mnemonic == "MRS" else ins.operands[0]
        if not (isinstance(sysreg, Sym) and sysreg.text.upper() == "NZCV"):
            raise Unsupported(sysreg.pos, f"unsupported: {ins.mnemonic} of a system register other than NZCV")
        r = self.reg(ins, ins.operands[0] if ins.mnemonic == "MRS" else ins.operands[1])
        if ins.mnemonic == "MRS":
            value: Expr = Const(0)
            for bit, flag in zip((31, 30, 29, 28), (FLAGS.n, FLAGS.z, FLAGS.c, FLAGS.v), strict=True):
                value = BinOp("+", value, BinOp("<<", flag, Const(bit)))
            self.write(r, value, 64 if r.wide else 32, ins.pos)
        else:
            v = self.read(ins, r)
            self.set_flags(Flags(*(low(BinOp(">>", v, Const(b)), 1) for b in (31, 30, 29, 28))), ins.pos)

    def mov(self, ins: Ins) -> None:
        self.arity(ins, 2)
        dst, src = self.reg(ins, ins.operands[0]), ins.operands[1]
        w = 64 if dst.wide else 32
        if isinstance(src, Imm):
            if not _movable(src.value, w):
                raise self.fail(ins, f"the immediate #{src.value} cannot be encoded in a MOV (use MOVZ/MOVK)", src.pos)
            self.write(dst, Const(src.value % (1 << w)), w, ins.pos)
            return
        self.width(ins, dst, src)
        self.write(dst, self.read(ins, src), w, ins.pos)

    def movw(self, ins: Ins) -> None:
        """MOVZ, MOVN, MOVK `Rd, #imm16 {, LSL #0|16|32|48}`."""
        self.arity(ins, 2, 3)
        dst = self.reg(ins, ins.operands[0])
        w = 64 if dst.wide else 32
        imm = self.imm(ins, ins.operands[1])
        s = 0
        if len(ins.operands) == 3:
            sh = ins.operands[2]
            if not isinstance(sh, Shift) or sh.kind != "LSL" or sh.amount not in range(0, w, 16):
                raise self.fail(ins, f"the shift must be 'LSL #0' to 'LSL #{w - 16}' in steps of 16", sh.pos)
            s = sh.amount or 0
        if not 0 <= imm <= 0xFFFF:
            raise self.fail(ins, "the immediate must be #0 to #65535", ins.operands[1].pos)
        if ins.mnemonic == "MOVZ":
            value: Expr = Const(imm << s)
        elif ins.mnemonic == "MOVN":
            value = Const(ones(w) - (imm << s))
        else:
            old = self.read(ins, dst)
            chunk = low(BinOp(">>", old, Const(s)), 16)
            value = BinOp("+", BinOp("-", old, BinOp("<<", chunk, Const(s))), Const(imm << s))
        self.write(dst, value, w, ins.pos)

    def branch(self, ins: Ins) -> None:
        mn, ops = ins.mnemonic, ins.operands
        if mn == "B":
            self.arity(ins, 1)
            self.out.append(Goto(_label(ops[0]), ins.pos))
        elif mn.startswith("B."):
            self.arity(ins, 1)
            self.out.append(Branch(condition_holds(mn[2:], ins.pos), _label(ops[0]), ins.pos))
        elif mn in ("CBZ", "CBNZ"):
            self.arity(ins, 2)
            test = BinOp("==" if mn == "CBZ" else "!=", self.read(ins, ops[0]), Const(0))
            self.out.append(Branch(test, _label(ops[1]), ins.pos))
        else:  # TBZ, TBNZ
            self.arity(ins, 3)
            r = self.reg(ins, ops[0])
            bit = self.imm(ins, ops[1])
            if not 0 <= bit < (64 if r.wide else 32):
                raise self.fail(ins, "bit number out of range", ops[1].pos)
            value = low(BinOp(">>", self.read(ins, r), Const(bit)), 1)
            self.out.append(Branch(BinOp("==" if mn == "TBZ" else "!=", value, Const(0)), _label(ops[2]), ins.pos))

    def barrier(self, ins: Ins) -> None:
        self.arity(ins, 1)
        opt = ins.operands[0]
        if not isinstance(opt, Sym) or opt.text.upper() not in BARRIER_OPTIONS:
            shown = opt.text if isinstance(opt, Sym) else _describe(opt)
            raise Unsupported(opt.pos, f"{ins.written}: unsupported barrier option '{shown}'")
        self.out.append(Fence(f"{ins.mnemonic.lower()}.{opt.text.lower()}", ins.pos))

    def isb(self, ins: Ins) -> None:
        self.arity(ins, 0, 1)
        if ins.operands and not (isinstance(ins.operands[0], Sym) and ins.operands[0].text.upper() == "SY"):
            raise self.fail(ins, "ISB takes no option but SY", ins.operands[0].pos)
        self.out.append(Fence("isb", ins.pos))


def _flag_regs() -> tuple[Reg, Reg, Reg, Reg]:
    return FLAGS.n, FLAGS.z, FLAGS.c, FLAGS.v  # type: ignore[return-value]


def _shift(kind: str, v: Expr, amount: Expr, w: int, n: int | None) -> Expr:
    """`v` (a `w`-bit pattern) shifted by `amount` (`n` when it is a constant)."""
    if kind == "LSL":
        return low(BinOp("<<", v, amount), w)
    if kind == "LSR":
        return BinOp(">>", v, amount)
    if kind == "ASR":
        return low(BinOp(">>", signed(v, w), amount), w)
    assert n is not None  # ROR by a constant: the low bits move to the top
    return BinOp("+", BinOp(">>", v, Const(n)), BinOp("<<", low(v, n), Const(w - n))) if n else v


def _csel_other(mn: str, v: Expr, w: int) -> Expr:
    """The second operand of CSEL/CSINC/CSINV/CSNEG (and what CINC/CINV/CNEG make)."""
    if mn in ("CSINC", "CINC"):
        return low(BinOp("+", v, Const(1)), w)
    if mn in ("CSINV", "CINV"):
        return BinOp("-", Const(ones(w)), v)
    if mn in ("CSNEG", "CNEG"):
        return low(UnOp("-", v), w)
    return v


def _amo_value(op: str, s: Expr, size: int) -> Expr:
    if op == "ADD":
        return low(BinOp("+", Old(), s), size)
    if op == "CLR":
        return BinOp("&", Old(), BinOp("-", Const(ones(size)), s))
    if op in ("EOR", "SET"):
        return BinOp("^" if op == "EOR" else "|", Old(), s)
    if op in ("SMAX", "SMIN"):
        greater = BinOp(">", signed(Old(), size), signed(s, size))
        return Ite(greater, Old(), s) if op == "SMAX" else Ite(greater, s, Old())
    greater = BinOp(">", Old(), s)
    return Ite(greater, Old(), s) if op == "UMAX" else Ite(greater, s, Old())


def _movable(v: int, w: int) -> bool:
    """Whether `MOV Rd, #v` assembles: a MOVZ or MOVN of one 16-bit chunk, or a logical
    (bitmask) immediate."""
    if not -(1 << (w - 1)) <= v < (1 << w):
        return False
    u = v % (1 << w)
    chunks = [(u >> s) & 0xFFFF for s in range(0, w, 16)]
    inverted = [(~u >> s) & 0xFFFF for s in range(0, w, 16)]
    if sum(c != 0 for c in chunks) <= 1 or sum(c != 0 for c in inverted) <= 1:
        return True
    return _bitmask(u, w)


def _bitmask(u: int, w: int) -> bool:
    """An Arm logical immediate: a rotated run of ones, replicated in elements of 2..w bits."""
    if u in (0, (1 << w) - 1):
        return False
    size = w
    while size > 2 and (u & ones(size // 2)) == ((u >> (size // 2)) & ones(size // 2)):
        size //= 2
    e = u & ones(size)
    for r in range(size):
        rot = ((e >> r) | (e << (size - r))) & ones(size)
        if rot & (rot + 1) == 0:  # 0...01...1 after rotating back
            return True
    return False


def _label_name(op: Operand) -> str | None:
    if isinstance(op, RegOp):
        return op.written
    if isinstance(op, Sym):
        return op.text
    return None


def _label(op: Operand) -> str:
    # check_labels has verified that the target is a defined label's name.
    return _label_name(op) or ""


def _describe(op: Operand) -> str:
    if isinstance(op, Imm):
        return f"the immediate '#{op.value}'"
    if isinstance(op, Mem):
        return "a memory operand"
    if isinstance(op, Shift):
        return f"'{op.kind}'"
    if isinstance(op, RegOp):
        return f"the register '{op.written}'"
    return f"'{op.text}'"
