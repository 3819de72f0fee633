"""Where a recursive definition's names occur negatively (under `~`, on the right of `\\`).

A recursive group in which no member occurs negatively is monotone: its least fixpoint is
reached by iterating from the empty relation, and in every execution within as many steps
as the group can hold pairs -- which is what lets the engine bound the iteration over
execution-dependent values (`smt/fixpoint.py`).  A function applied to a member is taken as
negative (its body is not inspected), as is `try` (its choice depends on bindings, not values).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from verifier.cat.scope import children
from verifier.cat.syntax import (
    Binary,
    Call,
    CatExpr,
    Check,
    Complement,
    Let,
    Name,
    Procedure,
    Stmt,
    Try,
    WithFrom,
)


def negative_occurrence(bodies: Iterable[CatExpr], names: frozenset[str]) -> Name | None:
    """The first occurrence of one of `names` in a negative position of `bodies`, or None."""
    stack: list[tuple[CatExpr, bool]] = [(b, True) for b in bodies]
    while stack:
        e, positive = stack.pop()
        if isinstance(e, Name):
            if e.id in names and not positive:
                return e
            continue
        if isinstance(e, Complement):
            stack.append((e.arg, not positive))
        elif isinstance(e, Binary) and e.op == "\\":
            stack += [(e.left, positive), (e.right, not positive)]
        elif isinstance(e, Call) and e.fn not in ("domain", "range"):
            stack += [(a, False) for a in e.args]  # a user function: its body is not inspected
        elif isinstance(e, Try):
            stack += [(e.body, False), (e.fallback, False)]
        else:
            stack += [(c, positive) for c in children(e)]
    return None


def _occurrences(e: CatExpr, names: set[str]) -> list[tuple[Name, bool]]:
    """Each occurrence of `names` in `e` with its polarity (True: positive).  A function's
    argument or a `try` counts as negative (not inspected)."""
    out: list[tuple[Name, bool]] = []
    stack: list[tuple[CatExpr, bool]] = [(e, True)]
    while stack:
        x, positive = stack.pop()
        if isinstance(x, Name):
            if x.id in names:
                out.append((x, positive))
        elif isinstance(x, Complement):
            stack.append((x.arg, not positive))
        elif isinstance(x, Binary) and x.op == "\\":
            stack += [(x.left, positive), (x.right, not positive)]
        elif isinstance(x, Call):
            if x.fn in names:
                out.append((Name(x.fn, x.pos), False))
            stack += [(a, positive if x.fn in ("domain", "range") else False) for a in x.args]
        elif isinstance(x, Try):
            stack += [(x.body, False), (x.fallback, False)]
        else:
            stack += [(c, positive) for c in children(x)]
    return out


def _names(e: CatExpr) -> set[str]:
    """Every name `e` mentions, called functions included (more than it may use: fine for
    the conservative question `needed_bindings` asks)."""
    out: set[str] = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, Name):
            out.add(x.id)
        elif isinstance(x, Call):
            out.add(x.fn)
        stack.extend(children(x))
    return out


def needed_bindings(stmts: Sequence[Stmt]) -> set[tuple[int, str]]:
    """The bindings (statement index, name) a check that is not a flag may use, directly or
    through later bindings: what decides which executions a model allows.  A binding only
    flags use (the kernel model's data-race machinery) decides no verdict."""
    live: set[str] = set()
    needed: set[tuple[int, str]] = set()
    for j in reversed(range(len(stmts))):
        s = stmts[j]
        if isinstance(s, Check) and not s.flag:
            live |= _names(s.expr)
        elif isinstance(s, WithFrom):
            live.discard(s.name)
            live |= _names(s.expr)
        elif isinstance(s, Procedure):
            for x in s.body:
                if isinstance(x, Check):
                    live |= _names(x.expr)
        elif isinstance(s, Let):
            defined = {b.name for b in s.bindings}
            used = [b for b in s.bindings if b.name in live]
            if s.rec and used:
                used = list(s.bindings)
            uses: set[str] = set()
            for b in used:
                needed.add((j, b.name))
                uses |= _names(b.body) - set(b.params or ())
            live = (live - defined) | (uses - defined if s.rec else uses)
    return needed


def forbids_only(stmts: Sequence[Stmt], at: int, needed: set[tuple[int, str]] | None = None) -> bool:
    """Whether what the recursive group `stmts[at]` defines reaches only checks that forbid
    (`acyclic`, `irreflexive`, `empty`, not negated, not flags), and only positively, through
    monotone definitions.  Then any relation containing its bodies' values (a pre-fixpoint)
    may stand for the least fixpoint: a check that holds for a larger relation holds for the
    least one, and the least one is a pre-fixpoint itself -- so the solver choosing one is
    exact, with no iteration (`smt/model.py`).

    With `needed` (`needed_bindings`), only what decides verdicts counts: flags, and the
    bindings only flags use, are left out -- exact for the verdict, not for the flags."""
    group = stmts[at]
    assert isinstance(group, Let) and group.rec
    tainted = {b.name for b in group.bindings}
    for j, s in enumerate(stmts[at + 1:], at + 1):
        if isinstance(s, Check) and s.flag and needed is not None:
            continue
        if isinstance(s, Let):
            new: set[str] = set()
            for b in s.bindings:
                if needed is not None and (j, b.name) not in needed:
                    continue
                occ = _occurrences(b.body, tainted)
                if not occ:
                    continue
                if b.params is not None or not all(p for _, p in occ):
                    return False
                new.add(b.name)
            tainted = (tainted - {b.name for b in s.bindings}) | new
        elif isinstance(s, Check):
            occ = _occurrences(s.expr, tainted)
            if occ and (s.mode != "check" or s.negated or not all(p for _, p in occ)):
                return False
        elif isinstance(s, (WithFrom, Procedure)):
            body = [s.expr] if isinstance(s, WithFrom) else [x.expr for x in s.body if isinstance(x, Check)]
            if any(_occurrences(e, tainted) for e in body) or isinstance(s, Procedure):
                return False
    return True
