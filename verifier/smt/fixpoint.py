"""Recursive definitions (`let rec a = ... and b = ...`): herd7's least fixpoint, by iteration
from the empty value, over symbolic values.

herd7 iterates a group's bodies from empty values until nothing changes, in each candidate
execution, each body in turn seeing the values computed before it in the same round.  Here a value's terms say, for every execution at once, which pairs are in it, so
the same iteration runs on terms:

- If an iteration gives the same terms as the one before, that is the fixpoint in every
  execution (it is how a group over values that do not depend on the execution, such as
  the kernel's matching of nested rcu_read_lock()/rcu_read_unlock(), ends).
- A monotone group (no member under `~` or right of `\\`, `cat/monotone.py`) grows in every
  execution from one iteration to the next until it stops.  Once the set of pairs that may
  be in it (the terms' keys) is stable, at most one iteration per such pair can still add
  one, so that many more iterations reach the least fixpoint in every execution: exact, and
  bounded by the group's size, not by a guess.  Each iteration's terms are named Booleans,
  so the encoding grows linearly with the iterations.
- A group that is not monotone (the kernel's lock/unlock matching) settles when an
  iteration changes nothing in any candidate execution; the solver is asked (`settled`),
  since the terms of two iterates differ as text while meaning the same.  Where it settles
  in one execution earlier than in another, the later iterates are the same fixpoint there,
  as herd7's per-execution iteration would stop at.  One that does not settle within
  `MAX_UNSETTLED` iterations is refused by name, as is a group needing more than
  `MAX_ITERATIONS` steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from verifier.errors import Pos, Unsupported


class OutOfTime(Exception):
    """The deadline passed while a recursive definition was being iterated: Unknown."""


# Enough for every recursive definition of the kernel's model on tests of a dozen threads;
# past it the answer would cost more than it is worth, and is refused rather than cut.
MAX_ITERATIONS = 4096
# Iterations of a group that is not monotone, each with a solver query.
MAX_UNSETTLED = 64


# A set or relation value (`interpret.SetV`/`RelV`): what matters here is its `terms`.
_Value = Any


def least_fixpoint(
    names: tuple[str, ...],
    step: Callable[[dict[str, _Value]], dict[str, _Value]],
    empty: _Value,
    name_term: Callable[[str], str],
    rewrap: Callable[[_Value, dict[Any, str]], _Value],
    settled: Callable[[dict[str, _Value], dict[str, _Value]], bool],
    *,
    monotone: bool,
    pos: Pos,
    deadline: float | None = None,
) -> dict[str, _Value]:
    """The group's values: `step` evaluates every body given every member's value.  Past
    `deadline` (time.monotonic()) the iteration stops with `OutOfTime`."""
    cur: dict[str, _Value] = {n: empty for n in names}
    keys = _keys(cur)
    left: int | None = None  # iterations still needed once the keys are stable (monotone)
    done = 0  # iterations since the keys became stable
    before = cur
    for i in range(MAX_ITERATIONS if monotone else MAX_UNSETTLED):
        if deadline is not None and time.monotonic() > deadline:
            raise OutOfTime
        nxt = step(cur)
        if all(type(nxt[n]) is type(cur[n]) and dict(nxt[n].terms) == dict(cur[n].terms) for n in names):
            return cur  # the same terms: the fixpoint in every execution
        if not monotone:
            nxt = {n: rewrap(v, {k: name_term(t) for k, t in v.terms.items()}) for n, v in nxt.items()}
            if i > 0 and settled(cur, nxt):
                return nxt
            cur = nxt
            continue
        now = _keys(nxt)
        if now != keys:
            keys, left, done = now, None, 0
        elif left is None:
            left = sum(len(k) for k in keys.values())
        # Name the terms: the next iteration refers to them, not to copies of them.
        cur = {n: rewrap(v, {k: name_term(t) for k, t in v.terms.items()}) for n, v in nxt.items()}
        if left is not None:
            if left == 0:
                return cur
            left -= 1
            done += 1
            # Most groups settle long before the bound (a closure written `t ; t` doubles
            # its paths each round): ask the solver now and then, at doubling intervals.
            if done & (done - 1) == 0 and settled(before, cur):
                return cur
        before = cur
    what = "a recursive definition that is not monotone and does not settle" if not monotone else (
        f"a recursive definition needing more than {MAX_ITERATIONS} iterations")
    raise Unsupported(pos, f"unsupported: {what} ({', '.join(names)})")


def _keys(values: Mapping[str, _Value]) -> dict[str, frozenset[object]]:
    return {n: frozenset(v.terms) for n, v in values.items()}
