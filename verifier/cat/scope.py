"""What a model may use: every name bound where it is used (cat's lexical scope), and only
constructs the engine gives a meaning to.

Checked when a model is loaded, so that an unbound name is an error at its position before
any test runs, whichever test would reach it (and in `batch`, once, not a row per test).
The parser reads all of herd's cat language; what the interpreter does not model yet is
refused here, by name (`unsupported: ...`), never approximated.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifier.cat.syntax import (
    Apply,
    Binary,
    Bracket,
    Call,
    CallProc,
    CatExpr,
    CatModel,
    Check,
    Complement,
    EmptyRel,
    Enum,
    Forall,
    Fun,
    IfExpr,
    IfVariant,
    Include,
    Instructions,
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
from verifier.errors import InputError, Pos, Unsupported

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


# What the engine does not model yet, by syntax node: the name a refusal gives it.
_STATEMENTS: dict[type, str] = {
    LetRecWhen: "'let rec ... when'",
    WithFrom: "'with ... from' (one execution per choice)",
    Procedure: "procedures ('procedure ... end')",
    CallProc: "procedure calls ('call')",
    Forall: "'forall ... do ... end'",
    IfVariant: "'if \"variant\" ... end'",
    MatchStmt: "'match' statements",
    Enum: "bell declarations ('enum')",
    Instructions: "bell declarations ('instructions', 'default')",
    Include: "'include' here",
}
_EXPRESSIONS: dict[type, str] = {
    Tag: "tags ('name)",
    SetLit: "explicit sets ({...})",
    Tuple: "tuples",
    Apply: "applying a function's result (curried application)",
    LetIn: "'let ... in' expressions",
    Fun: "anonymous functions ('fun')",
    Try: "'try ... with'",
    IfExpr: "'if ... then ... else'",
    Match: "'match' expressions",
    MatchSet: "'match' over a set",
}


def refuse_unsupported(models: Iterable[CatModel]) -> None:
    """Raise `Unsupported` at the first construct the interpreter gives no meaning to yet."""
    for m in models:
        for s in m.stmts:
            why = _STATEMENTS.get(type(s))
            if why is not None:
                raise Unsupported(_stmt_pos(s), f"unsupported: {why} in a model")
            if isinstance(s, Let):
                if s.rec:
                    raise Unsupported(s.pos, "unsupported: recursive definitions ('let rec') in a model")
                for b in s.bindings:
                    if b.names is not None:
                        raise Unsupported(b.pos, "unsupported: binding a tuple ('let (a, b) = ...') in a model")
                    _refuse_expr(b.body)
            elif isinstance(s, Check):
                if s.mode in ("undefined_unless", "assert"):
                    raise Unsupported(s.pos, f"unsupported: '{s.mode}' checks in a model")
                _refuse_expr(s.expr)


def _stmt_pos(s: Stmt) -> Pos:
    return s.pos


def _refuse_expr(root: CatExpr) -> None:
    stack = [root]
    while stack:
        e = stack.pop()
        why = _EXPRESSIONS.get(type(e))
        if why is not None:
            raise Unsupported(e.pos, f"unsupported: {why} in a model")
        if isinstance(e, (Bracket, Complement, Postfix)):
            stack.append(e.arg)
        elif isinstance(e, Binary):
            stack += [e.right, e.left]
        elif isinstance(e, Call):
            stack += reversed(e.args)
        elif not isinstance(e, (Name, EmptyRel)):
            raise Unsupported(e.pos, f"unsupported: {type(e).__name__} in a model")


def check_scope(models: Iterable[CatModel], builtins: frozenset[str]) -> None:
    """Raise an `InputError` at the first name a model uses unbound (or `Unsupported` at a
    construct not modelled yet): `models` in the order they are read (prelude first),
    `builtins` the relations, sets and tags executions give."""
    models = list(models)
    refuse_unsupported(models)
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
