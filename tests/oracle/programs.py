"""Litmus tests as IR: small constructors for hand-written shapes, and hypothesis strategies
for random kernel-C programs (arch "C") and AArch64 programs (arch "AArch64", built directly
as IR) small enough for the brute-force oracle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from verifier.errors import Pos
from verifier.program.ast import (
    Assign,
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
    UnOp,
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


def fetch_andnot(dst: str | None, loc: str, k: int, cls: str = "mb") -> Rmw:
    """atomic_fetch_andnot: clears k's bits, returns the old value."""
    return Rmw(dst, LocAddr(loc), BinOp("&", Old(), UnOp("~", Const(k))), Old(), cls, P)


def _bit(n: int) -> Expr:
    return BinOp("<<", Const(1), Const(n))  # `1<<N`, as the kernel.def rows write it


def test_and_set_bit(dst: str | None, loc: str, n: int, cls: str = "mb") -> Rmw:
    """test_and_set_bit and friends: sets bit n, returns the old bit (`Old >> n & 1`)."""
    old_bit = BinOp("&", BinOp(">>", Old(), Const(n)), Const(1))
    return Rmw(dst, LocAddr(loc), BinOp("|", Old(), _bit(n)), old_bit, cls, P)


def bit_lock(dst: str | None, loc: str, n: int) -> Rmw:
    """test_and_set_bit_lock: an acquire RMW when bit n is clear, only the read when set."""
    old_bit = BinOp("&", BinOp(">>", Old(), Const(n)), Const(1))
    clear = BinOp("==", BinOp("&", Old(), _bit(n)), Const(0))
    return Rmw(dst, LocAddr(loc), BinOp("|", Old(), _bit(n)), old_bit, "acquire", P, cond=clear)


def cmpxchg(dst: str | None, loc: str, expect: int, new: int, cls: str = "mb") -> Rmw:
    """Succeeds (writes `new`) only when the location holds `expect`; returns the old value."""
    return Rmw(dst, LocAddr(loc), Const(new), Old(), cls, P, cond=BinOp("==", Old(), Const(expect)))


def spin_lock(loc: str) -> Rmw:
    """Only executions where the lock was free exist (`require`)."""
    return Rmw(None, LocAddr(loc), Const(1), Old(), "lock", P, require=BinOp("==", Old(), Const(0)))


def spin_unlock(loc: str) -> Store:
    return Store(LocAddr(loc), Const(0), "unlock", P)


def spin_trylock(dst: str, loc: str) -> Rmw:
    """1 if it took the lock (which was free), else 0."""
    free = BinOp("==", Old(), Const(0))
    return Rmw(dst, LocAddr(loc), Const(1), free, "trylock", P, cond=free)


def spin_is_locked(dst: str, loc: str) -> list[Instr]:
    """As the C front end reads it: the lock's value, compared with 0."""
    return [Load(f"%{dst}", LocAddr(loc), "is-locked", P), Assign(dst, BinOp("!=", Reg(f"%{dst}"), Const(0)), P)]


def if_eq(reg: str, value: int, then: Sequence[Instr], other: Sequence[Instr] = ()) -> If:
    return If(BinOp("==", Reg(reg), Const(value)), tuple(then), tuple(other), P)


def reg(tid: int, name: str, value: int) -> Atom:
    return Atom(RegObs(tid, name), value)


def mem(loc: str, value: int) -> Atom:
    return Atom(MemObs(loc), value)


# ---------------------------------------------------------------- constructors (AArch64 classes)
# Classes of encodings/aarch64.tbl: loads plain/acquire (LDAR)/acquire-pc (LDAPR), stores
# plain/release (STLR), fences dmb.sy/dmb.ld/dmb.st/isb, LSE atomics amo/amo-a/amo-l/amo-al
# (one instruction: iico, not po, between read and write; `-noret` when the result is dropped).


def ldr(dst: str, loc: str, cls: str = "plain") -> Load:
    return Load(dst, LocAddr(loc), cls, P)


def str_(loc: str, value: int, cls: str = "plain") -> Store:
    return Store(LocAddr(loc), Const(value), cls, P)


def dmb(cls: str = "dmb.sy") -> Fence:
    return Fence(cls, P)


def _amo(cls: str, dst: str | None) -> str:
    return cls if dst is not None else f"{cls}-noret"


def swp(dst: str | None, loc: str, new: int, cls: str = "amo") -> Rmw:
    """SWP (or with the result dropped, SWP to the zero register)."""
    return Rmw(dst, LocAddr(loc), Const(new), Old(), _amo(cls, dst), P, one_instruction=True)


def ldadd(dst: str | None, loc: str, k: int, cls: str = "amo") -> Rmw:
    """LDADD; STADD when `dst` is None."""
    return Rmw(dst, LocAddr(loc), BinOp("+", Old(), Const(k)), Old(), _amo(cls, dst), P, one_instruction=True)


def cas(dst: str | None, loc: str, expect: int, new: int, cls: str = "amo") -> Rmw:
    """CAS: writes `new` only if the location holds `expect`; `dst` receives the old value."""
    cond = BinOp("==", Old(), Const(expect))
    return Rmw(dst, LocAddr(loc), Const(new), Old(), _amo(cls, dst), P, cond=cond, one_instruction=True)


def litmus(
    name: str,
    threads: Sequence[Sequence[Instr]],
    exists: Sequence[Atom] | Prop,
    locations: Sequence[str] = ("x", "y"),
    observed: Sequence[Observable] = (),
    init: dict[str, int] | None = None,
    arch: str = "C",
) -> Litmus:
    prop = exists if not isinstance(exists, Sequence) else PAnd(tuple(exists)) if len(exists) != 1 else exists[0]
    return Litmus(
        arch=arch,
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


@dataclass(frozen=True)
class _Dialect:
    """What the random programs of one test dialect may contain.

    `dependencies`: registers read from memory may feed stored values and `If` conditions
    (data and control dependencies, which the oracle refuses under models that use them).
    """

    arch: str
    reg: str  # register name prefix
    dependencies: bool

    def register(self, regs: list[str]) -> str:
        return f"{self.reg}{len(regs)}"


KERNEL_C = _Dialect("C", "r", dependencies=True)
KERNEL_C_NO_DEPS = _Dialect("C", "r", dependencies=False)
AARCH64 = _Dialect("AArch64", "X", dependencies=False)


def _kinds(d: _Dialect, regs: list[str], budget: _Budget) -> list[str]:
    # Weights: mostly plain loads and stores, which make the store->load reorderings that set
    # x86-tso apart from sc; RMWs and fences (which forbid them on x86) less often.
    kinds = ["load"] * 3 if budget.reads > 0 else []
    if budget.writable():
        kinds += ["store"] * 3 + (["rmw"] * 2 if budget.reads > 0 else [])
        kinds += ["store_reg"] if regs and d.dependencies else []
    return [*kinds, "fence"]


@st.composite
def _simple(draw: st.DrawFn, d: _Dialect, regs: list[str], budget: _Budget) -> Instr:
    """One instruction that is not an If.  `regs` and `budget` are updated in place."""
    if d.arch == "AArch64":
        return draw(_simple_aarch64(regs, budget))
    kind = draw(st.sampled_from(_kinds(d, regs, budget)))
    if kind == "rmw":
        kind = draw(st.sampled_from(("xchg", "fetch_add", "fetch_andnot", "test_and_set_bit", "bit_lock",
                                     "cmpxchg", "cmpxchg")))
    if kind == "fence":
        return fence(draw(st.sampled_from(("mb", "rmb", "wmb", "barrier"))))
    loc = draw(st.sampled_from(list(budget.writes) if kind == "load" else budget.writable()))
    if kind != "load":
        budget.writes[loc] -= 1
    if kind == "store":
        return store(loc, draw(st.integers(0, 2)), draw(st.sampled_from(("once", "release"))))
    if kind == "store_reg":
        return store(loc, Reg(draw(st.sampled_from(regs))), draw(st.sampled_from(("once", "release"))))
    budget.reads -= 1
    dst: str | None = d.register(regs)
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
    if kind == "fetch_andnot":
        return fetch_andnot(dst, loc, draw(st.integers(1, 2)), cls)
    if kind == "test_and_set_bit":
        return test_and_set_bit(dst, loc, draw(st.integers(0, 1)), cls)
    if kind == "bit_lock":
        return bit_lock(dst, loc, draw(st.integers(0, 1)))
    return cmpxchg(dst, loc, draw(st.integers(0, 2)), draw(st.integers(0, 2)), cls)


A64_LOADS = ("plain", "plain", "acquire", "acquire-pc")
A64_STORES = ("plain", "plain", "release")
A64_FENCES = ("dmb.sy", "dmb.ld", "dmb.st", "isb")
A64_AMOS = ("amo", "amo-a", "amo-l", "amo-al")


@st.composite
def _simple_aarch64(draw: st.DrawFn, regs: list[str], budget: _Budget) -> Instr:
    """LDR/LDAR/LDAPR, STR/STLR, DMB/ISB and the LSE atomics SWP, LDADD, CAS in their four
    orderings, each also with its result dropped (`-noret`: ST<op>, or the zero register)."""
    kind = draw(st.sampled_from(_kinds(AARCH64, regs, budget)))
    if kind == "rmw":
        kind = draw(st.sampled_from(("swp", "ldadd", "cas", "cas")))
    if kind == "fence":
        return dmb(draw(st.sampled_from(A64_FENCES)))
    loc = draw(st.sampled_from(list(budget.writes) if kind == "load" else budget.writable()))
    if kind == "store":
        budget.writes[loc] -= 1
        return str_(loc, draw(st.integers(0, 2)), draw(st.sampled_from(A64_STORES)))
    budget.reads -= 1
    if kind == "load":
        regs.append(AARCH64.register(regs))
        return ldr(regs[-1], loc, draw(st.sampled_from(A64_LOADS)))
    budget.writes[loc] -= 1
    dst: str | None = None if draw(st.integers(0, 2)) == 0 else AARCH64.register(regs)
    if dst is not None:
        regs.append(dst)
    cls = draw(st.sampled_from(A64_AMOS))
    if kind == "swp":
        return swp(dst, loc, draw(st.integers(0, 2)), cls)
    if kind == "ldadd":
        return ldadd(dst, loc, draw(st.integers(1, 2)), cls)
    return cas(dst, loc, draw(st.integers(0, 2)), draw(st.integers(0, 2)), cls)


@st.composite
def _instr(draw: st.DrawFn, d: _Dialect, regs: list[str], budget: _Budget) -> Instr:
    if d.dependencies and regs and draw(st.integers(0, 4)) == 0:
        r = draw(st.sampled_from(regs))
        cond = BinOp(draw(st.sampled_from(("==", "!="))), Reg(r), Const(draw(st.integers(0, 2))))
        then = (draw(_simple(d, regs, budget)),)
        other = (draw(_simple(d, regs, budget)),) if draw(st.booleans()) else ()
        return If(cond, then, other, P)
    return draw(_simple(d, regs, budget))


@st.composite
def _thread(draw: st.DrawFn, d: _Dialect, regs: list[str], budget: _Budget) -> list[Instr]:
    """1-4 instructions.  Half of the threads are `store; ...; load`, the skeleton of SB, R and
    MP-style tests: random bodies alone rarely produce a store->load pair in two threads, the
    one reordering where x86-tso differs from sc."""
    if not d.dependencies:
        return draw(_skeleton_thread(d, regs, budget))
    if budget.writable() and budget.reads > 0 and draw(st.booleans()):
        first = store(draw(st.sampled_from(budget.writable())), draw(st.integers(1, 2)))
        assert isinstance(first.addr, LocAddr)
        budget.writes[first.addr.name] -= 1
        budget.reads -= 1  # reserved for the final load
        middle = [draw(_instr(d, regs, budget)) for _ in range(draw(st.integers(0, 2)))]
        last = load(d.register(regs), draw(st.sampled_from(list(budget.writes))))
        regs.append(last.dst)
        return [first, *middle, last]
    return [draw(_instr(d, regs, budget)) for _ in range(draw(st.integers(1, 4)))]


# Two accesses around a random middle: the skeletons of SB (W..R), MP (W..W and R..R), LB
# (R..W), in which Arm's reorderings (unlike x86's store->load alone) show.
SKELETONS = (("W", "R"), ("W", "W"), ("R", "R"), ("R", "W"))


@st.composite
def _skeleton_thread(draw: st.DrawFn, d: _Dialect, regs: list[str], budget: _Budget) -> list[Instr]:
    """Like `_thread`, for the dialects without dependencies: half of the threads are one of
    the SKELETONS, with random ordering classes on the two accesses."""
    shape = draw(st.sampled_from(SKELETONS)) if draw(st.booleans()) else None
    writes = shape.count("W") if shape else 0
    if shape is None or budget.reads < shape.count("R") or sum(budget.writes.values()) < writes:
        return [draw(_instr(d, regs, budget)) for _ in range(draw(st.integers(1, 4)))]
    # Reserve the budget of both accesses before the middle is drawn.
    budget.reads -= shape.count("R")
    where: list[str | None] = []
    for kind in shape:
        loc = draw(st.sampled_from(budget.writable())) if kind == "W" else None
        if loc is not None:
            budget.writes[loc] -= 1
        where.append(loc)

    def access(kind: str, loc: str | None) -> Instr:
        if kind == "W":
            assert loc is not None
            value = draw(st.integers(1, 2))
            if d.arch == "C":
                return store(loc, value, draw(st.sampled_from(("once", "once", "release"))))
            return str_(loc, value, draw(st.sampled_from(A64_STORES)))
        regs.append(d.register(regs))
        loc = draw(st.sampled_from(list(budget.writes)))
        if d.arch == "C":
            return load(regs[-1], loc, draw(st.sampled_from(("once", "once", "acquire"))))
        return ldr(regs[-1], loc, draw(st.sampled_from(A64_LOADS)))

    first = access(shape[0], where[0])
    middle = [draw(_instr(d, regs, budget)) for _ in range(draw(st.integers(0, 2)))]
    return [first, *middle, access(shape[1], where[1])]


@st.composite
def _programs(draw: st.DrawFn, d: _Dialect) -> Litmus:
    locs = LOCS[: draw(st.integers(2, 3))]
    init = {n: draw(st.sampled_from((0, 0, 0, 1, 2))) for n in locs}
    budget = _Budget(MAX_READS, {n: MAX_WRITES_PER_LOC for n in locs})
    threads: list[list[Instr]] = []
    observed: list[Observable] = []
    for tid in range(draw(st.integers(2, 3))):
        regs: list[str] = []
        threads.append(draw(_thread(d, regs, budget)))
        observed += [RegObs(tid, r) for r in regs]
    observed += [MemObs(n) for n in locs]
    shape = draw(st.integers(0, 2))
    if shape == 0:
        prop: Prop = PTrue()
    else:
        atoms = [Atom(o, draw(st.integers(0, 2))) for o in draw(st.lists(st.sampled_from(observed), min_size=shape, max_size=shape))]
        prop = atoms[0] if len(atoms) == 1 else PAnd(tuple(atoms))
    return litmus("random", threads, prop, locs, observed, init, d.arch)


def programs(dependencies: bool = True) -> st.SearchStrategy[Litmus]:
    """Kernel C: 2-3 threads of 1-4 instructions over 2-3 locations; everything written is
    observed.  Without `dependencies`, no register read from memory feeds a store or an If
    (only the dependencies inside an RMW remain, which the oracle computes)."""
    return _programs(KERNEL_C if dependencies else KERNEL_C_NO_DEPS)


def aarch64_programs() -> st.SearchStrategy[Litmus]:
    """The same shapes in AArch64 classes (arch "AArch64"), without dependencies."""
    return _programs(AARCH64)


# ---------------------------------------------------------------- random programs with locks

LOCK = "s"


@st.composite
def _lock_thread(draw: st.DrawFn, regs: list[str], budget: _Budget) -> list[Instr]:
    """A critical section, a trylock (unlocking if it took the lock), an is_locked query,
    or no lock at all; around 1-2 random accesses to the other locations."""
    body = [draw(_simple(KERNEL_C_NO_DEPS, regs, budget)) for _ in range(draw(st.integers(1, 2)))]
    shape = draw(st.sampled_from(("critical", "critical", "trylock", "is-locked", "none")))
    if shape == "critical":
        return [spin_lock(LOCK), *body, spin_unlock(LOCK)]
    if shape == "none":
        return body
    dst = KERNEL_C_NO_DEPS.register(regs)
    regs.append(dst)
    if shape == "trylock":
        return [spin_trylock(dst, LOCK), *body, if_eq(dst, 1, [spin_unlock(LOCK)])]
    return [*spin_is_locked(dst, LOCK), *body]


@st.composite
def lock_programs(draw: st.DrawFn) -> Litmus:
    """Kernel C: 2-3 threads over x, y and the lock s (used only by lock primitives), no
    dependencies; every register and x, y observed."""
    locs = ("x", "y")
    budget = _Budget(3, {n: 2 for n in locs})
    threads: list[list[Instr]] = []
    observed: list[Observable] = []
    for tid in range(draw(st.integers(2, 3))):
        regs: list[str] = []
        threads.append(draw(_lock_thread(regs, budget)))
        observed += [RegObs(tid, r) for r in regs]
    observed += [MemObs(n) for n in locs]
    atoms = [Atom(o, draw(st.integers(0, 2))) for o in draw(st.lists(st.sampled_from(observed), min_size=1, max_size=2))]
    prop: Prop = atoms[0] if len(atoms) == 1 else PAnd(tuple(atoms))
    return litmus("random-locks", threads, prop, (*locs, LOCK), observed, {}, "C")
