"""What a model may use: every name bound where it is used (cat's lexical scope).

Checked when a model is loaded, so that an unbound name is an error at its position before
any test runs, whichever test would reach it (and in `batch`, once, not a row per test).
The parser reads all of herd's cat language; the constructs the engine gives no meaning to
are listed here and refused by the compiler (`wmm/compile.py`), by name (`unsupported:
...`), never approximated -- but only where a check can reach them: herd's library files
define functions a model may never call, and a definition nothing evaluates changes no
verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from verifier.cat.syntax import (
    Apply,
    Binary,
    Binding,
    Bracket,
    Call,
    CallProc,
    CatExpr,
    CatModel,
    Check,
    Compare,
    Complement,
    Forall,
    Fun,
    IfExpr,
    IfVariant,
    Include,
    Let,
    LetIn,
    LetRecWhen,
    Match,
    MatchSet,
    MatchStmt,
    Name,
    Postfix,
    Procedure,
    SetLit,
    Stmt,
    Tag,
    Try,
    Tuple,
    WithFrom,
)
from verifier.errors import InputError, Unsupported

# The functions every model has (herd's `domain` and `range`), and the sets and relations
# every candidate execution gives (smt/builtins.py computes them; the mapping tables' tags
# come on top).  `sm`/`si` (herd: same single-copy-atomic access) is the identity on memory
# events, as mixed-size accesses are refused.
BUILTIN_FUNCTIONS = frozenset({"domain", "range", "map", "different-values"})
# herd7's other primitives: known names (a model that defines functions with them is read),
# refused by name when one is called.
HERD_PRIMITIVES = frozenset({
    "at-least-one-writable", "same-oa", "fromto", "classes-loc", "classes", "lift",
    "delift", "deliftinter", "linearisations", "bisimulation", "tag2scope", "tag2level", "tag2events",
    "tag2fenced", "loc2events", "fail", "as_transitive",
})
EXECUTION_NAMES = frozenset({
    "R", "W", "F", "M", "_", "IW", "FW",
    "po", "rf", "co", "fr", "rmw", "iico", "loc", "id", "int", "ext",
    "addr", "data", "ctrl", "pick-addr", "pick-data", "sm", "si",
})

# Statements that always run when the model is interpreted: refused wherever they are.
_STATEMENTS: dict[type, str] = {
    LetRecWhen: "'let rec ... when'",
    CallProc: "procedure calls ('call')",
    Forall: "'forall ... do ... end'",
    IfVariant: "'if \"variant\" ... end'",
    MatchStmt: "'match' statements",
    Include: "'include' here",
}
# Expressions the interpreter does not evaluate yet: refused where a check reaches them.
UNSUPPORTED_EXPRESSIONS: dict[type, str] = {
    Tag: "tags ('name)",
    Tuple: "tuples",
    IfExpr: "'if ... then ... else'",
    Match: "'match' expressions",
    MatchSet: "'match' over a set",
}


# --------------------------------------------------------------------------- the walk


def children(e: CatExpr) -> Iterator[CatExpr]:
    """The sub-expressions of `e` (binders aside)."""
    if isinstance(e, (Bracket, Complement, Postfix)):
        yield e.arg
    elif isinstance(e, Binary):
        yield from (e.left, e.right)
    elif isinstance(e, (Call, SetLit, Tuple)):
        yield from e.args if isinstance(e, Call) else e.items
    elif isinstance(e, Apply):
        yield from (e.fn, e.arg)
    elif isinstance(e, LetIn):
        yield from (b.body for b in e.bindings)
        yield e.body
    elif isinstance(e, Fun):
        yield e.body
    elif isinstance(e, Try):
        yield from (e.body, e.fallback)
    elif isinstance(e, IfExpr):
        if isinstance(e.cond, Compare):
            yield from (e.cond.left, e.cond.right)
        yield from (e.then, e.orelse)
    elif isinstance(e, Match):
        yield e.subject
        yield from (x for _, x in e.clauses)
        if e.default is not None:
            yield e.default
    elif isinstance(e, MatchSet):
        yield from (e.subject, e.empty, e.body)


def _binding_names(b: Binding) -> set[str]:
    return {n for n in (b.names or (b.name,)) if n}


def first_unbound(e: CatExpr, bound: set[str] | frozenset[str]) -> Name | Call | None:
    """The first name (or called function) in `e` that `bound` does not bind.  Names inside
    `try e with ...` may be unbound: that is what `try` is for."""
    if isinstance(e, Name):
        return None if e.id in bound else e
    if isinstance(e, Call) and e.fn not in BUILTIN_FUNCTIONS | HERD_PRIMITIVES and e.fn not in bound:
        return e
    if isinstance(e, Try):
        return first_unbound(e.fallback, bound)
    if isinstance(e, LetIn):
        local = set().union(*(_binding_names(b) for b in e.bindings))
        for b in e.bindings:
            inner = set(bound) | set(b.params or ()) | (local if e.rec else set())
            if (u := first_unbound(b.body, inner)) is not None:
                return u
        return first_unbound(e.body, set(bound) | local)
    if isinstance(e, Fun):
        return first_unbound(e.body, set(bound) | {p for p in e.params if p})
    if isinstance(e, MatchSet):
        for part in (e.subject, e.empty):
            if (u := first_unbound(part, bound)) is not None:
                return u
        return first_unbound(e.body, set(bound) | {n for n in e.names if n})
    return next((u for c in children(e) if (u := first_unbound(c, bound)) is not None), None)


def check_scope(models: Iterable[CatModel], builtins: frozenset[str]) -> None:
    """Raise an `InputError` at the first name a model uses unbound (or `Unsupported` at a
    statement the engine cannot run): `models` in the order they are read (prelude first),
    `builtins` the relations, sets and tags executions give.  The constructs a check reaches
    are refused by the compiler (`wmm/compile.py`)."""
    models = list(models)
    for m in models:  # a statement the engine cannot run first: its names would look unbound
        for s in m.stmts:
            why = _STATEMENTS.get(type(s))
            if why is not None:
                raise Unsupported(s.pos, f"unsupported: {why} in a model")
    bound = set(builtins)
    for m in models:
        for s in m.stmts:
            _scope_stmt(s, bound)


def _scope_stmt(s: Stmt, bound: set[str]) -> None:
    if isinstance(s, Let):
        names = set().union(*(_binding_names(b) for b in s.bindings))
        before = set(bound)
        for b in s.bindings:
            _raise_if_unbound(b.body, before | set(b.params or ()) | (names if s.rec else set()))
        bound |= names
    elif isinstance(s, Check):
        _raise_if_unbound(s.expr, bound)
    elif isinstance(s, WithFrom):
        _raise_if_unbound(s.expr, bound)
        bound.add(s.name)
    elif isinstance(s, Procedure):
        inner = bound | {p for p in s.params if p} | ({s.name} if s.rec else set())
        for x in s.body:
            _scope_stmt(x, set(inner))
        bound.add(s.name)


def _raise_if_unbound(e: CatExpr, bound: set[str]) -> None:
    u = first_unbound(e, bound)
    if u is not None:
        raise InputError(u.pos, f"unbound name '{u.id if isinstance(u, Name) else u.fn}' in model")
