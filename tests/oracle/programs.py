"""Litmus tests as IR: small constructors for hand-written shapes, and a hypothesis strategy
for random kernel-C programs (arch "C") small enough for the brute-force oracle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from verifier.errors import Pos
from verifier.program.ast import (
    Atom,
    BinOp,
    Condition,
    Const,
    Expr,
    Fence,
    If,
    Instr,
    Litmus,
    Load,
    LocAddr,
    Location,
    MemObs,
    Observable,
    Old,
    PAnd,
    Prop,
    PTrue,
    Reg,
    RegObs,
    Rmw,
    Store,
    Thread,
)

P = Pos("<oracle>", 1, 1)

# ---------------------------------------------------------------- constructors (kernel C names)


def load(dst: str, loc: str, cls: str = "once") -> Load:
    return Load(dst, LocAddr(loc), cls, P)


def store(loc: str, value: int | Expr, cls: str = "once") -> Store:
    return Store(LocAddr(loc), Const(value) if isinstance(value, int) else value, cls, P)


def fence(cls: str = "mb") -> Fence:
    return Fence(cls, P)


def xchg(dst: str | None, loc: str, new: int, cls: str = "mb") -> Rmw:
    return Rmw(dst, LocAddr(loc), Const(new), Old(), cls, P)


def fetch_add(dst: str | None, loc: str, k: int, cls: str = "mb") -> Rmw:
    return Rmw(dst, LocAddr(loc), BinOp("+", Old(), Const(k)), Old(), cls, P)


def cmpxchg(dst: str | None, loc: str, expect: int, new: int, cls: str = "mb") -> Rmw:
    """Succeeds (writes `new`) only when the location holds `expect`; returns the old value."""
    return Rmw(dst, LocAddr(loc), Const(new), Old(), cls, P, cond=BinOp("==", Old(), Const(expect)))


def spin_lock(loc: str) -> Rmw:
    """Only executions where the lock was free exist (`require`)."""
    return Rmw(None, LocAddr(loc), Const(1), Old(), "lock", P, require=BinOp("==", Old(), Const(0)))


def if_eq(reg: str, value: int, then: Sequence[Instr], other: Sequence[Instr] = ()) -> If:
    return If(BinOp("==", Reg(reg), Const(value)), tuple(then), tuple(other), P)


def reg(tid: int, name: str, value: int) -> Atom:
    return Atom(RegObs(tid, name), value)


def mem(loc: str, value: int) -> Atom:
    return Atom(MemObs(loc), value)


def litmus(
    name: str,
    threads: Sequence[Sequence[Instr]],
    exists: Sequence[Atom] | Prop,
    locations: Sequence[str] = ("x", "y"),
    observed: Sequence[Observable] = (),
    init: dict[str, int] | None = None,
) -> Litmus:
    prop = exists if not isinstance(exists, Sequence) else PAnd(tuple(exists)) if len(exists) != 1 else exists[0]
    return Litmus(
        arch="C",
        name=name,
        path=f"<oracle>/{name}",
        threads=tuple(Thread(tid, tuple(body)) for tid, body in enumerate(threads)),
        locations=tuple(Location(n, Const((init or {}).get(n, 0))) for n in locations),
        condition=Condition("exists", prop),
        observed=tuple(observed),
    )


# ---------------------------------------------------------------- random programs

LOCS = ("x", "y", "z")
RMW_CLASSES = ("mb", "relaxed", "acquire", "release")
# The oracle's work grows with (value domain)^(reads) * product over locations of (writes)!,
# so the generator caps both: reads (loads and RMWs) per program, writes (stores and RMWs)
# per location.
MAX_READS = 4
MAX_WRITES_PER_LOC = 3


@dataclass
class _Budget:
    reads: int
    writes: dict[str, int]

    def writable(self) -> list[str]:
        return [n for n, k in self.writes.items() if k > 0]


@st.composite
def _simple(draw: st.DrawFn, regs: list[str], budget: _Budget) -> Instr:
    """One instruction that is not an If.  `regs` and `budget` are updated in place."""
    # Weights: mostly plain loads and stores, which make the store->load reorderings that set
    # x86-tso apart from sc; RMWs and fences (which forbid them on x86) less often.
    kinds = ["load"] * 3 if budget.reads > 0 else []
    if budget.writable():
        kinds += ["store"] * 3 + (["rmw"] * 2 if budget.reads > 0 else []) + (["store_reg"] if regs else [])
    kind = draw(st.sampled_from([*kinds, "fence"]))
    if kind == "rmw":
        kind = draw(st.sampled_from(("xchg", "fetch_add", "cmpxchg", "cmpxchg")))
    if kind == "fence":
        return fence(draw(st.sampled_from(("mb", "rmb", "wmb"))))
    loc = draw(st.sampled_from(list(budget.writes) if kind == "load" else budget.writable()))
    if kind != "load":
        budget.writes[loc] -= 1
    if kind == "store":
        return store(loc, draw(st.integers(0, 2)), draw(st.sampled_from(("once", "release"))))
    if kind == "store_reg":
        return store(loc, Reg(draw(st.sampled_from(regs))), draw(st.sampled_from(("once", "release"))))
    budget.reads -= 1
    dst: str | None = f"r{len(regs)}"
    if kind != "load" and draw(st.booleans()) and draw(st.booleans()):
        dst = None  # an RMW whose result is unused
    if dst is not None:
        regs.append(dst)
    if kind == "load":
        assert dst is not None
        return load(dst, loc)
    cls = draw(st.sampled_from(RMW_CLASSES))
    if kind == "xchg":
        return xchg(dst, loc, draw(st.integers(0, 2)), cls)
    if kind == "fetch_add":
        return fetch_add(dst, loc, draw(st.integers(1, 2)), cls)
    return cmpxchg(dst, loc, draw(st.integers(0, 2)), draw(st.integers(0, 2)), cls)


@st.composite
def _instr(draw: st.DrawFn, regs: list[str], budget: _Budget) -> Instr:
    if regs and draw(st.integers(0, 4)) == 0:
        r = draw(st.sampled_from(regs))
        cond = BinOp(draw(st.sampled_from(("==", "!="))), Reg(r), Const(draw(st.integers(0, 2))))
        then = (draw(_simple(regs, budget)),)
        other = (draw(_simple(regs, budget)),) if draw(st.booleans()) else ()
        return If(cond, then, other, P)
    return draw(_simple(regs, budget))


@st.composite
def _thread(draw: st.DrawFn, regs: list[str], budget: _Budget) -> list[Instr]:
    """1-4 instructions.  Half of the threads are `store; ...; load`, the skeleton of SB, R and
    MP-style tests: random bodies alone rarely produce a store->load pair in two threads, the
    one reordering where x86-tso differs from sc."""
    if budget.writable() and budget.reads > 0 and draw(st.booleans()):
        first = store(draw(st.sampled_from(budget.writable())), draw(st.integers(1, 2)))
        assert isinstance(first.addr, LocAddr)
        budget.writes[first.addr.name] -= 1
        budget.reads -= 1  # reserved for the final load
        middle = [draw(_instr(regs, budget)) for _ in range(draw(st.integers(0, 2)))]
        last = load(f"r{len(regs)}", draw(st.sampled_from(list(budget.writes))))
        regs.append(last.dst)
        return [first, *middle, last]
    return [draw(_instr(regs, budget)) for _ in range(draw(st.integers(1, 4)))]


@st.composite
def programs(draw: st.DrawFn) -> Litmus:
    """2-3 threads of 1-4 instructions over 2-3 locations; everything written is observed."""
    locs = LOCS[: draw(st.integers(2, 3))]
    init = {n: draw(st.sampled_from((0, 0, 0, 1, 2))) for n in locs}
    budget = _Budget(MAX_READS, {n: MAX_WRITES_PER_LOC for n in locs})
    threads: list[list[Instr]] = []
    observed: list[Observable] = []
    for tid in range(draw(st.integers(2, 3))):
        regs: list[str] = []
        threads.append(draw(_thread(regs, budget)))
        observed += [RegObs(tid, r) for r in regs]
    observed += [MemObs(n) for n in locs]
    shape = draw(st.integers(0, 2))
    if shape == 0:
        prop: Prop = PTrue()
    else:
        atoms = [Atom(o, draw(st.integers(0, 2))) for o in draw(st.lists(st.sampled_from(observed), min_size=shape, max_size=shape))]
        prop = atoms[0] if len(atoms) == 1 else PAnd(tuple(atoms))
    return litmus("random", threads, prop, locs, observed, init)
