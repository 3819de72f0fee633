"""Random AArch64 litmus tests as text, and their final states by the concrete machine.

The programs mix access widths (bytes to double words, zero- and sign-extending loads, stores
of a register's low bits) against locations and arrays of each C type, the addressing modes
(immediate offsets, pre- and post-index writeback, register offsets with shifts and
extensions), and the flags (ADDS/SUBS/CMP/CMN/ANDS/TST read back by CSET, CSEL and forward
B.cond branches), over two threads.  `reference_states` runs them on `machine.Runner` and
enumerates every execution under a model with `enumerate.Candidate`; the engine reads the same
text through the front end.  Only the text and its parsed syntax are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import product
from typing import Protocol

from hypothesis import strategies as st

from tests.oracle.cat_eval import Unsupported
from tests.oracle.enumerate import Candidate, holds, observation
from tests.oracle.machine import Layout, Runner
from tests.oracle.traces import Ptr, Trace, widened
from verifier.analyses.registry import ModelSpec, all_tags
from verifier.errors import Pos
from verifier.events.mapping import Mapping as Table
from verifier.frontends.aarch64 import program_items
from verifier.program.ast import ArrayObs, Litmus, MemObs, RegObs, observed_of
from verifier.program.types import INT, int_type

# A location: (name, C type, cells or None for a scalar).
TYPES = {8: ("int8_t", "uint8_t"), 16: ("int16_t", "uint16_t"), 32: ("int", "uint32_t"), 64: ("int64_t", "uint64_t")}


@dataclass(frozen=True)
class Loc:
    name: str
    ctype: str
    cells: int | None

    @property
    def size(self) -> int:
        t = int_type(self.ctype)
        assert t is not None
        return t.bits


VALUES = (0, 1, 2, -1, 127, 128, 255, -128, 32767, -32768, 65535, 2147483647, -2147483648, 4294967295,
          0x100000002, -(1 << 63))
CONDS = ("EQ", "NE", "CS", "CC", "MI", "PL", "VS", "VC", "HI", "LS", "GE", "LT", "GT", "LE")


def locations(draw: st.DrawFn) -> tuple[list[Loc], list[str]]:
    """A scalar `x` and a 3-cell array `t`, each of a random C type, and their init items."""
    locs = [Loc("x", draw(st.sampled_from(TYPES[draw(st.sampled_from((8, 16, 32, 64)))])), None)]
    size = draw(st.sampled_from((8, 16, 32, 64)))
    locs.append(Loc("t", draw(st.sampled_from(TYPES[size])), 3))
    init_items = []
    for loc in locs:
        if loc.cells is None:
            init_items.append(f"{loc.ctype} {loc.name} = {draw(st.sampled_from(VALUES))};")
        else:
            vals = ",".join(str(draw(st.sampled_from(VALUES))) for _ in range(loc.cells))
            init_items.append(f"{loc.ctype} {loc.name}[{loc.cells}] = {{{vals}}};")
    return locs, init_items


@st.composite
def programs(draw: st.DrawFn) -> str:
    """A two-thread AArch64 test as text."""
    locs, init_items = locations(draw)
    pointer = draw(st.booleans())
    if pointer:  # a pointer to x, read and followed by P0, maybe rewritten by P1
        init_items.append("uint64_t *p = x;")
    rows: list[list[str]] = []
    observed: list[str] = []
    reads = [1 if pointer else 0]
    for tid in range(2):
        init_items.append(f"{tid}:X10=x; {tid}:X11=t; {tid}:X12=p;" if pointer else f"{tid}:X10=x; {tid}:X11=t;")
        for r in (1, 2):
            init_items.append(f"{tid}:X{r}={draw(st.sampled_from(VALUES))};")
        code = _thread(draw, locs, reads)
        if pointer and tid == 0:
            s = locs[0].size
            mn = {8: "LDRB", 16: "LDRH", 32: "LDR", 64: "LDR"}[s]
            code = ["LDR X6,[X12]", *code[:2], f"{mn} {'X' if s == 64 else 'W'}3,[X6]", *code[2:]]
        if pointer and tid == 1:
            code.insert(draw(st.integers(0, len(code))), "STR X10,[X12]")
        rows.append(code)
        observed += [f"{tid}:X{r}" for r in (1, 2, 3, 4)]
    observed += ["x", "t", *(["p"] if pointer else [])]
    return litmus_text("AArch64", init_items, rows, observed, "0:X1=0")


def litmus_text(arch: str, init: list[str], rows: list[list[str]], observed: list[str], condition: str) -> str:
    """A random test as herd text: the init block, the program table (a column per thread),
    `locations` and an `exists` condition."""
    height = max(len(c) for c in rows)
    table = [" " + " | ".join(f"P{t}" for t in range(len(rows))) + " ;"] + [
        " " + " | ".join((c[k] if k < len(c) else "") for c in rows) + " ;" for k in range(height)
    ]
    return (
        f"{arch} random\n{{ " + " ".join(init) + " }\n" + "\n".join(table)
        + f"\nlocations [{';'.join(observed)};]\nexists ({condition})\n"
    )


def _reg(draw: st.DrawFn, wide: bool, pool: tuple[int, ...] = (1, 2, 3, 4)) -> str:
    return f"{'X' if wide else 'W'}{draw(st.sampled_from(pool))}"


def _thread(draw: st.DrawFn, locs: list[Loc], reads: list[int]) -> list[str]:
    """3-6 instructions; the base registers X10 (x) and X11 (t) are tracked so that every
    access hits a location's address; a branch skips the next instruction."""
    code: list[str] = []
    t_at = 0  # the cell X11 points at
    n = draw(st.integers(3, 6))
    label = 0
    while len(code) < n:
        kind = draw(st.sampled_from(("alu", "alu", "flags", "load", "store", "store", "branch")))
        wide = draw(st.booleans())
        if kind == "alu":
            op = draw(st.sampled_from(("ADD", "SUB", "AND", "ORR", "EOR", "BIC", "LSL", "LSR", "ASR", "MOV",
                                       "MOVK", "UBFM", "SBFM", "SXTB", "MUL", "MVN", "NEG")))
            d, a, b = _reg(draw, wide), _reg(draw, wide), _reg(draw, wide)
            w = 64 if wide else 32
            if op in ("LSL", "LSR", "ASR"):
                code.append(f"{op} {d},{a},#{draw(st.integers(0, w - 1))}")
            elif op == "MOV":
                code.append(f"MOV {d},#{draw(st.sampled_from((0, 1, -1, 255, 65535, -65536)))}")
            elif op == "MOVK":
                code.append(f"MOVK {d},#{draw(st.integers(0, 65535))},LSL #{draw(st.sampled_from((0, 16)))}")
            elif op in ("UBFM", "SBFM"):
                code.append(f"{op} {d},{a},#{draw(st.integers(0, w - 1))},#{draw(st.integers(0, w - 1))}")
            elif op == "SXTB":
                code.append(f"SXTB {d},{_reg(draw, False)}")
            elif op in ("MVN", "NEG"):
                code.append(f"{op} {d},{a}")
            elif op == "MUL":
                code.append(f"MUL {d},{a},{b}")
            elif op in ("ADD", "SUB") and draw(st.booleans()):
                ext = draw(st.sampled_from(("UXTB", "SXTH", "SXTW", "UXTW"))) if wide else draw(st.sampled_from(("UXTB", "SXTH")))
                code.append(f"{op} {d},{a},{_reg(draw, False)},{ext} #{draw(st.integers(0, 4))}")
            else:
                sh = draw(st.sampled_from(("", ",LSL #1", ",LSR #3", ",ASR #2")))
                code.append(f"{op} {d},{a},{b}{sh}")
        elif kind == "flags":
            op = draw(st.sampled_from(("CMP", "CMN", "ADDS", "SUBS", "ANDS", "TST")))
            a, b = _reg(draw, wide), _reg(draw, wide)
            second = b if draw(st.booleans()) else f"#{draw(st.integers(0, 4095))}"
            if op in ("ANDS", "TST") and second.startswith("#"):
                second = b
            code.append(f"{op} {a},{second}" if op in ("CMP", "CMN", "TST") else f"{op} {_reg(draw, wide)},{a},{second}")
            reader = draw(st.sampled_from(("CSET", "CSEL", "CSINC")))
            c = draw(st.sampled_from(CONDS))
            d = _reg(draw, wide)
            code.append(f"CSET {d},{c}" if reader == "CSET" else f"{reader} {d},{a},{b},{c}")
        elif kind == "branch" and len(code) + 2 <= n:
            if draw(st.booleans()):
                code.append(f"CMP {_reg(draw, wide)},#{draw(st.integers(0, 3))}")
            test = draw(st.sampled_from(CONDS))
            code.append(f"B.{test} L{label}")
            code.append(f"ADD {_reg(draw, wide)},{_reg(draw, wide)},#1")
            code.append(f"L{label}:")
            label += 1
        elif kind in ("load", "store") and (kind == "store" or reads[0] < 3):
            loc = draw(st.sampled_from(locs))
            s = loc.size
            if kind == "load":
                reads[0] += 1
                signed_ = s < 64 and draw(st.booleans())
                mn = {8: "LDRB", 16: "LDRH", 32: "LDR", 64: "LDR"}[s]
                if signed_:
                    mn = {8: "LDRSB", 16: "LDRSH", 32: "LDRSW"}[s]
                wide_dst = s == 64 or (signed_ and (s == 32 or draw(st.booleans())))
                r = _reg(draw, wide_dst)
            else:
                mn = {8: "STRB", 16: "STRH", 32: "STR", 64: "STR"}[s]
                r = _reg(draw, s == 64)
            if loc.cells is None:
                code.append(f"{mn} {r},[X10]")
                continue
            step = s // 8
            mode = draw(st.sampled_from(("offset", "pre", "post", "index", "none")))
            target = draw(st.integers(0, loc.cells - 1))
            delta = (target - t_at) * step
            if mode == "offset":
                code.append(f"{mn} {r},[X11,#{delta}]")
            elif mode == "pre":
                code.append(f"{mn} {r},[X11,#{delta}]!")
                t_at = target
            elif mode == "post":
                move = draw(st.integers(-t_at, loc.cells - 1 - t_at)) * step
                code.append(f"{mn} {r},[X11],#{move}")
                t_at += move // step
            elif mode == "index" and 0 <= target - t_at:
                code.append(f"MOV X5,#{target - t_at}")
                shift_ = (s // 8).bit_length() - 1
                code.append(f"{mn} {r},[X11,X5,LSL #{shift_}]" if shift_ else f"{mn} {r},[X11,X5]")
            else:
                code.append(f"{mn} {r},[X11]")
    return code


# --------------------------------------------------------------------------- the reference


def _layout(test: Litmus) -> Layout:
    """Addresses of the machine's own (above every 64-bit integer, so that no computed value
    is taken for one): a page per scalar or array, cells by element size."""
    address: dict[str, int] = {}
    size: dict[str, int] = {}
    base = 1 << 72
    for loc in test.locations:
        t = int_type(loc.ctype) or (INT if not (loc.ctype or "").endswith("*") else int_type("uint64_t"))
        assert t is not None
        if loc.array is None:
            address[loc.name] = base
            base += 0x1000
        else:
            arr, i = loc.array
            first = f"{arr}[0]"
            address[loc.name] = address.get(first, base) + i * (t.bits // 8)
            if i == 0:
                base += 0x1000
        size[loc.name] = t.bits
    return Layout(address, size)


def _pattern(test: Litmus, name: str, value: int, layout: Layout) -> int:
    """What a load of the location's size reads of its initial value."""
    loc = next(x for x in test.locations if x.name == name)
    t = int_type(loc.ctype) or INT
    return value % (1 << t.bits) % (1 << layout.size[name])


def _pointer(test: Litmus, o: object) -> bool:
    loc = next((x for x in test.locations if isinstance(o, MemObs) and x.name == o.loc), None)
    return loc is not None and (loc.ctype or "").endswith("*")


class _Runs(Protocol):
    def run(self, items: list, regs: dict[str, int]) -> Iterator[tuple[Trace, dict[str, int]]]: ...  # type: ignore[type-arg]


def closed_runs(
    items: list[list[object]], test: Litmus, spec: ModelSpec, runner: Callable[[Table, Layout, dict[str, frozenset[int]]], _Runs]
) -> tuple[list[list[Trace]], dict[str, int], Layout]:
    """Every run of each thread's `items` on a machine (`runner(table, layout, domains)`),
    reads over the closed value domain; the locations' initial values; the layout."""
    mapping = spec.mapping_for(test.arch, Pos(test.path, 1, 1))
    layout = _layout(test)
    inits: dict[str, int] = {}
    for loc in test.locations:
        v = loc.init
        if hasattr(v, "value"):
            inits[loc.name] = _pattern(test, loc.name, v.value, layout)  # type: ignore[union-attr]
        else:
            inits[loc.name] = layout.address[v.name]  # type: ignore[union-attr]

    def regs_of(tid: int) -> dict[str, int]:
        out: dict[str, int] = {}
        for reg, e in test.threads[tid].reg_init:
            name = getattr(e, "name", None)
            out[reg] = layout.address[name] if name is not None else e.value % (1 << 64)  # type: ignore[union-attr]
        return out

    domains = {n: frozenset({v}) for n, v in inits.items()}
    for _ in range(8):
        machine = runner(mapping, layout, domains)
        per_thread = [[_finish(t, r) for t, r in machine.run(items[tid], regs_of(tid))] for tid in range(len(items))]
        fixed = widened(domains, per_thread)  # type: ignore[arg-type]
        if fixed == domains:
            break
        domains = fixed
    return per_thread, inits, layout


def final_states(
    runs: tuple[list[list[Trace]], dict[str, int], Layout], test: Litmus, spec: ModelSpec
) -> tuple[frozenset[tuple[tuple[str, str], ...]], str]:
    """Every final state of the runs under the model (as `Verdict.states` prints them) and
    the observation."""
    per_thread, inits, layout = runs
    addr_of = {a: n for n, a in layout.address.items()}
    observed = observed_of(test)
    models = (*spec.prelude, spec.cat)
    tags = all_tags()
    found: dict[tuple[tuple[str, str], ...], bool] = {}
    for combo in product(*per_thread):
        cand = Candidate(list(combo), [t.tid for t in test.threads], dict(inits))  # type: ignore[arg-type]
        cand.dependent = None  # sc and x86-tso read no dependency relation
        rf_choices = cand.rf_choices()
        if rf_choices is None:
            continue
        for co in cand.co_orders():
            value = cand.observer(co)
            state = tuple((str(o), _show(test, o, value, addr_of, layout)) for o in observed)
            if state in found:
                continue
            for rf in product(*rf_choices):
                if cand.allowed(models, frozenset(rf), co, tags):
                    found[state] = holds(test.condition.prop, lambda o, value=value: _typed(test, o, value(o)))
                    break
    return frozenset(found), observation(found.values())


def machine_runs(text: str, test: Litmus, spec: ModelSpec) -> tuple[list[list[Trace]], dict[str, int], Layout]:
    """Every run of each thread on the AArch64 machine, the initial values and the layout."""
    return closed_runs(program_items(text, test.path), test, spec, Runner)  # type: ignore[arg-type]


def reference_states(text: str, test: Litmus, spec: ModelSpec) -> tuple[frozenset[tuple[tuple[str, str], ...]], str]:
    """Every final state (as `Verdict.states` prints them) and the observation."""
    return final_states(machine_runs(text, test, spec), test, spec)


def _finish(trace: Trace, regs: dict[str, int]) -> Trace:
    return replace(trace, env=dict(regs))


def _type(test: Litmus, o: RegObs | MemObs):  # type: ignore[no-untyped-def]
    if isinstance(o, RegObs):
        return INT
    loc = next(x for x in test.locations if x.name == o.loc)
    return int_type(loc.ctype) or INT


def _typed(test: Litmus, o: object, v: object) -> object:
    if isinstance(v, Ptr) or not isinstance(v, int) or not isinstance(o, (RegObs, MemObs)):
        return v
    return _type(test, o).cast(v)


def _show(test: Litmus, o: object, value, addr_of: dict[int, str], layout: Layout) -> str:  # type: ignore[no-untyped-def]
    if isinstance(o, ArrayObs):
        cells = [MemObs(x.name) for x in test.locations if x.array is not None and x.array[0] == o.name]
        return "{" + ",".join(_show(test, c, value, addr_of, layout) for c in cells) + "}"
    v = value(o)
    assert isinstance(o, (RegObs, MemObs))
    if isinstance(v, int) and v in addr_of:
        name = addr_of[v]
        return name[:-3] if name.endswith("[0]") else name
    if isinstance(v, int) and v >> 64:
        raise Unsupported("an address inside a location in a final state")
    return str(_typed(test, o, v))
