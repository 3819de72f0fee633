"""A concrete X86_64 machine for the oracle: each thread run on concrete 64-bit registers.

Independent of the front end's lowering (`verifier/frontends/x86_lower.py`) and of
`verifier/frontends/bits.py`: only the parsed syntax (`Ins`, operands, addresses as
expressions) is shared.  Each instruction does what the Intel SDM (vol. 2) says:

- the operand size is the suffix's (`movb`/`w`/`l`/`q`), else the register operand's;
- writing a 32-bit register clears bits 63:32, an 8- or 16-bit write keeps the bits above it
  (vol. 1, 3.4.1.1), also for `cmovcc` with a false condition at 32 bits (it still writes);
- immediates are sign-extended to the operand size;
- flags: ADD/SUB/CMP set CF (carry / borrow), OF (signed overflow), ZF, SF; AND/OR/XOR/TEST
  clear CF and OF; INC/DEC leave CF alone; NEG sets CF unless the operand was 0;
- the condition codes of `jcc`/`setcc`/`cmovcc` from ZF, SF, CF, OF (vol. 1, appendix B).

Memory: a plain instruction with a memory operand reads it (a `R.plain` event) and, for a
destination, writes it (`W.plain`); `xchg` with memory and `lock`-prefixed instructions are
locked RMWs (`RMW.locked`).  Reads branch over a finite domain of values, as in `machine.py`.
Addresses are the layout's integers above 2^64; an access must hit a location's address.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from tests.oracle.cat_eval import Unsupported
from tests.oracle.machine import TableRunner
from tests.oracle.traces import Trace
from verifier.frontends.x86_lower import Imm, Ins, Item, Lbl, Mem, RegOp
from verifier.program.ast import BinOp, Const, Expr, LocAddr, Reg


def _mask(v: int, w: int) -> int:
    return v & ((1 << w) - 1)


def _signed(v: int, w: int) -> int:
    v = _mask(v, w)
    return v - (1 << w) if v >> (w - 1) else v


@dataclass(frozen=True)
class XFlags:
    zf: int = 0
    sf: int = 0
    cf: int = 0
    of: int = 0


def holds(cond: str, f: XFlags) -> bool:
    """The SDM's condition codes (`e`, `ne`, `l`, `ge`, `g`, `le`, `b`, `ae`, `a`, `be`, `s`,
    `ns`, `o`, `no` and their synonyms)."""
    names = {"z": "e", "nz": "ne", "nge": "l", "nl": "ge", "nle": "g", "ng": "le", "c": "b", "nae": "b",
             "nb": "ae", "nc": "ae", "nbe": "a", "na": "be", "lt": "l", "gt": "g"}
    c = names.get(cond, cond)
    table = {
        "e": f.zf == 1, "ne": f.zf == 0,
        "l": f.sf != f.of, "ge": f.sf == f.of, "g": f.zf == 0 and f.sf == f.of, "le": f.zf == 1 or f.sf != f.of,
        "b": f.cf == 1, "ae": f.cf == 0, "a": f.cf == 0 and f.zf == 0, "be": f.cf == 1 or f.zf == 1,
        "s": f.sf == 1, "ns": f.sf == 0, "o": f.of == 1, "no": f.of == 0,
    }
    if c not in table:
        raise Unsupported(f"condition {cond}")
    return table[c]


def _arith(op: str, a: int, b: int, w: int) -> tuple[int, XFlags]:
    """`a op b` at width w and its flags (the SDM's ADD, SUB, AND, OR, XOR)."""
    if op == "add":
        full = _mask(a, w) + _mask(b, w)
        r = _mask(full, w)
        of = int(_signed(a, w) + _signed(b, w) != _signed(r, w))
        cf = int(full >> w)
    elif op == "sub":
        r = _mask(a - b, w)
        of = int(_signed(a, w) - _signed(b, w) != _signed(r, w))
        cf = int(_mask(a, w) < _mask(b, w))
    else:
        r = {"and": a & b, "or": a | b, "xor": a ^ b}[op]
        r = _mask(r, w)
        of = cf = 0
    return r, XFlags(int(r == 0), r >> (w - 1), cf, of)


@dataclass
class _State:
    regs: dict[str, int]
    flags: XFlags = XFlags()
    trace: Trace = field(default_factory=Trace)

    def copy(self) -> _State:
        return _State(dict(self.regs), self.flags, self.trace)


class X86Runner(TableRunner):
    """Runs one thread's items on concrete values; reads take each value of the domain."""

    def run(self, items: list[Item], regs: dict[str, int]) -> Iterator[tuple[Trace, dict[str, int]]]:
        labels = {it.name: k for k, it in enumerate(items) if isinstance(it, Lbl)}
        yield from self._from(items, labels, 0, _State(dict(regs)))

    def _from(self, items: list[Item], labels: dict[str, int], pc: int, m: _State) -> Iterator[tuple[Trace, dict[str, int]]]:
        while pc < len(items):
            it = items[pc]
            pc += 1
            if isinstance(it, Lbl):
                continue
            mn = it.mnemonic
            if mn.startswith("j"):
                taken = mn == "jmp" or holds(mn[1:], m.flags)
                if taken:
                    assert it.target is not None
                    if labels[it.target] < pc:
                        raise Unsupported("a backward jump")
                    pc = labels[it.target]
                continue
            mems = [op for op in it.operands if isinstance(op, Mem)]
            if mems:
                for m2 in self.with_memory(m, it, mems[0]):
                    yield from self._from(items, labels, pc, m2)
                return
            self.execute(m, it, None)
        yield m.trace, m.regs

    # ----- operands

    def size(self, it: Ins) -> int:
        if it.size is not None:
            return it.size
        regs = [op.bits for op in it.operands if isinstance(op, RegOp)]
        if not regs:
            raise Unsupported(f"no operand size in '{it.written}'")
        return regs[0]

    def address(self, m: _State, e: Expr) -> int:
        if isinstance(e, LocAddr):
            return self.layout.address[e.name]
        if isinstance(e, Const):
            return e.value
        if isinstance(e, Reg):
            return m.regs.get(e.name, 0)
        if isinstance(e, BinOp) and e.op in ("+", "*"):
            a, b = self.address(m, e.left), self.address(m, e.right)
            return a + b if e.op == "+" else a * b
        raise Unsupported(f"address {e!r}")

    def read_reg(self, m: _State, op: RegOp) -> int:
        return _mask(m.regs.get(op.name, 0), op.bits)

    def write_reg(self, m: _State, op: RegOp, v: int) -> None:
        old = m.regs.get(op.name, 0)
        if op.bits >= 32:
            m.regs[op.name] = _mask(v, op.bits)  # a 32-bit write zero-extends
        else:
            keep = _mask(old, 64) & ~((1 << op.bits) - 1)
            m.regs[op.name] = keep | _mask(v, op.bits)

    def value(self, m: _State, op: object, w: int, mem: int | None) -> int:
        if isinstance(op, Imm):
            if not isinstance(op.value, Const):
                raise Unsupported("an address as an immediate")
            return _mask(op.value.value, w)  # sign-extended to the operand size
        if isinstance(op, RegOp):
            return self.read_reg(m, op)
        if isinstance(op, Mem):
            assert mem is not None
            return mem
        raise Unsupported(f"operand {op!r}")

    # ----- instructions

    def with_memory(self, m: _State, it: Ins, mem: Mem) -> Iterator[_State]:
        w = self.size(it)
        loc = self.layout.location(self.address(m, mem.addr))
        if self.layout.size[loc] != w:
            raise Unsupported(f"a {w}-bit access to {loc}")
        dst_is_mem = bool(it.operands) and it.operands[0] is mem
        locked = it.lock or it.mnemonic == "xchg"
        reads = it.mnemonic != "mov" or not dst_is_mem
        if not reads:  # a store
            v = self.value(m, it.operands[1], w, None)
            out = m.copy()
            out.trace, _ = m.trace.emit(self.recipe("W.plain"), loc, None, v)
            yield out
            return
        for v in sorted(self.domains.get(loc, frozenset({0}))):
            out = m.copy()
            written = self.execute(out, it, v)
            if locked:
                if written is None:
                    raise Unsupported(f"a locked '{it.written}' that writes nothing")
                t, where = m.trace.emit(self.recipe("RMW.locked"), loc, v, written)
                out.trace = replace(t, rmw=(*t.rmw, (where["R"], where["W"])))
            else:
                t, _ = m.trace.emit(self.recipe("R.plain"), loc, v, None)
                if written is not None:
                    t, _ = t.emit(self.recipe("W.plain"), loc, None, written)
                out.trace = t
            yield out

    def execute(self, m: _State, it: Ins, mem: int | None) -> int | None:
        """Run `it` (its memory operand's value `mem`); returns the value it writes to memory."""
        mn, ops = it.mnemonic, it.operands
        if mn in ("mfence", "lfence", "sfence"):
            m.trace, _ = m.trace.emit(self.recipe(f"F.{mn}"), None, None, None)
            return None
        if mn == "nop":
            return None
        w = self.size(it)

        def put(v: int) -> int | None:
            dst = ops[0]
            if isinstance(dst, RegOp):
                self.write_reg(m, dst, v)
                return None
            return _mask(v, w)

        if mn == "mov":
            return put(self.value(m, ops[1], w, mem))
        if mn == "xchg":  # swaps its operands; at most one is memory
            a, b = self.value(m, ops[0], w, mem), self.value(m, ops[1], w, mem)
            out = None
            for op, v in ((ops[0], b), (ops[1], a)):
                if isinstance(op, RegOp):
                    self.write_reg(m, op, v)
                else:
                    out = _mask(v, w)
            return out
        if mn in ("add", "sub", "and", "or", "xor", "cmp", "test"):
            op = {"cmp": "sub", "test": "and"}.get(mn, mn)
            r, m.flags = _arith(op, self.value(m, ops[0], w, mem), self.value(m, ops[1], w, mem), w)
            return None if mn in ("cmp", "test") else put(r)
        if mn == "xadd":
            a, b = self.value(m, ops[0], w, mem), self.value(m, ops[1], w, mem)
            r, m.flags = _arith("add", a, b, w)
            assert isinstance(ops[1], RegOp)
            self.write_reg(m, ops[1], a)
            return put(r)
        if mn in ("inc", "dec"):
            r, f = _arith("add" if mn == "inc" else "sub", self.value(m, ops[0], w, mem), 1, w)
            m.flags = replace(f, cf=m.flags.cf)
            return put(r)
        if mn == "neg":
            a = self.value(m, ops[0], w, mem)
            r, f = _arith("sub", 0, a, w)
            m.flags = replace(f, cf=int(_mask(a, w) != 0))
            return put(r)
        if mn == "not":
            return put(~self.value(m, ops[0], w, mem))
        if mn in ("shl", "sal", "shr", "sar"):
            if len(ops) != 2 or not isinstance(ops[1], Imm):
                raise Unsupported("a shift by a register or by one")
            n = self.value(m, ops[1], 8, None) & (63 if w == 64 else 31)
            a = self.value(m, ops[0], w, mem)
            r = a << n if mn in ("shl", "sal") else (_signed(a, w) >> n if mn == "sar" else _mask(a, w) >> n)
            m.flags = XFlags()  # flags after a shift: never read by the generated programs
            return put(r)
        if mn.startswith("set"):
            return put(int(holds(mn[3:], m.flags)))
        if mn.startswith("cmov"):
            src = self.value(m, ops[1], w, mem)
            dst = ops[0]
            assert isinstance(dst, RegOp)
            # a 32-bit CMOVcc writes its destination (clearing the upper half) even when false
            self.write_reg(m, dst, src if holds(mn[4:], m.flags) else self.read_reg(m, dst))
            return None
        raise Unsupported(f"instruction {it.written}")
