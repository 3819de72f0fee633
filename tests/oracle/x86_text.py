"""Random X86_64 litmus tests as text, and their final states by the concrete machine.

The programs (AT&T syntax, two threads) mix operand sizes (`b`/`w`/`l`/`q` suffixes and
the 8-, 16-, 32- and 64-bit register names, whose writes merge or zero-extend), against
locations and arrays of each C type; addressing modes (`(x)`, `4(t)`, `(%rsi)`, `8(%rsi)`,
`(%rsi,%rdi,4)`); the flags (ADD/SUB/AND/OR/XOR/CMP/TEST/INC/DEC/NEG read back by `setcc`,
`cmovcc` and forward `jcc`); memory operands of ALU instructions, `xchg` and `lock`-prefixed
RMWs.  `reference_states` runs them on `x86_machine.X86Runner` and enumerates every
execution under a model with `enumerate.Candidate`; the engine reads the same text through
the front end.  Only the text and its parsed syntax are shared.
"""

from __future__ import annotations

from hypothesis import strategies as st

from tests.oracle.a64_text import VALUES, Loc, closed_runs, final_states, litmus_text, locations
from tests.oracle.machine import Layout
from tests.oracle.traces import Trace
from tests.oracle.x86_machine import X86Runner
from verifier.analyses.registry import ModelSpec
from verifier.frontends.x86 import program_items
from verifier.program.ast import Litmus

SUFFIX = {8: "b", 16: "w", 32: "l", 64: "q"}
REGS = {
    8: ("%al", "%bl", "%cl", "%dl"),
    16: ("%ax", "%bx", "%cx", "%dx"),
    32: ("%eax", "%ebx", "%ecx", "%edx"),
    64: ("%rax", "%rbx", "%rcx", "%rdx"),
}
IMMS = (0, 1, -1, 2, 127, -128, 255, 32767, -32768, 65535, 0x7FFFFFFF, -0x80000000)
CONDS = ("e", "ne", "l", "ge", "g", "le", "b", "ae", "a", "be", "s", "ns", "o", "no")


def _imm(draw: st.DrawFn, w: int) -> int:
    """An immediate the assembler accepts at width w (sign-extended from at most 32 bits)."""
    lo, hi = -(1 << (min(w, 32) - 1)), (1 << min(w, 32)) - 1
    return draw(st.sampled_from([v for v in IMMS if lo <= v <= hi]))


@st.composite
def programs(draw: st.DrawFn) -> str:
    """A two-thread X86_64 test as text."""
    locs, init = locations(draw)
    rows: list[list[str]] = []
    observed: list[str] = []
    reads = [0, 0]  # reads, RMWs
    for tid in range(2):
        init.append(f"{tid}:rsi=t;")
        for r in ("rax", "rbx"):
            init.append(f"{tid}:{r}={draw(st.sampled_from(VALUES))};")
        rows.append(_thread(draw, locs, reads))
        observed += [f"{tid}:{r}" for r in ("rax", "rbx", "rcx", "rdx")]
    observed += ["x", "t"]
    return litmus_text("X86_64", init, rows, observed, "0:rax=0")


def _thread(draw: st.DrawFn, locs: list[Loc], reads: list[int]) -> list[str]:
    """3-6 instructions; %rsi points at t[0] throughout; a flag reader always follows the
    instruction that set the flags (so no reader sees a shift's)."""
    code: list[str] = []
    n = draw(st.integers(3, 6))
    label = 0
    # A thread with a flag reader has no shift: the front end refuses that pair by name (a
    # shift leaves flags undefined that a later reader might see).
    flags_or_shifts = ("flags",) if draw(st.booleans()) else ("shift",)
    while len(code) < n:
        kind = draw(st.sampled_from(("alu", "alu", "unary", *flags_or_shifts, "load", "store", "store", "rmw")))
        w = draw(st.sampled_from((8, 16, 32, 64)))
        sfx, regs = SUFFIX[w], REGS[w]
        d, a = draw(st.sampled_from(regs)), draw(st.sampled_from(regs))
        if kind == "alu":
            op = draw(st.sampled_from(("mov", "add", "sub", "and", "or", "xor")))
            src = a if draw(st.booleans()) else f"${_imm(draw, w)}"
            code.append(f"{op}{sfx} {src},{d}")
        elif kind == "unary":
            code.append(f"{draw(st.sampled_from(('inc', 'dec', 'neg', 'not')))}{sfx} {d}")
        elif kind == "shift":
            code.append(f"{draw(st.sampled_from(('shl', 'shr', 'sar')))}{sfx} ${draw(st.integers(1, w - 1))},{d}")
        elif kind == "flags":
            op = draw(st.sampled_from(("cmp", "test", "add", "sub", "and", "xor", "neg", "inc", "dec")))
            if op in ("inc", "dec", "neg"):
                code.append(f"{op}{sfx} {d}")
            else:
                src = a if draw(st.booleans()) or op == "test" else f"${_imm(draw, w)}"
                code.append(f"{op}{sfx} {src},{d}")
            reader = draw(st.sampled_from(("set", "cmov", "jcc")))
            c = draw(st.sampled_from(CONDS))
            if reader == "set":
                code.append(f"set{c} {draw(st.sampled_from(REGS[8]))}")
            elif reader == "cmov":
                w2 = draw(st.sampled_from((16, 32, 64)))
                code.append(f"cmov{c}{SUFFIX[w2]} {draw(st.sampled_from(REGS[w2]))},{draw(st.sampled_from(REGS[w2]))}")
            else:
                code.append(f"j{c} L{label}")
                code.append(f"inc{sfx} {a}")
                code.append(f"L{label}:")
                label += 1
        elif kind in ("load", "store", "rmw"):
            if kind != "store" and reads[0] >= 3 or kind == "rmw" and reads[1]:
                continue  # at most three reads, one RMW (each computed write widens the domain)
            loc = draw(st.sampled_from(locs))
            s = loc.size
            r = draw(st.sampled_from(REGS[s]))
            at = _operand(draw, loc, code)
            if kind == "load":
                reads[0] += 1
                op = draw(st.sampled_from(("mov", "mov", "add", "sub", "and", "or", "xor", "cmp")))
                code.append(f"{op}{SUFFIX[s]} {at},{r}")
            elif kind == "store":
                src = r if draw(st.booleans()) else f"${_imm(draw, s)}"
                code.append(f"mov{SUFFIX[s]} {src},{at}")
            else:
                reads[0] += 1
                reads[1] += 1
                op = draw(st.sampled_from(("xchg", "lock add", "lock xadd", "lock inc", "add", "sub", "or")))
                if op in ("lock inc",):
                    code.append(f"lock inc{SUFFIX[s]} {at}")
                elif op in ("xchg", "lock xadd"):
                    code.append(f"{op}{SUFFIX[s]} {r},{at}")
                else:
                    src = r if draw(st.booleans()) else f"${_imm(draw, s)}"
                    code.append(f"{op}{SUFFIX[s]} {src},{at}")
    return code


def _operand(draw: st.DrawFn, loc: Loc, code: list[str]) -> str:
    if loc.cells is None:
        return f"({loc.name})"
    step = loc.size // 8
    cell = draw(st.integers(0, loc.cells - 1))
    mode = draw(st.sampled_from(("loc", "disp", "base", "index")))
    if mode == "loc" and cell == 0:
        return f"({loc.name})"  # herd7 reads an array's name as its first cell (not `4(t)`)
    if mode == "disp":
        return f"{cell * step}(%rsi)" if cell else "(%rsi)"
    if mode == "base":
        return "(%rsi)" if cell == 0 else f"{cell * step}(%rsi)"
    code.append(f"movq ${cell},%rdi")
    return f"(%rsi,%rdi,{step})" if step > 1 else "(%rsi,%rdi)"


# --------------------------------------------------------------------------- the reference


def machine_runs(text: str, test: Litmus, spec: ModelSpec) -> tuple[list[list[Trace]], dict[str, int], Layout]:
    """Every run of each thread on the X86_64 machine, the initial values and the layout."""
    return closed_runs(program_items(text, test.path), test, spec, X86Runner)  # type: ignore[arg-type]


def reference_states(text: str, test: Litmus, spec: ModelSpec) -> tuple[frozenset[tuple[tuple[str, str], ...]], str]:
    """Every final state (as `Verdict.states` prints them) and the observation."""
    return final_states(machine_runs(text, test, spec), test, spec)
