"""X86/X86_64 instructions, as parsed by `frontends.x86`, lowered to the program IR.

Registers hold unsigned bit patterns of their width: X86's 32-bit registers, X86_64's 64-bit
ones, written through their 8-, 16-, 32- and 64-bit names as the hardware does: a 32-bit write
clears the upper half, an 8- or 16-bit write keeps the bits above it (Intel SDM vol. 1,
3.4.1.1; herd7 clears them, a divergence: docs/herd-divergences.md).  An instruction's
operand size is its suffix (`movb`, `movw`, `movl`, `movq`), else its register operand's
size, else 32 bits; its memory access has that size.

The condition flags ZF, SF, CF, OF are the pseudo-registers `%ZF %SF %CF %OF`, computed at
the operand size (`frontends.bits`) in threads that read them (a conditional jump, `setcc`,
`cmovcc`); herd starts with every flag clear.  A register name starting with `%` cannot be
written in a condition, so pseudo-registers never reach final states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from verifier.errors import InputError, Pos, Unsupported
from verifier.frontends.bits import (
    CLEAR,
    Flags,
    add_flags,
    logic_flags,
    low,
    ones,
    signed,
    sub_flags,
    x86_condition,
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
    LocAddr,
    Old,
    Reg,
    Rmw,
    Store,
    UnOp,
    with_source,
)

FLAGS: Final = Flags(Reg("%SF"), Reg("%ZF"), Reg("%CF"), Reg("%OF"))


def _sub_flags(a: Expr, b: Expr, w: int) -> tuple[Expr, Flags]:
    """`a - b` and x86's flags: CF is the borrow (`a < b` unsigned), the inverse of Arm's C."""
    r, f = sub_flags(a, b, w)
    return r, Flags(f.n, f.z, UnOp("!", f.c), f.v)
TMP: Final = "%t"  # holds a memory operand's value for one instruction
END: Final = "%end"  # the label `ret` jumps to, placed after the thread's last instruction

# --------------------------------------------------------------------------- syntax


@dataclass(frozen=True)
class Imm:
    """`$1`, `$x` (the address of x)."""

    value: Expr


@dataclass(frozen=True)
class RegOp:
    """A register: its canonical (full-width) name and the width the operand names."""

    name: str
    bits: int = 64


@dataclass(frozen=True)
class Mem:
    """A memory operand at address `addr`."""

    addr: Expr


Operand = Imm | RegOp | Mem


@dataclass(frozen=True)
class Ins:
    """One instruction: `mnemonic` in lower case without size suffix, `size` the suffix's
    width (None without one), `written` as in the file (for messages), operands in Intel
    order (destination first), jump target."""

    mnemonic: str
    written: str
    lock: bool
    operands: tuple[Operand, ...]
    target: str | None
    pos: Pos
    size: int | None = None
    text: str = ""  # the whole instruction as written (witnesses name events by it)


@dataclass(frozen=True)
class Lbl:
    name: str
    pos: Pos


Item = Ins | Lbl

# --------------------------------------------------------------------------- instruction set

BINARY: Final[Mapping[str, str]] = MappingProxyType(
    {"add": "+", "sub": "-", "and": "&", "or": "|", "xor": "^", "shl": "<<", "sal": "<<", "sar": ">>", "shr": ">>"}
)
_UNARY: Final = frozenset({"inc", "dec", "neg", "not"})
_CONDS: Final = frozenset({
    "e", "z", "ne", "nz", "l", "nge", "ge", "nl", "g", "nle", "le", "ng", "b", "c", "nae", "ae", "nb", "nc",
    "a", "nbe", "be", "na", "s", "ns", "o", "no",
})
# herd's X86_64 spellings of the signed jumps.
_JCC_ALIASES: Final = {"jlt": "jl", "jgt": "jg"}
JUMPS: Final = frozenset({f"j{c}" for c in _CONDS} | set(_JCC_ALIASES) | {"jmp"})
SETCC: Final = frozenset({f"set{c}" for c in _CONDS})
CMOVCC: Final = frozenset({f"cmov{c}" for c in _CONDS})
FENCES: Final = frozenset({"mfence", "lfence", "sfence"})
NOPS: Final = frozenset({"nop", "endbr64", "endbr32"})
REFUSED: Final = frozenset({"movnti", "clflush", "clflushopt", "movsd", "movd", "movntdqa", "pause", "uxch", "movt"})
ARITY: Final[Mapping[str, tuple[int, ...]]] = MappingProxyType(
    {
        **{m: (2,) for m in ("mov", "xchg", "cmpxchg", "xadd", "cmp", "test", "add", "sub", "and", "or", "xor")},
        **{m: (1, 2) for m in ("shl", "sal", "sar", "shr")},
        **{m: (1,) for m in _UNARY},
        **{m: (1,) for m in SETCC},
        **{m: (2,) for m in CMOVCC},
        **{m: (0,) for m in (*FENCES, "ret")},
        **{m: (0, 1, 2) for m in REFUSED},
    }
)
LOCKABLE: Final = frozenset({"add", "sub", "and", "or", "xor", "xadd", "xchg", "cmpxchg", *_UNARY})
SHIFTS: Final = frozenset({"shl", "sal", "sar", "shr"})
_SIZES: Final = {"b": 8, "w": 16, "l": 32, "q": 64}


def mnemonic(word: str) -> tuple[str, int | None] | None:
    """The instruction `word` names (lower case, AT&T size suffix b/w/l/q removed) and the
    suffix's width."""
    w = word.lower()
    w = _JCC_ALIASES.get(w, w)
    if w in ARITY or w in NOPS or w in JUMPS:
        return w, None
    if w[-1:] in _SIZES and (w[:-1] in ARITY or w[:-1] in NOPS):
        return w[:-1], _SIZES[w[-1]]
    return None


# --------------------------------------------------------------------------- lowering


def lower_thread(arch: str, thread: str, items: list[Item]) -> tuple[Instr, ...]:
    """The IR of one thread (`thread` is its name, `P0`, for messages)."""
    return _Lowering(arch, thread, items).run()


def locked_add_zero(arch: str, loc: str, pos: Pos) -> Instr:
    """Linux's smp_mb() on x86, `LOCK ADD [loc],$0`, as the front end lowers it (for fence
    synthesis, which inserts it where the text will say it)."""
    ins = Ins("add", "LOCK ADD", True, (Mem(LocAddr(loc)), Imm(Const(0))), None, pos)
    lowering = _Lowering(arch, "P0", [ins])
    lowering.instruction(ins)
    (only,) = lowering.out
    return only


class _Lowering:
    def __init__(self, arch: str, thread: str, items: list[Item]) -> None:
        self.arch = arch
        self.acc = "EAX" if arch == "X86" else "rax"  # CMPXCHG's implicit operand
        self.full = 32 if arch == "X86" else 64  # a register's width
        self.thread = thread
        self.items = items
        readers = {i.mnemonic for i in items if isinstance(i, Ins)}
        self.flags = any(m in JUMPS and m != "jmp" or m in SETCC or m in CMOVCC for m in readers)
        self.out: list[Instr] = []
        self.end: Pos | None = None  # the first `ret`, if any

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

    def fail(self, ins: Ins, message: str) -> InputError:
        return InputError(ins.pos, f"{ins.written}: {message}")

    def set_flags(self, f: Flags, pos: Pos, keep_carry: bool = False) -> None:
        if self.flags:
            pairs = [("%SF", f.n), ("%ZF", f.z), ("%CF", f.c), ("%OF", f.v)]
            self.out += [Assign(r, e, pos) for r, e in pairs if not (keep_carry and r == "%CF")]

    def size(self, ins: Ins) -> int:
        """The operand size: the suffix's, else a register operand's, else 32 bits."""
        regs = [op.bits for op in ins.operands if isinstance(op, RegOp)]
        if ins.mnemonic in SHIFTS:
            regs = regs[:1]  # a shift count in a register does not set the size
        if ins.size is not None:
            if any(b != ins.size for b in regs):
                raise self.fail(ins, f"the suffix says {ins.size} bits, a register operand does not")
            return ins.size
        if len(set(regs)) > 1:
            raise self.fail(ins, "operands of different sizes")
        return regs[0] if regs else 32

    def read(self, op: Operand, w: int, pos: Pos) -> Expr:
        """The value of a source operand at width `w`; a memory operand is loaded into TMP."""
        if isinstance(op, Imm):
            if isinstance(op.value, Const) and not -(1 << (w - 1)) <= op.value.value < (1 << w):
                # as an assembler says it; herd7 keeps $300 whole in an 8-bit register
                raise InputError(pos, f"the immediate ${op.value.value} does not fit in {w} bits")
            return op.value if not isinstance(op.value, Const) else low(op.value, w)
        if isinstance(op, RegOp):
            return Reg(op.name) if w >= self.full else low(Reg(op.name), w)
        self.out.append(Load(TMP, op.addr, "plain", pos, size=w))
        return Reg(TMP)

    def write_reg(self, op: RegOp, value: Expr, w: int, pos: Pos) -> None:
        """A register write at width `w`: 32 and 64 bits replace the register (zero-extended),
        8 and 16 bits keep the bits above them."""
        if w >= 32 or w >= self.full:
            self.out.append(Assign(op.name, low(value, w), pos))
        else:
            old = Reg(op.name)
            self.out.append(Assign(op.name, BinOp("+", BinOp("-", old, low(old, w)), low(value, w)), pos))

    def instruction(self, ins: Ins) -> None:
        mn, ops, pos = ins.mnemonic, ins.operands, ins.pos
        if mn in REFUSED:
            raise Unsupported(pos, f"unsupported {self.arch} instruction '{ins.written}'")
        if len(ops) == 2 and all(isinstance(o, Mem) for o in ops):
            raise self.fail(ins, "at most one operand can be in memory")
        if mn in NOPS:
            return
        if mn in FENCES:
            self.out.append(Fence(mn, pos))
        elif mn == "jmp":
            self.out.append(Goto(ins.target or "", pos))
        elif mn in JUMPS:
            self.out.append(Branch(self.condition(ins, mn[1:]), ins.target or "", pos))
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
            w = self.size(ins)
            left, right = self.read(ops[0], w, pos), self.read(ops[1], w, pos)
            if mn == "cmp":
                self.set_flags(_sub_flags(left, right, w)[1], pos)
            else:
                self.set_flags(logic_flags(BinOp("&", left, right), w), pos)
        elif mn in SETCC:
            dst = ops[0]
            holds = Ite(self.condition(ins, mn[3:]), Const(1), Const(0))
            self.store_or_write(ins, dst, holds, 8)
        elif mn in CMOVCC:
            dst, src = ops
            if not isinstance(dst, RegOp):
                raise self.fail(ins, "the destination must be a register")
            w = self.size(ins)
            value = self.read(src, w, pos)
            self.write_reg(dst, Ite(self.condition(ins, mn[4:]), value, self.read(dst, w, pos)), w, pos)
        elif mn in BINARY:
            self.binary(ins)
        else:
            self.unary(ins)

    def condition(self, ins: Ins, cc: str) -> Expr:
        e = x86_condition(cc, FLAGS)
        if e is None:
            raise Unsupported(ins.pos, f"unsupported {self.arch} condition in '{ins.written}'")
        return e

    def store_or_write(self, ins: Ins, dst: Operand, value: Expr, w: int) -> None:
        if isinstance(dst, RegOp):
            self.write_reg(dst, value, w, ins.pos)
        elif isinstance(dst, Mem):
            self.out.append(Store(dst.addr, value, "plain", ins.pos, size=w))
        else:
            raise self.fail(ins, "the destination cannot be an immediate")

    def mov(self, ins: Ins) -> None:
        dst, src = ins.operands
        w = self.size(ins)
        if isinstance(dst, RegOp) and isinstance(src, Mem):
            if w >= 32 or w >= self.full:
                self.out.append(Load(dst.name, src.addr, "plain", ins.pos, size=w))
            else:
                self.out.append(Load(TMP, src.addr, "plain", ins.pos, size=w))
                self.write_reg(dst, Reg(TMP), w, ins.pos)
        else:
            self.store_or_write(ins, dst, self.read(src, w, ins.pos), w)

    def xchg(self, ins: Ins) -> None:
        a, b = ins.operands
        w = self.size(ins)
        if isinstance(a, Mem) and isinstance(b, RegOp):
            a, b = b, a
        if isinstance(a, RegOp) and isinstance(b, Mem):
            # XCHG with memory is always locked, with or without the prefix.
            dst = a.name if w >= 32 or w >= self.full else TMP
            self.out.append(Rmw(dst, b.addr, self.read(a, w, ins.pos), Old(), "locked", ins.pos, size=w))
            if dst == TMP:
                self.write_reg(a, Reg(TMP), w, ins.pos)
        elif isinstance(a, RegOp) and isinstance(b, RegOp):
            self.out.append(Assign(TMP, self.read(a, w, ins.pos), ins.pos))
            self.write_reg(a, self.read(b, w, ins.pos), w, ins.pos)
            self.write_reg(b, Reg(TMP), w, ins.pos)
        else:
            raise self.fail(ins, "needs a register operand")

    def rmw_with_register(self, ins: Ins) -> None:
        """`CMPXCHG [x],r` and `XADD [x],r`."""
        dst, src = ins.operands
        if not isinstance(dst, Mem) or not isinstance(src, RegOp):
            raise self.fail(ins, "needs a memory destination and a register source")
        w = self.size(ins)
        pos = ins.pos
        acc = RegOp(self.acc, self.full)
        r = self.read(src, w, pos)
        expected = self.read(acc, w, pos)
        if ins.mnemonic == "cmpxchg" and ins.lock:
            # The accumulator receives the old value whether or not the exchange happens (on
            # success that is its own value); ZF says whether it did.
            self.out.append(Assign("%cmp", expected, pos))
            cond = BinOp("==", Old(), Reg("%cmp"))
            self.out.append(Rmw(TMP, dst.addr, r, Old(), "locked", pos, cond=cond, size=w))
            self.set_flags(_sub_flags(Reg("%cmp"), Reg(TMP), w)[1], pos)
            self.write_reg(acc, Reg(TMP), w, pos)
        elif ins.mnemonic == "cmpxchg":
            # Without LOCK the read and the write are separate accesses, and the write
            # happens either way (storing the old value back on failure), as in the SDM.
            self.out.append(Load(TMP, dst.addr, "plain", pos, size=w))
            same = BinOp("==", Reg(TMP), expected)
            self.out.append(Store(dst.addr, Ite(same, r, Reg(TMP)), "plain", pos, size=w))
            self.set_flags(_sub_flags(expected, Reg(TMP), w)[1], pos)
            self.write_reg(acc, Reg(TMP), w, pos)
        else:
            if self.flags:
                self.out.append(Assign("%src", r, pos))
                r = Reg("%src")
            if ins.lock:
                self.out.append(Rmw(TMP, dst.addr, low(BinOp("+", Old(), r), w), Old(), "locked", pos, size=w))
            else:
                self.out.append(Load(TMP, dst.addr, "plain", pos, size=w))
                self.out.append(Store(dst.addr, BinOp("+", Reg(TMP), r), "plain", pos, size=w))
            self.set_flags(add_flags(Reg(TMP), r, w)[1], pos)
            self.write_reg(src, Reg(TMP), w, pos)

    def binary(self, ins: Ins) -> None:
        mn, pos = ins.mnemonic, ins.pos
        w = self.size(ins)
        if mn in SHIFTS:
            count = ins.operands[1] if len(ins.operands) == 2 else Imm(Const(1))
            if not isinstance(count, Imm) or not isinstance(count.value, Const):
                raise Unsupported(pos, f"unsupported {self.arch} shift by a register in '{ins.written}'")
            k = count.value.value % (64 if w == 64 else 32)
            if self.flags:
                raise Unsupported(pos, f"unsupported: a conditional after the shift '{ins.written}' (its flags)")
            self.modify(ins, lambda x: _shift(mn, x, k, w), None, w)
            return
        operand = ins.operands[1]

        def flags_of(x: Expr, y: Expr) -> tuple[Expr, Flags]:
            if mn == "add":
                return add_flags(x, y, w)
            if mn == "sub":
                return _sub_flags(x, y, w)
            r = BinOp(BINARY[mn], x, y)
            return r, logic_flags(r, w)

        self.modify(ins, None, (operand, flags_of), w)

    def unary(self, ins: Ins) -> None:
        mn = ins.mnemonic
        w = self.size(ins)

        def flags_of(x: Expr, _: Expr) -> tuple[Expr, Flags]:
            if mn in ("inc", "dec"):
                return (add_flags if mn == "inc" else _sub_flags)(x, Const(1), w)
            return _sub_flags(Const(0), x, w)  # neg: CF is set unless the operand is 0

        if mn == "not":
            self.modify(ins, lambda x: BinOp("-", Const(ones(w)), x), None, w)
        else:
            self.modify(ins, None, (Imm(Const(0)), flags_of), w, keep_carry=mn in ("inc", "dec"))

    def modify(self, ins: Ins, plain, with_flags, w: int, keep_carry: bool = False) -> None:  # type: ignore[no-untyped-def]
        """`dst = f(dst)` for an ALU instruction: `plain` computes the result alone,
        `with_flags` (operand, f) computes it with its flags.  Atomic with LOCK (an RMW of
        the memory operand), else a read then a write."""
        dst, pos = ins.operands[0], ins.pos
        if isinstance(dst, Imm):
            raise self.fail(ins, "the destination cannot be an immediate")

        def compute(x: Expr) -> tuple[Expr, Flags | None]:
            if plain is not None:
                return low(plain(x), w), None
            operand, f = with_flags
            r, flags = f(x, self.read(operand, w, pos))
            return low(r, w), flags

        if isinstance(dst, RegOp):
            if ins.lock:
                raise self.fail(ins, "LOCK needs a memory destination")
            result, flags = compute(self.read(dst, w, pos))
            if flags is not None:
                self.set_flags(flags, pos, keep_carry)
            self.write_reg(dst, result, w, pos)
            return
        if ins.lock:
            result, flags = compute(Old())
            keep = self.flags and flags is not None
            self.out.append(Rmw(TMP if keep else None, dst.addr, result, Old(), "locked", pos, size=w))
            if keep:
                assert flags is not None
                self.set_flags(_substitute_old(flags), pos, keep_carry)
            return
        self.out.append(Load(TMP, dst.addr, "plain", pos, size=w))
        result, flags = compute(Reg(TMP))
        self.out.append(Store(dst.addr, result, "plain", pos, size=w))
        if flags is not None:
            self.set_flags(flags, pos, keep_carry)


def _shift(mn: str, x: Expr, k: int, w: int) -> Expr:
    if mn in ("shl", "sal"):
        return low(BinOp("<<", x, Const(k)), w)
    if mn == "shr":
        return BinOp(">>", x, Const(k))
    return low(BinOp(">>", signed(x, w), Const(k)), w)


def _substitute_old(f: Flags) -> Flags:
    """Flags computed from an RMW's `Old()`, read back from the value the RMW returned (TMP)."""
    return Flags(*(_replace_old(e) for e in (f.n, f.z, f.c, f.v)))


def _replace_old(e: Expr) -> Expr:
    if isinstance(e, Old):
        return Reg(TMP)
    if isinstance(e, BinOp):
        return BinOp(e.op, _replace_old(e.left), _replace_old(e.right))
    if isinstance(e, UnOp):
        return UnOp(e.op, _replace_old(e.arg))
    if isinstance(e, Ite):
        return Ite(_replace_old(e.cond), _replace_old(e.then), _replace_old(e.other))
    return e

