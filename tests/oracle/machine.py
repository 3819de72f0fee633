"""A concrete AArch64 machine for the oracle: each thread run on concrete 64-bit registers.

Independent of the front end's lowering (`verifier/frontends/aarch64_lower.py`) and of
`verifier/frontends/bits.py`: only the parsed syntax (`Ins`, operands) is shared.  Each
instruction is executed as the Arm ARM's pseudo-code describes it: `AddWithCarry` for the
flags, `DecodeBitMasks`-free shifts on Python integers masked to the operand width, the
condition codes from N, Z, C, V, loads that zero- or sign-extend, stores of the low bits.

Reads branch over a finite domain of values (like `traces.py`), giving traces of tagged
events that `enumerate.Candidate` turns into executions.  Locations get addresses of their
own (arrays contiguous by element size); an access must hit a location's address exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from tests.oracle.cat_eval import Unsupported
from tests.oracle.traces import TEvent, Trace
from verifier.events.mapping import Mapping as Table
from verifier.frontends.aarch64_lower import Imm, Ins, Item, Lbl, Mem, RegOp, Shift, Sym

M64 = (1 << 64) - 1


def _mask(v: int, w: int) -> int:
    return v & ((1 << w) - 1)


def _signed(v: int, w: int) -> int:
    v = _mask(v, w)
    return v - (1 << w) if v >> (w - 1) else v


def add_with_carry(x: int, y: int, carry: int, w: int) -> tuple[int, tuple[int, int, int, int]]:
    """The Arm ARM's AddWithCarry: the result and (N, Z, C, V)."""
    unsigned_sum = _mask(x, w) + _mask(y, w) + carry
    signed_sum = _signed(x, w) + _signed(y, w) + carry
    result = _mask(unsigned_sum, w)
    n = result >> (w - 1)
    z = int(result == 0)
    c = int(result != unsigned_sum)
    v = int(_signed(result, w) != signed_sum)
    return result, (n, z, c, v)


def condition(code: str, nzcv: tuple[int, int, int, int]) -> bool:
    """The Arm ARM's ConditionHolds."""
    n, z, c, v = nzcv
    base = {"EQ": z == 1, "CS": c == 1, "HS": c == 1, "MI": n == 1, "VS": v == 1, "HI": c == 1 and z == 0,
            "GE": n == v, "GT": n == v and z == 0, "AL": True}
    inverse = {"NE": "EQ", "CC": "CS", "LO": "HS", "PL": "MI", "VC": "VS", "LS": "HI", "LT": "GE", "LE": "GT", "NV": "AL"}
    code = code.upper()
    if code in base:
        return base[code]
    if code == "NV":
        return True
    return not base[inverse[code]]


def shift(kind: str, v: int, n: int, w: int) -> int:
    v = _mask(v, w)
    if kind == "LSL":
        return _mask(v << n, w)
    if kind == "LSR":
        return v >> n
    if kind == "ASR":
        return _mask(_signed(v, w) >> n, w)
    if kind == "ROR":
        return _mask((v >> n) | (v << (w - n)), w) if n else v
    raise Unsupported(f"shift {kind}")


def extend(kind: str, v: int, w: int) -> int:
    bits = {"B": 8, "H": 16, "W": 32, "X": 64}[kind[3]]
    return _mask(_signed(v, bits) if kind[0] == "S" else _mask(v, bits), w)


@dataclass
class _Machine:
    """One path's state: registers, flags, and the trace so far."""

    regs: dict[str, int]
    nzcv: tuple[int, int, int, int] = (0, 0, 0, 0)
    trace: Trace = field(default_factory=Trace)

    def copy(self) -> _Machine:
        return _Machine(dict(self.regs), self.nzcv, self.trace)


@dataclass(frozen=True)
class Layout:
    """Location name -> address, and the reverse; `size` gives each location's access size
    (the one size every access to it must have)."""

    address: Mapping[str, int]
    size: Mapping[str, int]

    def location(self, a: int) -> str:
        for name, at in self.address.items():
            if at == a:
                return name
        raise Unsupported(f"access to {a:#x}, which is no location's address")


class TableRunner:
    """What a machine needs besides its instructions: the mapping table (events and tags of
    each access), the locations' layout, and each location's value domain."""

    def __init__(self, table: Table, layout: Layout, domains: Mapping[str, frozenset[int]]) -> None:
        self.table = table
        self.layout = layout
        self.domains = domains

    def recipe(self, key: str):  # type: ignore[no-untyped-def]
        r = self.table.recipe(key)
        if r is None:
            raise Unsupported(f"no mapping row {key}")
        return r


class Runner(TableRunner):
    """Runs one thread's items on concrete values; reads take each value of the domain."""

    def run(self, items: list[Item], regs: dict[str, int]) -> Iterator[tuple[Trace, dict[str, int]]]:
        labels = {it.name: k for k, it in enumerate(items) if isinstance(it, Lbl)}
        yield from self._from(items, labels, 0, _Machine(dict(regs)))

    def _from(self, items: list[Item], labels: dict[str, int], pc: int, m: _Machine) -> Iterator[tuple[Trace, dict[str, int]]]:
        while pc < len(items):
            it = items[pc]
            pc += 1
            if isinstance(it, Lbl):
                continue
            mn = it.mnemonic
            if mn == "B" or mn.startswith("B.") or mn in ("CBZ", "CBNZ"):
                target = self._label(it.operands[-1])
                taken = True
                if mn.startswith("B."):
                    taken = condition(mn[2:], m.nzcv)
                elif mn in ("CBZ", "CBNZ"):
                    zero = self.read(m, it.operands[0]) == 0
                    taken = zero if mn == "CBZ" else not zero
                if taken:
                    if labels[target] < pc:
                        raise Unsupported("a backward jump")
                    pc = labels[target]
                continue
            if mn in _LOADS or mn in _STORES:
                for m2 in self.access(m, it):
                    yield from self._from(items, labels, pc, m2)
                return
            self.alu(m, it)
        yield m.trace, m.regs

    @staticmethod
    def _label(op: object) -> str:
        if isinstance(op, Sym):
            return op.text
        if isinstance(op, RegOp):
            return op.written
        raise Unsupported("a branch target")

    # ----- registers

    def read(self, m: _Machine, op: object, w: int | None = None) -> int:
        if isinstance(op, Imm):
            return op.value
        if not isinstance(op, RegOp):
            raise Unsupported(f"operand {op!r}")
        width = w or (64 if op.wide else 32)
        return 0 if op.name is None else _mask(m.regs.get(op.name, 0), width)

    def write(self, m: _Machine, op: object, value: int, w: int) -> None:
        assert isinstance(op, RegOp)
        if op.name is not None:
            m.regs[op.name] = _mask(value, w)  # a W write clears the upper half

    def operand2(self, m: _Machine, ops: tuple[object, ...], w: int) -> int:
        first = ops[0]
        if isinstance(first, Imm):
            amount = ops[1].amount if len(ops) > 1 and isinstance(ops[1], Shift) else 0
            return _mask(first.value << (amount or 0), w)
        v = self.read(m, first)
        if len(ops) == 1:
            return v
        sh = ops[1]
        assert isinstance(sh, Shift)
        if sh.kind.startswith(("UXT", "SXT")):
            return _mask(extend(sh.kind, v, w) << (sh.amount or 0), w)
        return shift(sh.kind, v, sh.amount or 0, w)

    # ----- instructions without memory

    def alu(self, m: _Machine, it: Ins) -> None:
        mn, ops = it.mnemonic, it.operands
        if mn in ("NOP", "DMB", "DSB", "ISB"):
            if mn != "NOP":
                opt = "isb" if mn == "ISB" else f"{mn.lower()}.{ops[0].text.lower()}"  # type: ignore[union-attr]
                m.trace = m.trace.emit(self.recipe(f"F.{opt}"), None, None, None)[0]
            return
        dst = ops[0]
        w = 64 if isinstance(dst, RegOp) and dst.wide else 32
        if mn == "MOV":
            self.write(m, dst, self.read(m, ops[1]) if isinstance(ops[1], RegOp) else ops[1].value, w)  # type: ignore[union-attr]
        elif mn in ("MOVZ", "MOVN", "MOVK"):
            imm = ops[1].value  # type: ignore[union-attr]
            s = ops[2].amount if len(ops) > 2 else 0  # type: ignore[union-attr]
            s = s or 0
            if mn == "MOVZ":
                self.write(m, dst, imm << s, w)
            elif mn == "MOVN":
                self.write(m, dst, ~(imm << s), w)
            else:
                old = self.read(m, dst)
                self.write(m, dst, (old & ~(0xFFFF << s)) | (imm << s), w)
        elif mn in ("ADD", "SUB", "ADDS", "SUBS", "CMP", "CMN"):
            if mn in ("CMP", "CMN"):
                a, rest, out = self.read(m, dst), ops[1:], None
            else:
                a, rest, out = self.read(m, ops[1]), ops[2:], dst
            b = self.operand2(m, rest, w)
            if mn in ("SUB", "SUBS", "CMP"):
                r, flags = add_with_carry(a, _mask(~b, w), 1, w)
            else:
                r, flags = add_with_carry(a, b, 0, w)
            if mn in ("ADDS", "SUBS", "CMP", "CMN"):
                m.nzcv = flags
            whole = m.regs.get(ops[1].name or "", 0) if isinstance(ops[1], RegOp) and out is not None else 0
            if whole >> 64:
                # An address (above 2^64) moved by an offset stays an address: ADD/SUB Xd,Xn,#imm.
                if mn not in ("ADD", "SUB") or w != 64:
                    raise Unsupported(f"{mn} on an address")
                m.regs[out.name] = whole + (b if mn == "ADD" else -b)  # type: ignore[union-attr]
            elif out is not None:
                self.write(m, out, r, w)
        elif mn in ("AND", "ORR", "EOR", "ANDS", "TST", "BIC", "ORN", "EON"):
            if mn == "TST":
                a, rest, out = self.read(m, dst), ops[1:], None
            else:
                a, rest, out = self.read(m, ops[1]), ops[2:], dst
            b = self.operand2(m, rest, w)
            if mn in ("BIC", "ORN", "EON"):
                b = _mask(~b, w)
            r = {"AND": a & b, "ANDS": a & b, "TST": a & b, "BIC": a & b, "ORR": a | b, "ORN": a | b,
                 "EOR": a ^ b, "EON": a ^ b}[mn]
            if mn in ("ANDS", "TST"):
                m.nzcv = (_mask(r, w) >> (w - 1), int(_mask(r, w) == 0), 0, 0)
            if out is not None:
                self.write(m, out, r, w)
        elif mn in ("LSL", "LSR", "ASR", "ROR"):
            self.write(m, dst, shift(mn, self.read(m, ops[1]), self.read(m, ops[2]) % w, w), w)
        elif mn in ("CSEL", "CSINC", "CSINV", "CSNEG"):
            a, b = self.read(m, ops[1]), self.read(m, ops[2])
            other = {"CSEL": b, "CSINC": b + 1, "CSINV": ~b, "CSNEG": -b}[mn]
            self.write(m, dst, a if condition(ops[3].text, m.nzcv) else other, w)  # type: ignore[union-attr]
        elif mn in ("CSET", "CSETM"):
            holds = condition(ops[1].text, m.nzcv)  # type: ignore[union-attr]
            self.write(m, dst, (1 if mn == "CSET" else -1) if holds else 0, w)
        elif mn in ("UBFM", "SBFM"):
            v, r, s = self.read(m, ops[1]), ops[2].value, ops[3].value  # type: ignore[union-attr]
            if s >= r:
                field_ = (v >> r) & ((1 << (s - r + 1)) - 1)
                width = s - r + 1
                value = _signed(field_, width) if mn == "SBFM" else field_
            else:
                field_ = v & ((1 << (s + 1)) - 1)
                value = (_signed(field_, s + 1) if mn == "SBFM" else field_) << (w - r)
            self.write(m, dst, value, w)
        elif mn in ("SXTB", "SXTH", "SXTW", "UXTB", "UXTH"):
            self.write(m, dst, extend(mn, self.read(m, ops[1]), w), w)
        elif mn in ("MUL", "MADD", "MSUB"):
            p = self.read(m, ops[1]) * self.read(m, ops[2])
            acc = self.read(m, ops[3]) if mn != "MUL" else 0
            self.write(m, dst, acc + p if mn != "MSUB" else acc - p, w)
        elif mn in ("NEG", "MVN"):
            b = self.operand2(m, ops[1:], w)
            self.write(m, dst, -b if mn == "NEG" else ~b, w)
        else:
            raise Unsupported(f"instruction {mn}")

    # ----- memory

    def access(self, m: _Machine, it: Ins) -> Iterator[_Machine]:
        mn, ops = it.mnemonic, it.operands
        reg, mem = ops[0], ops[1]
        assert isinstance(reg, RegOp) and isinstance(mem, Mem)
        size, signed_load = _LOADS[mn] if mn in _LOADS else (_STORES[mn], False)
        if size is None:
            size = 64 if reg.wide else 32
        base = m.regs.get(mem.base, 0)
        if mem.index is not None:
            ix = mem.index
            v = self.read(m, ix.reg)
            if ix.ext in ("UXTW", "SXTW"):
                v = extend(ix.ext, v, 64)
            offset = v << ix.shift
        else:
            offset = mem.imm or 0
        # Addresses are the machine's own integers above 2^64 (herd7's symbolic values): an
        # offset moves them, nothing masks them.
        addr = base + (_signed(offset, 64) if mem.mode != "post" else 0)
        loc = self.layout.location(addr)
        if self.layout.size[loc] != size:
            raise Unsupported(f"a {size}-bit access to {loc}")
        after = dict(m.regs)
        if mem.mode in ("pre", "post"):
            after[mem.base] = base + _signed(offset, 64)
        w = 64 if reg.wide else 32
        if mn in _STORES:
            whole = m.regs.get(reg.name, 0) if reg.name is not None else 0
            value = whole if whole >> 64 else self.read(m, reg, size)  # an address is stored whole
            t, _ = m.trace.emit(self.recipe("W.plain"), loc, None, value)
            out = m.copy()
            out.regs, out.trace = after, t
            yield out
            return
        for v in sorted(self.domains.get(loc, frozenset({0}))):
            t, _ = m.trace.emit(self.recipe("R.plain"), loc, v, None)
            out = m.copy()
            out.regs, out.trace = dict(after), replace(t, dependent="register data flow")
            got = extend({8: "SXTB", 16: "SXTH", 32: "SXTW"}[size], v, w) if signed_load else v
            if reg.name is not None:
                out.regs[reg.name] = got if v >> 64 else _mask(got, w)  # an address is loaded whole
            yield out


_LOADS: dict[str, tuple[int | None, bool]] = {
    "LDR": (None, False), "LDRB": (8, False), "LDRH": (16, False),
    "LDRSB": (8, True), "LDRSH": (16, True), "LDRSW": (32, True),
}
_STORES: dict[str, int | None] = {"STR": None, "STRB": 8, "STRH": 16}


def event_values(trace: Trace) -> list[TEvent]:
    return list(trace.events)
