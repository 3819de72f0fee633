"""Name binding in a model: every name used is bound where it is used (cat's lexical scope).

Checked when a model is loaded, so that an unbound name is an error at its position before
any test runs, whichever test would reach it (and in `batch`, once, not a row per test).
"""

from __future__ import annotations

from collections.abc import Iterable

from verifier.cat.syntax import (
    Binary,
    Bracket,
    Call,
    CatExpr,
    CatModel,
    Check,
    Complement,
    Let,
    Name,
    Postfix,
)
from verifier.errors import InputError

# The functions every model has (herd's `domain` and `range`), and the sets and relations
# every candidate execution gives (smt/interpret.py computes them; the mapping tables' tags
# come on top).
BUILTIN_FUNCTIONS = frozenset({"domain", "range"})
EXECUTION_NAMES = frozenset({
    "R", "W", "F", "M", "_", "IW", "FW",
    "po", "rf", "co", "fr", "rmw", "iico", "loc", "id", "int", "ext",
    "addr", "data", "ctrl", "pick-addr", "pick-data",
})


def first_unbound(e: CatExpr, bound: set[str] | frozenset[str]) -> Name | Call | None:
    """The first name (or called function) in `e` that `bound` does not bind."""
    if isinstance(e, Name):
        return None if e.id in bound else e
    if isinstance(e, (Bracket, Complement, Postfix)):
        return first_unbound(e.arg, bound)
    if isinstance(e, Binary):
        return first_unbound(e.left, bound) or first_unbound(e.right, bound)
    if isinstance(e, Call):
        if e.fn not in BUILTIN_FUNCTIONS and e.fn not in bound:
            return e
        return next((u for a in e.args if (u := first_unbound(a, bound)) is not None), None)
    return None


def check_scope(models: Iterable[CatModel], builtins: frozenset[str]) -> None:
    """Raise an `InputError` at the first name a model uses unbound: `models` in the order
    they are read (prelude first), `builtins` the relations, sets and tags executions give."""
    bound = set(builtins)
    for m in models:
        for s in m.stmts:
            if isinstance(s, Let):
                before = set(bound)
                for b in s.bindings:
                    inner = before | set(b.params or ()) | ({x.name for x in s.bindings} if s.rec else set())
                    _raise_if_unbound(b.body, inner)
                bound |= {b.name for b in s.bindings}
            elif isinstance(s, Check):
                _raise_if_unbound(s.expr, bound)


def _raise_if_unbound(e: CatExpr, bound: set[str]) -> None:
    u = first_unbound(e, bound)
    if u is not None:
        raise InputError(u.pos, f"unbound name '{u.id if isinstance(u, Name) else u.fn}' in model")
