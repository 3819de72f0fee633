"""X86/X86_64 instructions, as parsed by `frontends.x86`, lowered to the program IR.

Values are mathematical integers: operand sizes (b/w/l/q suffixes, 32-bit registers) are
not modelled, which is exact for the reference tests.

Condition codes live in two pseudo-registers, `%cmp_l` and `%cmp_r`: a flag-setting
instruction records the pair it compared (`CMP a,b` -> a, b; an ALU op -> result, 0) and a
conditional jump compares the pair.  With unbounded integers `a - b` never overflows, so
each signed condition is a plain comparison of the pair.  They are written only in threads
that have a conditional jump.  A register name starting with `%` cannot be written in a
condition, so pseudo-registers never reach final states.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from verifier.errors import InputError, Pos
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
    UnOp,
)

FLAG_L: Final = "%cmp_l"
FLAG_R: Final = "%cmp_r"
TMP: Final = "%t"  # holds a memory operand's value for one instruction
END: Final = "%end"  # the label `ret` jumps to, placed after the thread's last instruction

# --------------------------------------------------------------------------- syntax


@dataclass(frozen=True)
class Imm:
    """`$1`, `$x` (the address of x)."""

    value: Expr


@dataclass(frozen=True)
class RegOp:
    """A register, by its canonical name."""

    name: str


@dataclass(frozen=True)
class Mem:
    """A memory operand at address `addr`."""

    addr: Expr


Operand = Imm | RegOp | Mem


@dataclass(frozen=True)
class Ins:
    """One instruction: `mnemonic` in lower case without size suffix, `written` as in the
    file (for messages), operands in Intel order (destination first), jump target."""

    mnemonic: str
    written: str
    lock: bool
    operands: tuple[Operand, ...]
    target: str | None
    pos: Pos


@dataclass(frozen=True)
class Lbl:
    name: str
    pos: Pos


Item = Ins | Lbl

# --------------------------------------------------------------------------- instruction set

BINARY: Final[Mapping[str, str]] = MappingProxyType(
    {"add": "+", "sub": "-", "and": "&", "or": "|", "xor": "^", "shl": "<<", "sal": "<<", "sar": ">>"}
)
_UNARY: Final[Mapping[str, Callable[[Expr], Expr]]] = MappingProxyType(
    {
        "inc": lambda x: BinOp("+", x, Const(1)),
        "dec": lambda x: BinOp("-", x, Const(1)),
        "neg": lambda x: UnOp("-", x),
        "not": lambda x: UnOp("~", x),
    }
)
# Conditional jumps: the comparison of (%cmp_l, %cmp_r) that makes them jump.  `js` jumps
# when the result (l - r) is negative, i.e. l < r.
_JCC: Final[Mapping[str, str]] = MappingProxyType(
    {"je": "==", "jz": "==", "jne": "!=", "jnz": "!=",
     "jl": "<", "jlt": "<", "jnge": "<", "js": "<",
     "jge": ">=", "jnl": ">=", "jns": ">=",
     "jg": ">", "jgt": ">", "jnle": ">", "jle": "<=", "jng": "<="}
)
JUMPS: Final = frozenset(_JCC) | {"jmp"}
FENCES: Final = frozenset({"mfence", "lfence", "sfence"})
NOPS: Final = frozenset({"nop", "endbr64", "endbr32"})
ARITY: Final[Mapping[str, tuple[int, ...]]] = MappingProxyType(
    {
        **{m: (2,) for m in ("mov", "xchg", "cmpxchg", "xadd", "cmp", "test", "add", "sub", "and", "or", "xor")},
        **{m: (1, 2) for m in ("shl", "sal", "sar")},
        **{m: (1,) for m in _UNARY},
        **{m: (0,) for m in (*FENCES, "ret")},
    }
)
LOCKABLE: Final = frozenset({"add", "sub", "and", "or", "xor", "xadd", "xchg", "cmpxchg", *_UNARY})
_SETS_FLAGS: Final = frozenset({*BINARY, "inc", "dec", "neg", "cmp", "test", "xadd", "cmpxchg"})


def mnemonic(word: str) -> str | None:
    """The instruction `word` names (lower case, AT&T size suffix b/w/l/q removed)."""
    w = word.lower()
    if w in ARITY or w in NOPS or w in JUMPS:
        return w
    if w[-1:] in ("b", "w", "l", "q") and (w[:-1] in ARITY or w[:-1] in NOPS):
        return w[:-1]
    return None


# --------------------------------------------------------------------------- lowering


def lower_thread(arch: str, thread: str, items: list[Item]) -> tuple[Instr, ...]:
    """The IR of one thread (`thread` is its name, `P0`, for messages)."""
    return _Lowering(arch, thread, items).run()


class _Lowering:
    def __init__(self, arch: str, thread: str, items: list[Item]) -> None:
        self.acc = "EAX" if arch == "X86" else "rax"  # CMPXCHG's implicit operand
        self.thread = thread
        self.items = items
        self.flags = any(isinstance(i, Ins) and i.mnemonic in _JCC for i in items)
        self.out: list[Instr] = []
        self.end: Pos | None = None  # the first `ret`, if any

    def run(self) -> tuple[Instr, ...]:
        self.check_labels()
        if self.flags and self.flags_may_be_unset():
            # herd starts with every flag clear (ZF = SF = OF = 0): "compared 1 with 0".
            pos = self.items[0].pos
            self.out += [Assign(FLAG_L, Const(1), pos), Assign(FLAG_R, Const(0), pos)]
        for item in self.items:
            if isinstance(item, Lbl):
                self.out.append(Label(item.name, item.pos))
            else:
                self.instruction(item)
        if self.end is not None:
            self.out.append(Label(END, self.end))
        return tuple(self.out)

    def check_labels(self) -> None:
        defined: set[str] = set()
        for item in self.items:
            if isinstance(item, Lbl):
                if item.name in defined:
                    raise InputError(item.pos, f"label '{item.name}' is defined twice in {self.thread}")
                defined.add(item.name)
        for item in self.items:
            if isinstance(item, Ins) and item.target is not None and item.target not in defined:
                raise InputError(item.pos, f"{item.written} to label '{item.target}', which {self.thread} does not define")

    def flags_may_be_unset(self) -> bool:
        """False when the thread runs straight (no label, no jump) into a flag setter."""
        for item in self.items:
            if isinstance(item, Lbl) or item.mnemonic in JUMPS or item.mnemonic == "ret":
                return True
            if item.mnemonic in _SETS_FLAGS:
                return False
        return True

    def fail(self, ins: Ins, message: str) -> InputError:
        return InputError(ins.pos, f"{ins.written}: {message}")

    def set_flags(self, left: Expr, right: Expr, pos: Pos) -> None:
        if self.flags:
            self.out += [Assign(FLAG_L, left, pos), Assign(FLAG_R, right, pos)]

    def read(self, op: Operand, pos: Pos) -> Expr:
        """The value of a source operand; a memory operand is loaded into TMP first."""
        if isinstance(op, Imm):
            return op.value
        if isinstance(op, RegOp):
            return Reg(op.name)
        self.out.append(Load(TMP, op.addr, "plain", pos))
        return Reg(TMP)

    def instruction(self, ins: Ins) -> None:
        mn, ops, pos = ins.mnemonic, ins.operands, ins.pos
        if len(ops) == 2 and all(isinstance(o, Mem) for o in ops):
            raise self.fail(ins, "at most one operand can be in memory")
        if mn in NOPS:
            return
        if mn in FENCES:
            self.out.append(Fence(mn, pos))
        elif mn == "jmp":
            self.out.append(Goto(ins.target or "", pos))
        elif mn in _JCC:
            self.out.append(Branch(BinOp(_JCC[mn], Reg(FLAG_L), Reg(FLAG_R)), ins.target or "", pos))
        elif mn == "ret":
            self.end = self.end or pos
            self.out.append(Goto(END, pos))
        elif mn == "mov":
            self.mov(ins)
        elif mn == "xchg":
            self.xchg(ins)
        elif mn in ("cmpxchg", "xadd"):
            self.rmw_with_register(ins)
        elif mn in ("cmp", "test"):
            left, right = self.read(ops[0], pos), self.read(ops[1], pos)
            if mn == "test":
                left, right = BinOp("&", left, right), Const(0)
            self.set_flags(left, right, pos)
        elif mn in BINARY:
            op = BINARY[mn]
            value = self.read(ops[1], pos) if len(ops) == 2 else Const(1)
            self.modify(ins, lambda x: BinOp(op, x, value), sets_flags=True)
        else:
            # NOT leaves the flags alone.
            self.modify(ins, _UNARY[mn], sets_flags=mn != "not")

    def mov(self, ins: Ins) -> None:
        dst, src = ins.operands
        if isinstance(dst, RegOp) and isinstance(src, Mem):
            self.out.append(Load(dst.name, src.addr, "plain", ins.pos))
        elif isinstance(dst, RegOp):
            self.out.append(Assign(dst.name, self.read(src, ins.pos), ins.pos))
        elif isinstance(dst, Mem):
            self.out.append(Store(dst.addr, self.read(src, ins.pos), "plain", ins.pos))
        else:
            raise self.fail(ins, "the destination cannot be an immediate")

    def xchg(self, ins: Ins) -> None:
        a, b = ins.operands
        if isinstance(a, Mem) and isinstance(b, RegOp):
            a, b = b, a
        if isinstance(a, RegOp) and isinstance(b, Mem):
            # XCHG with memory is always locked, with or without the prefix.
            self.out.append(Rmw(a.name, b.addr, Reg(a.name), Old(), "locked", ins.pos))
        elif isinstance(a, RegOp) and isinstance(b, RegOp):
            self.out += [
                Assign(TMP, Reg(a.name), ins.pos),
                Assign(a.name, Reg(b.name), ins.pos),
                Assign(b.name, Reg(TMP), ins.pos),
            ]
        else:
            raise self.fail(ins, "needs a register operand")

    def rmw_with_register(self, ins: Ins) -> None:
        """`CMPXCHG [x],r` and `XADD [x],r`."""
        dst, src = ins.operands
        if not isinstance(dst, Mem) or not isinstance(src, RegOp):
            raise self.fail(ins, "needs a memory destination and a register source")
        pos, r, acc = ins.pos, src.name, self.acc
        if ins.mnemonic == "cmpxchg" and ins.lock:
            # acc receives the old value whether or not the exchange happens; ZF says
            # whether it did: compare the accumulator before with the old value.
            if self.flags:
                self.out.append(Assign(FLAG_L, Reg(acc), pos))
            cond = BinOp("==", Old(), Reg(acc))
            self.out.append(Rmw(acc, dst.addr, Reg(r), Old(), "locked", pos, cond=cond))
            if self.flags:
                self.out.append(Assign(FLAG_R, Reg(acc), pos))
        elif ins.mnemonic == "cmpxchg":
            # Without LOCK the read and the write are separate accesses, and the write
            # happens either way (storing the old value back on failure), as in the SDM.
            self.out.append(Load(TMP, dst.addr, "plain", pos))
            same = BinOp("==", Reg(TMP), Reg(acc))
            self.out.append(Store(dst.addr, Ite(same, Reg(r), Reg(TMP)), "plain", pos))
            self.set_flags(Reg(acc), Reg(TMP), pos)
            self.out.append(Assign(acc, Reg(TMP), pos))
        elif ins.lock:
            if self.flags:
                self.out.append(Assign(TMP, Reg(r), pos))
            self.out.append(Rmw(r, dst.addr, BinOp("+", Old(), Reg(r)), Old(), "locked", pos))
            self.set_flags(BinOp("+", Reg(r), Reg(TMP)), Const(0), pos)
        else:
            self.out.append(Load(TMP, dst.addr, "plain", pos))
            self.out.append(Store(dst.addr, BinOp("+", Reg(TMP), Reg(r)), "plain", pos))
            self.set_flags(BinOp("+", Reg(TMP), Reg(r)), Const(0), pos)
            self.out.append(Assign(r, Reg(TMP), pos))

    def modify(self, ins: Ins, f: Callable[[Expr], Expr], sets_flags: bool) -> None:
        """`dst = f(dst)` for an ALU instruction; atomic with LOCK, else a read then a write."""
        dst, pos = ins.operands[0], ins.pos
        if isinstance(dst, Imm):
            raise self.fail(ins, "the destination cannot be an immediate")
        if isinstance(dst, RegOp):
            if ins.lock:
                raise self.fail(ins, "LOCK needs a memory destination")
            self.out.append(Assign(dst.name, f(Reg(dst.name)), pos))
            result: Expr = Reg(dst.name)
        elif ins.lock:
            # The RMW returns the result straight into the flag register when it is needed.
            keep = self.flags and sets_flags
            self.out.append(Rmw(FLAG_L if keep else None, dst.addr, f(Old()), f(Old()) if keep else Old(), "locked", pos))
            if keep:
                self.out.append(Assign(FLAG_R, Const(0), pos))
            return
        else:
            self.out.append(Load(TMP, dst.addr, "plain", pos))
            result = f(Reg(TMP))
            self.out.append(Store(dst.addr, result, "plain", pos))
        if sets_flags:
            self.set_flags(result, Const(0), pos)
