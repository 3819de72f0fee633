"""The events of a litmus test: what the SMT stage and the models reason about."""

from __future__ import annotations

from dataclasses import dataclass, field

from verifier.errors import Pos
from verifier.events.sym import Sym
from verifier.program.ast import Litmus

INIT_TID = -1

# A dependency edge: (read eid, dependent event eid, condition under which it exists).
Dep = tuple[int, int, Sym]


@dataclass(frozen=True)
class Event:
    """One memory event.  It happens iff `guard` holds; a tag holds iff its condition does.

    `addr` is the location's address (None for fences); `value` is what a write stores or
    `SRead(eid)` for a read.  `cls` is the mapping-table class the event came from
    (e.g. "W.once"), kept for witnesses and fence synthesis.
    """

    eid: int
    tid: int
    kind: str  # "R", "W", "F", or "L" (a herd7 lock event: a location, no value)
    tags: tuple[tuple[str, Sym], ...]
    guard: Sym
    addr: Sym | None
    value: Sym | None
    pos: Pos | None
    cls: str
    # The access's size in bits (assembly dialects); None: whole integers (kernel C, init).
    size: int | None = None
    # The instruction as written (`atomic_add_return(1024, pincount)`, `LDAR W0,[X1]`): how
    # witnesses name the event.  Provenance, not meaning.
    source: str = field(default="", compare=False)

    @property
    def is_init(self) -> bool:
        return self.tid == INIT_TID


@dataclass(frozen=True)
class EventGraph:
    """All events of a test plus the static relations between them.

    `threads[k]` lists the eids of thread k in program order (every pair in that order is in
    po when both events happen, except the pairs in `iico`: the read and write of one atomic
    instruction, which herd7 orders inside the instruction rather than by po, and the pairs in
    `unordered`: the two accesses of a load or store pair).  `rmw` pairs
    hold when both events happen.  Dependencies (`addr`, `data`, `ctrl`, and Arm's pick
    dependencies `pick_addr`, `pick_data`) are (read, event, condition) triples: the edge
    holds when both events happen and the condition holds (herd computes dependencies per
    execution).  `choices` counts the free choices (`SChoice`) the events mention.  `assumptions` must hold in every execution (spin_lock reads an
    unlocked lock).  `final_regs` gives each register's final value.
    """

    test: Litmus
    events: tuple[Event, ...]
    threads: tuple[tuple[int, ...], ...]
    tids: tuple[int, ...]
    locations: tuple[str, ...]
    rmw: tuple[tuple[int, int], ...]
    addr: tuple[Dep, ...]
    data: tuple[Dep, ...]
    ctrl: tuple[Dep, ...]
    assumptions: tuple[Sym, ...]
    final_regs: tuple[tuple[tuple[int, str], Sym], ...]
    iico: tuple[tuple[int, int], ...] = ()
    pick_addr: tuple[Dep, ...] = ()
    pick_data: tuple[Dep, ...] = ()
    choices: int = 0
    # The analysis choices (`SPick` indices) the events mention: fence synthesis only.
    picks: tuple[int, ...] = ()
    # Pairs of accesses of one instruction that po does not order (AArch64 LDP/STP).
    unordered: tuple[tuple[int, int], ...] = ()
    # The bound on backward jumps (herd7's -unroll) when the test has loops, and whether some
    # path was cut there (its executions are then missing, as in herd7).
    unroll: int | None = None
    cut: bool = False

    def event(self, eid: int) -> Event:
        return self.events[eid]

    def final_reg(self, tid: int, reg: str) -> Sym | None:
        return dict(self.final_regs).get((tid, reg))
