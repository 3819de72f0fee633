"""Where a recursive definition's names occur negatively (under `~`, on the right of `\\`).

A recursive group in which no member occurs negatively is monotone: its least fixpoint is
reached by iterating from the empty relation, and in every execution within as many steps
as the group can hold pairs -- which is what lets the engine bound the iteration over
execution-dependent values (`smt/fixpoint.py`).  A function applied to a member is taken as
negative (its body is not inspected), as is `try` (its choice depends on bindings, not values).
"""

from __future__ import annotations

from collections.abc import Iterable

from verifier.cat.scope import children
from verifier.cat.syntax import Binary, Call, CatExpr, Complement, Name, Try


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
