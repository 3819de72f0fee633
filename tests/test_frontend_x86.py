"""The X86 (Intel) and X86_64 (AT&T) front end: exact IR, herd's register naming, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.errors import InputError, Pos
from verifier.frontends.bits import CLEAR, Flags, add_flags, low, sub_flags, x86_condition
from verifier.frontends.x86 import parse_x86
from verifier.program.ast import (
    Assign,
    Atom,
    BinOp,
    Branch,
    Condition,
    Const,
    Expr,
    Fence,
    Goto,
    Instr,
    Ite,
    Label,
    Litmus,
    Load,
    LocAddr,
    Location,
    MemObs,
    Old,
    PAnd,
    PTrue,
    Reg,
    RegObs,
    Rmw,
    Store,
    UnOp,
    observed_of,
)

REF = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "litmus"
FILES = sorted((REF / "x86").glob("*/*.litmus")) if (REF / "x86").is_dir() else []
VERDICTS = REF.parent / "verdicts.jsonl"
NO_REF = pytest.mark.skip(reason="reference litmus files absent")


X86_FLAGS = Flags(Reg("%SF"), Reg("%ZF"), Reg("%CF"), Reg("%OF"))


def x86_sub_flags(a: Expr, b: Expr, w: int) -> Flags:
    """The flags of x86's `a - b`: Arm's, with CF the borrow (not Arm's C)."""
    _, arm = sub_flags(a, b, w)
    return Flags(arm.n, arm.z, UnOp("!", arm.c), arm.v)


def w32(e: Expr) -> Expr:
    return low(e, 32)


def _flags(f: Flags, pos: Pos) -> tuple[Assign, ...]:
    return tuple(Assign(r, e, pos) for r, e in zip(("%SF", "%ZF", "%CF", "%OF"), (f.n, f.z, f.c, f.v), strict=True))


def ref_params(items: list) -> list:
    return items or [pytest.param(None, marks=NO_REF)]


def P(line: int, col: int) -> Pos:
    return Pos("t.litmus", line, col)


def parse(text: str) -> Litmus:
    return parse_x86(text, "t.litmus")


def body(text: str, tid: int = 0) -> tuple[Instr, ...]:
    return parse(text).threads[tid].body


def error(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse(text)
    return info.value


def intel(*rows: str, cond: str = "exists (0:EAX=0)") -> str:
    """A one-thread X86 test; row k is on line 3 + k."""
    return "X86 T\n{ }\nP0 ;\n" + "".join(f"{r} ;\n" for r in rows) + cond + "\n"


def att(*rows: str, cond: str = "exists (0:rax=0)", init: str = "") -> str:
    """A one-thread X86_64 test; row k is on line 3 + k."""
    return f"X86_64 T\n{{ {init} }}\nP0 ;\n" + "".join(f"{r} ;\n" for r in rows) + cond + "\n"


# --------------------------------------------------------------------------- reference files


@pytest.mark.parametrize("path", ref_params(FILES), ids=lambda p: p and f"{p.parent.name}/{p.name}")
def test_reference_file_parses(path: Path) -> None:
    text = path.read_text()
    test = parse_x86(text, str(path))
    assert test.arch == text.split()[0]
    assert test.threads


def test_array_cells_and_base_address() -> None:
    t = parse(att("movq 0(%rax,%rbx,8),%rcx", init="int64_t t[2]={1,-1}; 0:rax=t; 0:rbx=1;"))
    cells = {loc.name: loc.init for loc in t.locations}
    assert cells["t[0]"] == Const(1) and cells["t[1]"] == Const((1 << 64) - 1)  # int64_t -1's bit pattern
    assert dict(t.threads[0].reg_init)["rax"] == LocAddr("t[0]")
    with pytest.raises(InputError, match="element type"):
        parse(att("nop", init="t[2];"))
    with pytest.raises(InputError, match="too many initial values"):
        parse(att("nop", init="int64_t t[1]={1,2};"))


def _verdicts(model: str) -> list:
    if not VERDICTS.is_file() or not FILES:
        return []
    rows = [json.loads(line) for line in VERDICTS.read_text().splitlines() if line.strip()]
    return [
        pytest.param(r, id=r["file"])
        for r in rows
        if r["arch"] in ("X86", "X86_64") and r["model"] == model and not r["file"].endswith("A009.litmus")
    ]


@pytest.mark.parametrize("verdict", ref_params(_verdicts("sc")))
def test_condition_and_observables_as_herd_prints_them(verdict: dict) -> None:
    test = parse_x86((REF.parent / verdict["file"]).read_text(), verdict["file"])
    assert {str(o) for o in observed_of(test)} == set(verdict["states"][0])
    assert verdict["condition"].startswith(test.condition.kind + " ")


# A tiny sequentially consistent interpreter of the IR: every interleaving, final states.
# Checking its results against herd's `sc` runs validates the front end's semantics.

State = tuple[tuple[int, ...], tuple[frozenset, ...], frozenset]


def _eval(e: Expr, regs: dict, old: object = None) -> object:
    if isinstance(e, Const):
        return e.value
    if isinstance(e, LocAddr):
        return e.name
    if isinstance(e, Reg):
        return regs.get(e.name, 0)
    if isinstance(e, Old):
        return old
    if isinstance(e, UnOp):
        a = _eval(e.arg, regs, old)
        return {"-": lambda: -a, "~": lambda: ~a, "!": lambda: int(not a)}[e.op]()  # type: ignore[operator]
    if isinstance(e, Ite):
        return _eval(e.then if _eval(e.cond, regs, old) else e.other, regs, old)
    assert isinstance(e, BinOp)
    a, b = _eval(e.left, regs, old), _eval(e.right, regs, old)
    ops = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "&": lambda: a & b,  # type: ignore[operator]
           "|": lambda: a | b, "^": lambda: a ^ b, "<<": lambda: a << b, ">>": lambda: a >> b,  # type: ignore[operator]
           "==": lambda: int(a == b), "!=": lambda: int(a != b), "<": lambda: int(a < b),  # type: ignore[operator]
           ">": lambda: int(a > b), "<=": lambda: int(a <= b), ">=": lambda: int(a >= b),  # type: ignore[operator]
           "&&": lambda: int(bool(a) and bool(b)), "||": lambda: int(bool(a) or bool(b))}
    return ops[e.op]()


def sc_final_states(test: Litmus) -> set[frozenset]:
    bodies = [t.body for t in test.threads]
    labels = [{i.name: k for k, i in enumerate(b) if isinstance(i, Label)} for b in bodies]
    start: State = (
        tuple(0 for _ in bodies),
        tuple(frozenset((r, _eval(v, {})) for r, v in t.reg_init) for t in test.threads),
        frozenset((loc.name, _eval(loc.init, {})) for loc in test.locations),
    )
    finals: set[frozenset] = set()
    seen: set[State] = set()
    todo = [start]
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        pcs, regsets, memset = state
        if all(pc == len(b) for pc, b in zip(pcs, bodies, strict=True)):
            regs_of = [dict(r) for r in regsets]
            mem = dict(memset)
            finals.add(frozenset(
                (str(o), str(regs_of[o.tid].get(o.reg, 0) if isinstance(o, RegObs) else mem[o.loc]))
                for o in observed_of(test)
            ))
        for tid, pc in enumerate(pcs):
            if pc == len(bodies[tid]):
                continue
            ins, regs, mem, nxt = bodies[tid][pc], dict(regsets[tid]), dict(memset), pc + 1
            if isinstance(ins, Assign):
                regs[ins.dst] = _eval(ins.value, regs)
            elif isinstance(ins, Load):
                regs[ins.dst] = mem[_eval(ins.addr, regs)]
            elif isinstance(ins, Store):
                mem[_eval(ins.addr, regs)] = _eval(ins.value, regs)
            elif isinstance(ins, Rmw):
                addr = _eval(ins.addr, regs)
                old = mem[addr]
                if ins.cond is None or _eval(ins.cond, regs, old):
                    mem[addr] = _eval(ins.new, regs, old)
                if ins.dst is not None:
                    regs[ins.dst] = _eval(ins.ret, regs, old)
            elif isinstance(ins, Goto) or (isinstance(ins, Branch) and _eval(ins.cond, regs)):
                nxt = labels[tid][ins.target]
            pcs2 = pcs[:tid] + (nxt,) + pcs[tid + 1:]
            regsets2 = regsets[:tid] + (frozenset(regs.items()),) + regsets[tid + 1:]
            todo.append((pcs2, regsets2, frozenset(mem.items())))
    return finals


@pytest.mark.parametrize("verdict", ref_params(_verdicts("sc")))
def test_sc_final_states_match_herd(verdict: dict) -> None:
    test = parse_x86((REF.parent / verdict["file"]).read_text(), verdict["file"])
    herd = {frozenset(s.items()) for s in verdict["states"]}
    assert sc_final_states(test) == herd


# --------------------------------------------------------------------------- exact IR

SB_INTEL = r"""X86 SB
"PodWR Fre PodWR Fre"
{
}
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
 MOV EAX,[y] | MOV EAX,[x] ;
exists
(0:EAX=0 /\ 1:EAX=0)
"""


def test_sb_intel_exact_ir() -> None:
    test = parse(SB_INTEL)
    assert (test.arch, test.name, test.path) == ("X86", "SB", "t.litmus")
    assert [t.tid for t in test.threads] == [0, 1]
    assert test.threads[0].body == (
        Store(LocAddr("x"), Const(1), "plain", P(6, 2), size=32),
        Load("EAX", LocAddr("y"), "plain", P(7, 2), size=32),
    )
    assert test.threads[1].body == (
        Store(LocAddr("y"), Const(1), "plain", P(6, 16), size=32),
        Load("EAX", LocAddr("x"), "plain", P(7, 16), size=32),
    )
    assert test.threads[0].reg_init == ()
    assert test.locations == (Location("x"), Location("y"))
    assert test.condition == Condition("exists", PAnd((Atom(RegObs(0, "EAX"), 0), Atom(RegObs(1, "EAX"), 0))))
    assert test.observed == () and test.filter is None and test.expected == ()


SB_ATT = r"""X86_64 SB+mfence+po-rfi-po
"MFencedWR Fre PodWW Rfi PodRR Fre"
Generator=diy7 (version 7.57+1)
{
}
 P0            | P1            ;
 movl $1,(x)   | movl $1,(y)   ;
 mfence        | movl $1,(z)   ;
 movl (y),%eax | movl (z),%eax ;
               | movl (x),%ebx ;
exists (0:rax=0 /\ 1:rax=1 /\ 1:rbx=0)
"""


def test_sb_mfence_po_rfi_po_att_exact_ir() -> None:
    test = parse(SB_ATT)
    assert (test.arch, test.name) == ("X86_64", "SB+mfence+po-rfi-po")
    assert test.threads[0].body == (
        Store(LocAddr("x"), Const(1), "plain", P(7, 2), size=32),
        Fence("mfence", P(8, 2)),
        Load("rax", LocAddr("y"), "plain", P(9, 2), size=32),
    )
    assert test.threads[1].body == (
        Store(LocAddr("y"), Const(1), "plain", P(7, 18), size=32),
        Store(LocAddr("z"), Const(1), "plain", P(8, 18), size=32),
        Load("rax", LocAddr("z"), "plain", P(9, 18), size=32),
        Load("rbx", LocAddr("x"), "plain", P(10, 18), size=32),
    )
    assert [loc.name for loc in test.locations] == ["x", "y", "z"]
    assert test.condition.prop == PAnd(
        (Atom(RegObs(0, "rax"), 0), Atom(RegObs(1, "rax"), 1), Atom(RegObs(1, "rbx"), 0))
    )


@pytest.mark.parametrize("path", ref_params([f for f in FILES if f.name == "A006.litmus"]))
def test_a006_branches_and_labels(path: Path) -> None:
    test = parse_x86(path.read_text(), "t.litmus")
    assert test.threads[0].body == (
        Store(LocAddr("x"), Const(2), "plain", P(11, 4), size=32),
        Store(LocAddr("y"), Const(1), "plain", P(12, 4), size=32),
        Goto("%end", P(13, 4)),
        Label("%end", P(13, 4)),
    )
    cmp = x86_sub_flags(w32(Reg("rax")), Const(1), 32)
    assert test.threads[1].body == (
        *_flags(CLEAR, P(11, 21)),
        Load("rax", LocAddr("y"), "plain", P(11, 21), size=32),
        *_flags(cmp, P(12, 21)),
        Branch(x86_condition("e", X86_FLAGS), "L0x3b", P(13, 21)),
        Label("L0x31", P(14, 20)),
        Store(LocAddr("P1_r0"), w32(Reg("rax")), "plain", P(15, 21), size=32),
        Goto("%end", P(16, 21)),
        Label("L0x3b", P(17, 20)),
        Store(LocAddr("x"), Const(1), "plain", P(18, 21), size=32),
        Goto("L0x31", P(19, 21)),
        Label("%end", P(16, 21)),
    )
    assert [loc.name for loc in test.locations] == ["P1_r0", "x", "y"]
    assert test.condition.prop == PAnd((Atom(MemObs("x"), 2), Atom(MemObs("P1_r0"), 1)))


def test_x86_64_registers_are_canonicalised_to_64_bit_lower_case() -> None:
    test = parse(
        "X86_64 T\n"
        "{ 0:EAX=1; 1:%rcx=2; 0:RIP=0 }\n"
        "P0 | P1 ;\n"
        "movl (x),%eax | ;\n"
        "mov %EBX,%r8d | ;\n"
        "movb %sil,(y) | ;\n"
        "MOVQ $1,%R9 | ;\n"
        "movw $2,%ax | ;\n"
        "exists (0:RAX=1 /\\ 1:ecx=2)\n"
    )
    assert test.threads[0].body == (
        Load("rax", LocAddr("x"), "plain", P(4, 1), size=32),
        Assign("r8", low(Reg("rbx"), 32), P(5, 1)),
        Store(LocAddr("y"), low(Reg("rsi"), 8), "plain", P(6, 1), size=8),
        Assign("r9", Const(1), P(7, 1)),
        # A 16-bit write keeps the register's upper bits (Intel SDM 3.4.1.1).
        Assign("rax", BinOp("+", BinOp("-", Reg("rax"), low(Reg("rax"), 16)), Const(2)), P(8, 1)),
    )
    assert test.threads[0].reg_init == (("rax", Const(1)), ("rip", Const(0)))
    assert test.threads[1].reg_init == (("rcx", Const(2)),)
    assert test.condition.prop == PAnd((Atom(RegObs(0, "rax"), 1), Atom(RegObs(1, "rcx"), 2)))


def test_x86_register_names_stay_as_written() -> None:
    test = parse(intel("MOV EBX,[x]", cond="exists (0:EBX=1 /\\ 0:EIP=0)").replace("{ }", "{ 0:ECX=3; }"))
    assert test.threads[0].body == (Load("EBX", LocAddr("x"), "plain", P(4, 1), size=32),)
    assert test.threads[0].reg_init == (("ECX", Const(3)),)
    assert test.condition.prop == PAnd((Atom(RegObs(0, "EBX"), 1), Atom(RegObs(0, "EIP"), 0)))
    # herd's older syntax: `P0:EAX` for `0:EAX`, lower-case mnemonics with spaces.
    old = parse("X86 T\n{ x=0; P0:EAX=1 }\n P0 ;\n mov [x], EAX ;\nexists (P0:EAX=1 /\\ x=1)\n")
    assert old.threads[0].reg_init == (("EAX", Const(1)),)
    assert old.condition.prop == PAnd((Atom(RegObs(0, "EAX"), 1), Atom(MemObs("x"), 1)))


def test_hex_immediates_and_values() -> None:
    assert body(att("movq $0x10,(x)", "movl $-0x2,%eax")) == (
        Store(LocAddr("x"), Const(16), "plain", P(4, 1), size=64),
        Assign("rax", Const(0xFFFFFFFE), P(5, 1)),
    )
    assert body(intel("MOV [x],$0x1F", "MOV EAX,$-1")) == (
        Store(LocAddr("x"), Const(31), "plain", P(4, 1), size=32),
        Assign("EAX", Const(0xFFFFFFFF), P(5, 1)),
    )
    test = parse(att("MOVQ %RBX,(x)", init="uint64_t x; 0:RBX=0x202020202020202;",
                     cond="forall [x] = 0x202020202020202"))
    assert test.threads[0].reg_init == (("rbx", Const(144680345676153346)),)
    assert test.locations == (Location("x", Const(0), "uint64_t"),)
    assert test.condition == Condition("forall", Atom(MemObs("x"), 144680345676153346))


def test_locations_in_order_of_first_appearance_with_initial_values() -> None:
    test = parse(intel("MOV [b],$1", "MOV EAX,[a]", cond="exists (c=1 /\\ 0:EAX=d)").replace("{ }", "{ z=2; 0:EBX=w; }"))
    assert test.locations == (
        Location("z", Const(2)), Location("w"), Location("b"), Location("a"), Location("c"), Location("d"),
    )
    assert test.threads[0].reg_init == (("EBX", LocAddr("w")),)


# --------------------------------------------------------------------------- instructions


def test_intel_register_moves_and_alu() -> None:
    eax, ebx = Reg("EAX"), Reg("EBX")
    assert body(intel("MOV EAX,$1", "MOV EBX,EAX", "ADD EAX,$2", "SUB EAX,EBX", "AND EAX,$7", "OR EAX,$8",
                      "XOR EBX,EBX", "INC EAX", "DEC EAX", "SHL EAX,$2", "NEG EAX", "NOT EAX")) == (
        Assign("EAX", Const(1), P(4, 1)),
        Assign("EBX", w32(eax), P(5, 1)),
        Assign("EAX", w32(BinOp("+", eax, Const(2))), P(6, 1)),
        Assign("EAX", w32(BinOp("-", eax, ebx)), P(7, 1)),
        Assign("EAX", BinOp("&", eax, Const(7)), P(8, 1)),
        Assign("EAX", w32(BinOp("|", eax, Const(8))), P(9, 1)),
        Assign("EBX", w32(BinOp("^", ebx, ebx)), P(10, 1)),
        Assign("EAX", w32(BinOp("+", eax, Const(1))), P(11, 1)),
        Assign("EAX", w32(BinOp("-", eax, Const(1))), P(12, 1)),
        Assign("EAX", w32(BinOp("<<", eax, Const(2))), P(13, 1)),
        Assign("EAX", w32(BinOp("-", Const(0), eax)), P(14, 1)),
        Assign("EAX", w32(BinOp("-", Const(0xFFFFFFFF), eax)), P(15, 1)),
    )


def test_store_of_register_and_fences() -> None:
    assert body(intel("MOV [x],EAX", "MFENCE", "LFENCE", "SFENCE")) == (
        Store(LocAddr("x"), Reg("EAX"), "plain", P(4, 1), size=32),
        Fence("mfence", P(5, 1)),
        Fence("lfence", P(6, 1)),
        Fence("sfence", P(7, 1)),
    )


def test_locked_instructions() -> None:
    x, t = LocAddr("x"), Reg("%t")
    assert body(intel("XCHG [x],EAX", "XCHG EBX,[x]", "LOCK XADD [x],EAX", "LOCK ADD [x],$1", "LOCK INC [x]",
                      "LOCK DEC [x]", "LOCK CMPXCHG [x],EBX", "LOCK; XCHG [x],ECX")) == (
        Rmw("EAX", x, Reg("EAX"), Old(), "locked", P(4, 1), size=32),
        Rmw("EBX", x, Reg("EBX"), Old(), "locked", P(5, 1), size=32),
        Rmw("%t", x, w32(BinOp("+", Old(), Reg("EAX"))), Old(), "locked", P(6, 1), size=32),
        Assign("EAX", w32(t), P(6, 1)),
        Rmw(None, x, w32(BinOp("+", Old(), Const(1))), Old(), "locked", P(7, 1), size=32),
        Rmw(None, x, w32(BinOp("+", Old(), Const(1))), Old(), "locked", P(8, 1), size=32),
        Rmw(None, x, w32(BinOp("-", Old(), Const(1))), Old(), "locked", P(9, 1), size=32),
        Assign("%cmp", Reg("EAX"), P(10, 1)),
        Rmw("%t", x, Reg("EBX"), Old(), "locked", P(10, 1), cond=BinOp("==", Old(), Reg("%cmp")), size=32),
        Assign("EAX", w32(t), P(10, 1)),
        Rmw("ECX", x, Reg("ECX"), Old(), "locked", P(11, 1), size=32),
    )
    assert body(att("lock xaddl %eax,(x)", "lock cmpxchgq %rbx,(x)")) == (
        Rmw("%t", x, w32(BinOp("+", Old(), w32(Reg("rax")))), Old(), "locked", P(4, 1), size=32),
        Assign("rax", w32(t), P(4, 1)),
        Assign("%cmp", Reg("rax"), P(5, 1)),
        Rmw("%t", x, Reg("rbx"), Old(), "locked", P(5, 1), cond=BinOp("==", Old(), Reg("%cmp")), size=64),
        Assign("rax", low(t, 64), P(5, 1)),
    )


def test_unlocked_memory_alu_is_a_read_then_a_write() -> None:
    assert body(intel("ADD [x],$2", "ADD EAX,[y]")) == (
        Load("%t", LocAddr("x"), "plain", P(4, 1), size=32),
        Store(LocAddr("x"), w32(BinOp("+", Reg("%t"), Const(2))), "plain", P(4, 1), size=32),
        Load("%t", LocAddr("y"), "plain", P(5, 1), size=32),
        Assign("EAX", w32(BinOp("+", Reg("EAX"), Reg("%t"))), P(5, 1)),
    )


def test_compare_and_jumps_intel() -> None:
    cmp = x86_sub_flags(Reg("EAX"), Const(1), 32)
    jumps = ["ne", "e", "l", "g", "le", "ge"]
    assert body(intel("CMP EAX,$1", *(f"J{j.upper()} L0" for j in jumps), "JMP L0", "L0:")) == (
        *_flags(CLEAR, P(4, 1)),
        *_flags(cmp, P(4, 1)),
        *(Branch(x86_condition(j, X86_FLAGS), "L0", P(5 + k, 1)) for k, j in enumerate(jumps)),
        Goto("L0", P(11, 1)),
        Label("L0", P(12, 1)),
    )


def test_compare_att_order_and_memory_operand() -> None:
    # `cmp $1,%eax` compares eax against 1: `jl` jumps when eax < 1 (signed).
    cmp = x86_sub_flags(Reg("%t"), Const(1), 32)
    assert body(att("cmpl $1,(x)", "jl L1", "L1: movl $2,%eax")) == (
        *_flags(CLEAR, P(4, 1)),
        Load("%t", LocAddr("x"), "plain", P(4, 1), size=32),
        *_flags(cmp, P(4, 1)),
        Branch(x86_condition("l", X86_FLAGS), "L1", P(5, 1)),
        Label("L1", P(6, 1)),
        Assign("rax", Const(2), P(6, 5)),
    )


def test_flags_only_in_threads_with_conditional_jumps() -> None:
    assert body(intel("CMP EAX,$1", "ADD EAX,$1")) == (Assign("EAX", w32(BinOp("+", Reg("EAX"), Const(1))), P(5, 1)),)
    # A jump reachable before any flag is set sees herd's initial flags (all clear).
    assert body(intel("JE L", "L: ADD EAX,$1", "JNE L"))[:4] == _flags(CLEAR, P(4, 1))
    _, inc = add_flags(Reg("%t"), Const(1), 32)
    assert body(intel("LOCK INC [x]", "JNE L", "L:")) == (
        *_flags(CLEAR, P(4, 1)),
        Rmw("%t", LocAddr("x"), w32(BinOp("+", Old(), Const(1))), Old(), "locked", P(4, 1), size=32),
        *(a for a in _flags(inc, P(4, 1)) if a.dst != "%CF"),  # INC leaves CF alone
        Branch(x86_condition("ne", X86_FLAGS), "L", P(5, 1)),
        Label("L", P(6, 1)),
    )


def test_att_addresses_nops_and_pointer_immediates() -> None:
    eax = w32(Reg("rax"))
    assert body(att("movq 0(%rax,%rbx,8),%rcx", "movl x(%rip),%eax", "movq $y,%rdx", "nop", "endbr64",
                    "nopl 0(%rax,%eax,0)", "nopw 0(%rax,%eax,0)", "NOPL %cs:0(%rax,%eax,0)", "shl 2,%eax",
                    "and %eax,%eax", "ret")) == (
        Load("rcx", BinOp("+", Reg("rax"), BinOp("*", Reg("rbx"), Const(8))), "plain", P(4, 1), size=64),
        Load("rax", LocAddr("x"), "plain", P(5, 1), size=32),
        Assign("rdx", low(LocAddr("y"), 64), P(6, 1)),
        Assign("rax", w32(BinOp("<<", eax, Const(2))), P(12, 1)),
        Assign("rax", w32(BinOp("&", eax, eax)), P(13, 1)),
        Goto("%end", P(14, 1)),
        Label("%end", P(14, 1)),
    )
    assert [loc.name for loc in parse(att("movl x(%rip),%eax", "movq $y,%rdx")).locations] == ["x", "y"]


def test_sc_semantics_of_single_threads() -> None:
    def final(text: str) -> set[frozenset]:
        return sc_final_states(parse(text))

    assert final(att("shl 2,%eax", init="0:RAX=1", cond="forall 0:rax=4")) == {frozenset({("0:rax", "4")})}
    cas = intel("MOV EAX,$1", "LOCK CMPXCHG [x],EBX", "CMP EAX,$1", "JE L", "MOV ECX,$7", "L:",
                cond="exists (x=5 /\\ 0:EAX=1 /\\ 0:ECX=0)").replace("{ }", "{ x=1; 0:EBX=5; }")
    assert final(cas) == {frozenset({("[x]", "5"), ("0:EAX", "1"), ("0:ECX", "0")})}
    failed = cas.replace("x=1;", "x=3;")
    assert final(failed) == {frozenset({("[x]", "3"), ("0:EAX", "3"), ("0:ECX", "7")})}


# --------------------------------------------------------------------------- errors


def test_truncated_table_row_without_semicolon() -> None:
    e = error("X86 T\n{ }\n P0         | P1          ;\n MOV [x],$1 | MOV EAX,[y]\nexists (0:EAX=0)\n")
    assert (e.pos.line, e.pos.col) == (4, 26)
    assert "missing ';'" in e.message


def test_truncated_file() -> None:
    e = error("X86 T\n{ }\n P0         | P1          ;\n MOV [x],$1 | MOV EAX,")
    assert (e.pos.line, e.pos.col) == (4, 23) and "expected an operand" in e.message
    e = error("X86 T\n{ }\n P0 | P1 ")
    assert (e.pos.line, e.pos.col) == (3, 10)


def test_unknown_instruction() -> None:
    e = error(intel("MOV [x],$1", "  FOO [x],$1"))
    assert (e.pos, e.message) == (P(5, 3), "unsupported X86 instruction 'FOO'")
    e = error(att("lock frobq %eax,(x)"))
    assert (e.pos, e.message) == (P(4, 6), "unsupported X86_64 instruction 'frobq'")


def test_bad_operands() -> None:
    e = error(intel("MOV EAX,x"))
    assert e.pos == P(4, 9) and "bad operand 'x'" in e.message
    e = error(intel("MOV eax,[x]"))
    assert e.pos == P(4, 5) and "upper case" in e.message
    e = error(att("movl $1,(%foo)"))
    assert e.pos == P(4, 10) and "unknown X86_64 register '%foo'" in e.message
    e = error(intel("MOV EAX"))
    assert e.pos == P(4, 1) and "takes 2 operand(s), found 1" in e.message
    e = error(intel("MOV [x],[y]"))
    assert e.pos == P(4, 1) and "one operand" in e.message
    e = error(intel("MOV $1,EAX"))
    assert e.pos == P(4, 1) and "immediate" in e.message
    e = error(intel("LOCK MOV [x],$1"))
    assert e.pos == P(4, 1) and "LOCK" in e.message
    e = error(intel("LOCK ADD EAX,$1"))
    assert e.pos == P(4, 1) and "memory destination" in e.message
    e = error(intel("MOV [x],$1 ,"))
    assert e.pos == P(4, 14) and "expected an operand, found ';'" in e.message
    e = error(intel("MOV [x] $1"))
    assert e.pos == P(4, 9) and "expected ',', '|' or ';'" in e.message


def test_missing_condition() -> None:
    """herd7 reads a missing condition as the empty constraint, `forall (true)`."""
    test = parse("X86 T\n{ }\nP0 ;\nMOV [x],$1 ;\n")
    assert test.condition == Condition("forall", PTrue())


def test_table_shape_and_label_errors() -> None:
    e = error("X86 T\n{ }\nP0 | P1 ;\nMOV [x],$1 | | ;\nexists (x=1)\n")
    assert e.pos == P(4, 1) and "3 columns" in e.message
    e = error("X86 T\n{ }\nP0 | P2 ;\nexists (x=1)\n")
    assert e.pos == P(3, 6) and "'P1'" in e.message
    e = error(intel("JMP L9"))
    assert e.pos == P(4, 1) and "'L9'" in e.message
    e = error(intel("L:", "L:"))
    assert e.pos == P(5, 1) and "twice" in e.message
    e = error(intel("MOV [x],$1").replace("{ }", "{ 3:EAX=1; }"))
    assert e.pos == P(2, 1) and "no thread P3" in e.message
    # herd reads a leading zero as decimal, not octal: 08 is 8.
    t = parse(intel("MOV [x],$1", cond="exists (0:EAX=08)"))
    assert t.condition.prop == Atom(RegObs(0, "EAX"), 8)
    e = error("C T\n{ }\nP0 ;\nexists (x=1)\n")
    assert e.pos == Pos("t.litmus", 1, 1)


ATOMS = ["MOV", "mov", "LOCK", "XCHG", "CMPXCHG", "JE", "L0", ":", "[x]", "(x)", "%eax", "EAX", "$1", "0x1f",
         ",", "|", ";", "P0", "P1", "(*", "*)", "{", "}", "exists", "0:EAX=1", "(", ")", "[", "]", "%cs:", "*",
         "+", "-", "$", "\n", " ", "08", "~", "/\\"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ATOMS), max_size=30), st.sampled_from([SB_INTEL, SB_ATT]), st.integers(0, 400))
def test_any_text_gives_a_result_or_an_input_error(atoms: list[str], base: str, at: int) -> None:
    text = base[:at] + " ".join(atoms) + base[at:]
    try:
        parse(text)
    except InputError:
        pass


def test_every_truncation_gives_a_result_or_an_input_error() -> None:
    for text in (SB_INTEL, SB_ATT):
        for n in range(len(text)):
            try:
                parse(text[:n])
            except InputError:
                pass


@pytest.mark.parametrize(
    ("rows", "want"),
    [
        # CF after a subtraction is the borrow (Intel SDM: SUB, CMP), the inverse of Arm's C
        (("movl $3,%eax", "cmpl $5,%eax", "setb %bl"), "0:rbx=1"),
        (("movl $5,%eax", "cmpl $3,%eax", "setb %bl"), "0:rbx=0"),
        (("movl $3,%ecx", "subl $5,%ecx", "setae %bl"), "0:rbx=0"),
        (("movl $3,%eax", "cmpl $3,%eax", "seta %bl"), "0:rbx=0"),
        (("movl $3,%eax", "cmpl $5,%eax", "setbe %bl"), "0:rbx=1"),
        # NEG sets CF unless its operand is 0
        (("movb $0,%dl", "negb %dl", "setb %bl"), "0:rbx=0"),
        (("movb $5,%dl", "negb %dl", "setb %bl"), "0:rbx=1"),
        # DEC keeps CF
        (("movl $3,%eax", "cmpl $5,%eax", "decl %eax", "setb %bl"), "0:rbx=1"),
    ],
)
def test_x86_carry_is_a_borrow_after_subtraction(rows: tuple[str, ...], want: str) -> None:
    """herd7's X86 dialects have no unsigned conditions, so these come from the SDM (the
    engine once gave Arm's carry: found by the X86 machine oracle)."""
    test = parse(att(*rows, cond="exists (0:rbx=0)", init="0:rbx=0;"))
    v = check(test, resolve_model("sc"), want_states=True)
    assert v.states is not None
    assert {f"{k}={x}" for s in v.states for k, x in s if k == "0:rbx"} == {want}
