"""Compile a cat model (its syntax, `cat/syntax.py`) to a relation program (`program.py`),
once per model.

What a test never needs to see again is settled here: every name is resolved (cat's lexical
scope: `Local`, `Ref` by index, or `Base`), `try e with f` is decided (it depends on which
names are bound, not on values), cross.cat's functions are recognised where they are
defined, checks become axioms, `with x from S` a choice, and each recursive group gets its
monotonicity analysis (`cat/monotone.py`).  Names nothing binds are errors wherever they
are (`cat/scope.check_scope`); constructs without a meaning are refused where an axiom or a
choice reaches them.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifier.cat.monotone import forbids_only, needed_bindings, negative_occurrence
from verifier.cat.scope import (
    BUILTIN_FUNCTIONS,
    HERD_PRIMITIVES,
    UNSUPPORTED_EXPRESSIONS,
    check_scope,
    first_unbound,
)
from verifier.cat.syntax import (
    Apply,
    Binary,
    Binding,
    Bracket,
    Call,
    CatExpr,
    CatModel,
    Check,
    Complement,
    EmptyRel,
    Fun,
    Instructions,
    Let,
    LetIn,
    Name,
    Postfix,
    SetLit,
    Stmt,
    Try,
    WithFrom,
)
from verifier.errors import InputError, Pos, Unsupported
from verifier.wmm import program as p

_POSTFIX: dict[str, p.Op1Kind] = {"^-1": "inverse", "+": "plus", "*": "star", "?": "opt"}
_BINARY: dict[str, p.Op2Kind] = {"|": "|", "&": "&", "\\": "\\", ";": ";", "*": "*", "++": "++"}
# The sets among the names a candidate execution defines (the rest are relations).
_BASE_SETS = frozenset({"R", "W", "F", "M", "_", "IW", "FW"})


def compile_program(models: Iterable[CatModel], builtins: frozenset[str],
                    sets: frozenset[str] = frozenset()) -> p.RelProgram:
    """`models` in the order they are read (prelude first); `builtins` the names executions
    give (relations, sets and tags); `sets` the tag names among them (for the types)."""
    models = list(models)
    check_scope(models, builtins)
    c = _Compiler(builtins, _BASE_SETS | sets)
    stmts = [s for m in models for s in m.stmts]
    c.needed = needed_bindings(stmts)
    c.stmts = stmts
    for i, s in enumerate(stmts):
        c.statement(s, i)
    prog = p.RelProgram(tuple(c.defs), tuple(c.groups), tuple(c.steps))
    _refuse_reachable(prog)
    return prog


class _Compiler:
    def __init__(self, builtins: frozenset[str], sets: frozenset[str]) -> None:
        self.builtins = builtins
        self.sets = sets
        self.glob: dict[str, int] = {}
        self.defs: list[p.Def] = []
        self.groups: list[p.RecGroup] = []
        self.steps: list[p.Step] = []
        self.stmts: list[Stmt] = []
        self.needed: set[tuple[int, str]] = set()
        # cross.cat's generate_cos(r) is generate_orders(W, r) with W as bound where
        # cross.cat was included: that W, per generate_cos definition.
        self.cross_writes: dict[int, p.Expr] = {}

    # ---- statements

    def statement(self, s: Stmt, at: int) -> None:
        if isinstance(s, Let):
            self.let(s, at)
        elif isinstance(s, Check):
            self.check(s)
        elif isinstance(s, WithFrom):
            self.with_from(s)
        elif isinstance(s, Instructions) and s.default:
            raise Unsupported(s.pos, "unsupported: bell 'default' declarations in a model")
        # procedures run only when called (calls are refused by check_scope); bell `enum`
        # and `instructions` name the tags, which arrive with the execution (cat/bell.py)

    def let(self, s: Let, at: int) -> None:
        for b in s.bindings:
            if b.names is not None:
                raise Unsupported(b.pos, "unsupported: binding a tuple ('let (a, b) = ...') in a model")
            if s.rec and b.params is not None:
                raise Unsupported(b.pos, f"unsupported: recursive functions ('let rec {b.name}(...)') in a model")
        if not s.rec:
            # every binding of `let ... and ...` sees the scope before the statement
            made = [self._binding(b, frozenset()) for b in s.bindings]
            for b, (expr, ty) in zip(s.bindings, made, strict=True):
                self.glob[b.name] = self._add(p.Def(b.name, expr, ty, b.pos))
                if b.name == "generate_cos" and b.pos.file.endswith("cross.cat") and "W" in self.glob:
                    self.cross_writes[self.glob[b.name]] = p.Ref(self.glob["W"], b.pos)
                elif b.name == "generate_cos" and b.pos.file.endswith("cross.cat"):
                    self.cross_writes[self.glob[b.name]] = p.Base("W", b.pos)
            return
        group = len(self.groups)
        first = len(self.defs)
        for b in s.bindings:  # the bodies see the whole group
            self.glob[b.name] = self._add(p.Def(b.name, p.Empty(b.pos), "any", b.pos, group))
        for k, b in enumerate(s.bindings):
            expr = self.expr(b.body, frozenset())
            self.defs[first + k] = p.Def(b.name, expr, self._ty(expr), b.pos, group)
        names = frozenset(b.name for b in s.bindings)
        monotone = negative_occurrence([b.body for b in s.bindings], names) is None
        self.groups.append(p.RecGroup(
            tuple(range(first, len(self.defs))), monotone,
            pre_for_verdicts=monotone and forbids_only(self.stmts, at, self.needed),
            pre_always=monotone and forbids_only(self.stmts, at), pos=s.pos))

    def _binding(self, b: Binding, local: frozenset[str]) -> tuple[p.Expr, p.Ty]:
        if b.params is not None:
            return p.Lambda(b.params, self.expr(b.body, local | set(b.params)), b.pos), "fun"
        e = self.expr(b.body, local)
        return e, self._ty(e)

    def _add(self, d: p.Def) -> int:
        self.defs.append(d)
        return len(self.defs) - 1

    def check(self, s: Check) -> None:
        if s.mode in ("undefined_unless", "assert"):
            raise Unsupported(s.pos, f"unsupported: '{s.mode}' checks in a model")
        expr = s.expr
        if s.kind == "acyclic" and isinstance(expr, Postfix) and expr.op == "+":
            expr = expr.arg  # r+ is acyclic iff r is
        if s.flag and s.kind == "acyclic":
            raise InputError(s.pos, "unsupported check 'flag acyclic'")
        if s.negated and s.kind == "acyclic" and not s.flag:
            raise InputError(s.pos, "unsupported check '~acyclic'")
        name = (s.name or s.kind) if s.flag else None
        self.steps.append(p.Axiom(s.kind, self.expr(expr, frozenset()), s.negated, name, s.pos, label=s.name))

    def with_from(self, s: WithFrom) -> None:
        e = s.expr
        how: str = "member"
        writes: p.Expr | None = None
        expr: p.Expr
        target = self.glob.get(e.fn) if isinstance(e, Call) else None
        if (isinstance(e, Call) and target is not None and self.defs[target].file.endswith("cross.cat")
                and e.fn in ("generate_cos", "generate_orders")
                and len(e.args) == (1 if e.fn == "generate_cos" else 2)):
            # one execution per coherence order extending r: the engine's own co (smt/cogen.py)
            how = "co"
            if e.fn == "generate_cos":
                writes = self.cross_writes.get(target, p.Base("W", s.pos))
                expr = self.expr(e.args[0], frozenset())
            else:
                writes, expr = (self.expr(a, frozenset()) for a in e.args)
        else:
            expr = self.expr(e, frozenset())
            if isinstance(expr, p.Cross):
                how, expr = "cross", expr.arg
        index = self._add(p.Def(s.name, p.Empty(s.pos), "any", s.pos, chosen=True))
        self.steps.append(p.Choice(index, how, expr, writes, s.pos))  # type: ignore[arg-type]
        self.glob[s.name] = index

    # ---- expressions

    def expr(self, e: CatExpr, local: frozenset[str]) -> p.Expr:
        if isinstance(e, Name):
            return self._name(e.id, e.pos, local)
        if isinstance(e, EmptyRel):
            return p.Empty(e.pos)
        if isinstance(e, Binary):
            return p.Op2(_BINARY[e.op], self.expr(e.left, local), self.expr(e.right, local), e.pos)
        if isinstance(e, Postfix):
            return p.Op1(_POSTFIX[e.op], self.expr(e.arg, local), e.pos)
        if isinstance(e, Complement):
            return p.Op1("compl", self.expr(e.arg, local), e.pos)
        if isinstance(e, Bracket):
            return p.Op1("bracket", self.expr(e.arg, local), e.pos)
        if isinstance(e, Call):
            return self._call(e, local)
        if isinstance(e, Try):
            # `try e with f`: f where e names something unbound (decided by scope alone)
            bound = local | self.glob.keys() | self.builtins
            chosen = e.body if first_unbound(e.body, bound) is None else e.fallback
            return self.expr(chosen, local)
        if isinstance(e, SetLit):
            return p.SetOf(tuple(self.expr(x, local) for x in e.items), e.pos)
        if isinstance(e, Apply):
            # herd's library `map f S` is built in (smt/families.py); other curried calls are not
            if isinstance(e.fn, Call) and e.fn.fn == "map" and len(e.fn.args) == 1 and "map" not in local | self.glob.keys():
                return p.MapOver(self.expr(e.fn.args[0], local), self.expr(e.arg, local), e.pos)
            return p.Refused("applying a function's result (curried application)", e.pos)
        if isinstance(e, LetIn):
            return self._let_in(e, local)
        if isinstance(e, Fun):
            # `fun (x, _) -> e`: a `_` parameter binds a name no expression can spell
            params = tuple(x if x is not None else f"_{k}" for k, x in enumerate(e.params))
            return p.Lambda(params, self.expr(e.body, local | set(params)), e.pos)
        why = UNSUPPORTED_EXPRESSIONS.get(type(e))
        return p.Refused(why or type(e).__name__, e.pos)

    def _name(self, name: str, pos: Pos, local: frozenset[str]) -> p.Expr:
        if name in local:
            return p.Local(name, pos)
        if name in self.glob:
            return p.Ref(self.glob[name], pos)
        if name in self.builtins:
            return p.Base(name, pos)
        raise InputError(pos, f"unbound name '{name}' in model")

    def _call(self, e: Call, local: frozenset[str]) -> p.Expr:
        bound = e.fn in local or e.fn in self.glob
        if e.fn in ("domain", "range") or (e.fn == "different-values" and not bound):
            if len(e.args) != 1:
                return p.Refused(f"'{e.fn}' with {len(e.args)} arguments", e.pos)
            return p.Op1(e.fn, self.expr(e.args[0], local), e.pos)  # type: ignore[arg-type]
        if not bound and e.fn in HERD_PRIMITIVES:
            return p.Refused(f"herd7's primitive '{e.fn}'", e.pos)
        if not bound and e.fn in BUILTIN_FUNCTIONS:  # `map` other than as `map f S`
            return p.Refused(f"'{e.fn}' called with {len(e.args)} argument(s)", e.pos)
        fn = self._name(e.fn, e.pos, local)
        args = tuple(self.expr(a, local) for a in e.args)
        if (isinstance(fn, p.Ref) and e.fn == "cross" and len(args) == 1
                and self.defs[fn.index].file.endswith("cross.cat")):
            # cross.cat's cross, written with recursive functions over sets of relations:
            # its meaning is the choice `with ... from` makes (smt/families.py)
            return p.Cross(args[0], e.pos)
        return p.Apply(fn, args, e.fn, e.pos)

    def _let_in(self, e: LetIn, local: frozenset[str]) -> p.Expr:
        if any(b.names is not None for b in e.bindings):
            return p.Refused("binding a tuple ('let (a, b) = ...')", e.pos)
        names = tuple(b.name for b in e.bindings)
        if e.rec:
            fn = next((b for b in e.bindings if b.params is not None), None)
            if fn is not None:
                return p.Refused(f"recursive functions ('let rec {fn.name}(...)')", fn.pos)
            inner = local | set(names)
            values = tuple(self.expr(b.body, inner) for b in e.bindings)
        else:
            values = tuple(self._binding(b, local)[0] for b in e.bindings)
        monotone = e.rec and negative_occurrence([b.body for b in e.bindings], frozenset(names)) is None
        return p.LetLocal(names, values, e.rec, self.expr(e.body, local | set(names)), e.pos, monotone)

    # ---- types

    def _ty(self, e: p.Expr) -> p.Ty:
        if isinstance(e, p.Base):
            return "set" if e.name in self.sets or e.name not in _BASE_RELATIONS else "rel"
        if isinstance(e, p.Ref):
            return self.defs[e.index].ty
        if isinstance(e, p.Op1):
            if e.op in ("domain", "range"):
                return "set"
            return self._ty(e.arg) if e.op == "compl" else "rel"
        if isinstance(e, p.Op2):
            if e.op in (";", "*"):
                return "rel"
            known = {self._ty(e.left), self._ty(e.right)} - {"any"}
            return known.pop() if len(known) == 1 and e.op != "++" else "any"
        if isinstance(e, p.Lambda):
            return "fun"
        if isinstance(e, (p.MapOver, p.Cross)):
            return "family"
        if isinstance(e, p.LetLocal):
            return self._ty(e.body)
        return "any"


_BASE_RELATIONS = frozenset({
    "po", "rf", "co", "fr", "rmw", "iico", "loc", "id", "int", "ext", "addr", "data", "ctrl",
    "pick-addr", "pick-data", "sm", "si",
})


def _refuse_reachable(prog: p.RelProgram) -> None:
    """Raise `Unsupported` at the first construct without a meaning that an axiom or a
    choice reaches, through definitions and function bodies."""
    seen: set[int] = set()
    stack: list[p.Expr] = []
    for s in prog.steps:
        stack.append(s.expr)
        if isinstance(s, p.Choice) and s.writes is not None:
            stack.append(s.writes)
    stack.reverse()
    while stack:
        e = stack.pop()
        if isinstance(e, p.Refused):
            raise Unsupported(e.pos, f"unsupported: {e.why} in a model")
        if isinstance(e, p.Ref):
            if e.index not in seen:
                seen.add(e.index)
                stack.append(prog.defs[e.index].expr)
            continue
        stack.extend(reversed(list(sub_exprs(e))))


def sub_exprs(e: p.Expr) -> Iterable[p.Expr]:
    """The expressions directly inside `e`."""
    if isinstance(e, p.Op1):
        yield e.arg
    elif isinstance(e, p.Op2):
        yield from (e.left, e.right)
    elif isinstance(e, p.Apply):
        yield e.fn
        yield from e.args
    elif isinstance(e, p.Lambda):
        yield e.body
    elif isinstance(e, p.MapOver):
        yield from (e.fn, e.arg)
    elif isinstance(e, p.Cross):
        yield e.arg
    elif isinstance(e, p.SetOf):
        yield from e.items
    elif isinstance(e, p.LetLocal):
        yield from e.values
        yield e.body
