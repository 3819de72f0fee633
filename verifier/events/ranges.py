"""Value ranges: an interval that holds every value a symbolic value can take, in every
candidate execution.

A read returns what some write to its location stored (or, sized, that value's low bits), so
the ranges of reads are a least fixpoint over the writes: start from nothing, and widen a read
that is still growing after a few rounds to its size's whole range (or to no bound at all,
unsized).  The SMT stage uses the ranges to drop work that provably changes nothing: the low
bits `x & (2^k - 1)` of an `x` already in [0, 2^k), and a final value's cast to its type when
it already fits.  Only exact facts are used, so dropping them changes no answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from verifier.events.graph import Event, EventGraph
from verifier.events.layout import ADDR_BASE, ADDR_NEAR, ADDR_WINDOW
from verifier.events.sym import (
    SAddr,
    SBin,
    SChoice,
    SConst,
    SIte,
    SPick,
    SRead,
    SUn,
    Sym,
)

# A closed interval; None is "no bound known".
Interval = tuple[int, int] | None
EMPTY: tuple[int, int] = (1, 0)  # no value yet (a read nothing can reach)
_ROUNDS = 6  # fixpoint rounds before a growing read is widened


def _empty(i: Interval) -> bool:
    return i is not None and i[0] > i[1]


def hull(a: Interval, b: Interval) -> Interval:
    if a is None or b is None:
        return None
    if _empty(a):
        return b
    if _empty(b):
        return a
    return (min(a[0], b[0]), max(a[1], b[1]))


def within(i: Interval, lo: int, hi: int) -> bool:
    """Whether every value of `i` lies in [lo, hi]."""
    return i is not None and (_empty(i) or (lo <= i[0] and i[1] <= hi))


@dataclass
class Ranges:
    """The ranges of one event graph's symbolic values (`of`), given each location's
    address code (`codes`)."""

    reads: dict[int, Interval]
    codes: Mapping[str, int]

    def __post_init__(self) -> None:
        self._memo: dict[int, tuple[Sym, Interval]] = {}

    def of(self, s: Sym) -> Interval:
        hit = self._memo.get(id(s))
        if hit is not None and hit[0] is s:
            return hit[1]
        r = self._compute(s)
        self._memo[id(s)] = (s, r)
        return r

    def _compute(self, s: Sym) -> Interval:
        if isinstance(s, SConst):
            return (s.value, s.value)
        if isinstance(s, SAddr):
            c = self.codes.get(s.name)
            return None if c is None else (c, c)
        if isinstance(s, SRead):
            return self.reads.get(s.eid, EMPTY)
        if isinstance(s, (SChoice, SPick)):
            return (0, 1)
        if isinstance(s, SIte):
            return hull(self.of(s.then), self.of(s.other))
        if isinstance(s, SUn):
            if s.op == "!":
                return (0, 1)
            a = self.of(s.arg)
            if a is None or _empty(a):
                return a
            return (-a[1], -a[0]) if s.op == "-" else (-a[1] - 1, -a[0] - 1)
        if isinstance(s, SBin):
            return self._binary(s)
        return None

    def _binary(self, s: SBin) -> Interval:
        if s.op in ("==", "!=", "<", "<=", ">", ">=", "&&", "||"):
            return (0, 1)
        a, b = self.of(s.left), self.of(s.right)
        if a is None or b is None:
                return None
        if _empty(a) or _empty(b):
            return EMPTY
        if s.op == "+":
            return (a[0] + b[0], a[1] + b[1])
        if s.op == "-":
            return (a[0] - b[1], a[1] - b[0])
        if s.op == "*":
            corners = [x * y for x in a for y in b]
            return (min(corners), max(corners))
        if s.op == "&":
            for m, other in ((b, a), (a, b)):
                if m[0] == m[1] and m[0] >= 0 and m[0] & (m[0] + 1) == 0:
                    # x & (2^k - 1): x itself when it already fits; an address stays whole
                    # (the SMT stage does not cut one)
                    if other[0] >= 0 and other[1] <= m[0]:
                        return other
                    if other[1] < ADDR_NEAR:
                        return (0, m[0])
                    window = (ADDR_BASE, ADDR_BASE + ADDR_WINDOW - 1)
                    kept = other if m[0] + 1 < ADDR_WINDOW or within(other, *window) else window
                    return kept if other[0] >= ADDR_NEAR else hull((0, m[0]), kept)
            if a[0] >= 0 and b[0] >= 0:
                return (0, min(a[1], b[1]))
            return None
        if s.op in ("|", "^") and a[0] >= 0 and b[0] >= 0:
            return (0, (1 << max(a[1], b[1]).bit_length()) - 1)
        if s.op in ("<<", ">>") and b[0] == b[1] and 0 <= b[0] < 256:
            k = b[0]
            return (a[0] << k, a[1] << k) if s.op == "<<" else (a[0] >> k, a[1] >> k)
        if s.op == ">>" and a[0] >= 0 and b[0] >= 0:
            return (0, a[1])
        if s.op in ("/", "%") and a[0] >= 0 and b[0] >= 0:
            return (0, a[1])
        return None


def _size_range(e: Event) -> tuple[int, int] | None:
    return None if e.size is None else (0, (1 << e.size) - 1)


def _widen(e: Event, i: Interval) -> Interval:
    """A growing read's final range: its size's, or no bound if it may hold an address."""
    if i is None or i[1] >= ADDR_NEAR:
        return None
    return _size_range(e)


def _clip(i: Interval, e: Event) -> Interval:
    """What a read of `e`'s size sees of a stored value in `i`: its low bits, or, for an
    address, the address whole."""
    full = _size_range(e)
    if full is None or within(i, *full):
        return i
    if i is None or i[1] >= ADDR_NEAR:
        return hull(full, i)
    return full


def analyse(graph: EventGraph, codes: Mapping[str, int]) -> Ranges:
    """The ranges of every read of `graph` (and so of every symbolic value).

    Rounds recompute each read from the writes that may reach it, until nothing changes.
    After `_ROUNDS` rounds a read that still changes jumps to its size's whole range (no
    bound, unsized); those are final, so the rounds end, and the result holds for every
    execution because each read's range contains what every write it may read stores."""
    reads_of = [e for e in graph.events if e.kind == "R"]
    writes = [e for e in graph.events if e.kind == "W"]
    ranges = Ranges({e.eid: EMPTY for e in reads_of}, codes)
    # A widened read keeps its range: recomputed, it may come out narrower (what reached it
    # has stopped growing), and widening it again would go round for ever (a chain of 12
    # threads passing a value on did).  Its range still holds what every write stores.
    widened: set[int] = set()
    for round_ in itertools.count():
        stored = {w.eid: ranges.of(w.value) if w.value is not None else None for w in writes}
        new: dict[int, Interval] = {}
        for r in reads_of:
            if r.eid in widened:
                new[r.eid] = ranges.reads[r.eid]
                continue
            acc: Interval = EMPTY
            for w in writes:
                if _may_alias(w, r, ranges):
                    acc = hull(acc, _clip(stored[w.eid], r))
            new[r.eid] = acc
        if new == ranges.reads:
            return ranges
        if round_ >= _ROUNDS:
            grown = {eid for eid, i in new.items() if ranges.reads[eid] != i}
            widened |= grown
            new = {eid: _widen(graph.events[eid], i) if eid in grown else i for eid, i in new.items()}
        ranges = Ranges(new, codes)
    raise AssertionError("unreachable")


def _may_alias(w: Event, r: Event, ranges: Ranges) -> bool:
    """Whether `w` and `r` may touch one location: not when their addresses' ranges are
    apart (a pointer read from memory is one of the addresses written there)."""
    a, b = w.addr, r.addr
    if isinstance(a, SAddr) and isinstance(b, SAddr):
        return a.name == b.name
    if isinstance(a, SConst) and isinstance(b, SConst):
        return a.value == b.value
    ra = ranges.of(a) if a is not None else None
    rb = ranges.of(b) if b is not None else None
    if ra is None or rb is None or _empty(ra) or _empty(rb):
        return ra is None or rb is None  # nothing reaches an empty address: no access
    return ra[0] <= rb[1] and rb[0] <= ra[1]
