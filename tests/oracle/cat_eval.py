"""Concrete evaluation of a cat model over one candidate execution.

Sets are frozensets of event ids, relations frozensets of pairs: the reference semantics,
written for obviousness rather than speed (no SMT, no "may" sets, no pruning).  Only the cat
AST from `verifier.cat.syntax` is shared with the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import permutations, product

from verifier.cat.syntax import (
    Apply,
    Binary,
    Bracket,
    Call,
    CatExpr,
    CatModel,
    Check,
    Complement,
    EmptyRel,
    Let,
    LetIn,
    Name,
    Postfix,
    SetLit,
    Stmt,
    Try,
    WithFrom,
)

Pair = tuple[int, int]


class Unsupported(Exception):
    """A model or program feature the oracle deliberately does not handle."""


class Unbound(Unsupported):
    """A name nothing binds (inside `try`: its fallback; elsewhere: not an execution we judge)."""


@dataclass(frozen=True)
class ESet:
    items: frozenset[int]


@dataclass(frozen=True)
class ERel:
    pairs: frozenset[Pair]


@dataclass(frozen=True)
class Fun:
    params: tuple[str, ...]
    body: CatExpr
    # The environment at the definition: cat's `let` is lexically scoped and not recursive.
    env: Mapping[str, Value]


@dataclass(frozen=True)
class EElem:
    """One member of a set or relation, as `map` hands it to its function."""

    key: int | Pair


@dataclass(frozen=True)
class EFam:
    """A set of sets or relations (herd's `map f S`, `{r1, r2}`)."""

    members: frozenset[ESet | ERel | EFam]


Value = ESet | ERel | Fun | EElem | EFam


def transitive_closure(pairs: Iterable[Pair]) -> frozenset[Pair]:
    """Warshall's algorithm on successor sets."""
    succ: dict[int, set[int]] = {}
    for a, b in pairs:
        succ.setdefault(a, set()).add(b)
        succ.setdefault(b, set())
    for k in succ:
        for i in succ:
            if k in succ[i]:
                succ[i] |= succ[k]
    return frozenset((a, b) for a, bs in succ.items() for b in bs)


def is_acyclic(pairs: Iterable[Pair]) -> bool:
    """Kahn's algorithm: peel off nodes without predecessors; a cycle is what cannot be peeled."""
    succ: dict[int, list[int]] = {}
    indegree: dict[int, int] = {}
    for a, b in pairs:
        succ.setdefault(a, []).append(b)
        indegree[b] = indegree.get(b, 0) + 1
        indegree.setdefault(a, 0)
    ready = [n for n, d in indegree.items() if d == 0]
    peeled = 0
    while ready:
        n = ready.pop()
        peeled += 1
        for m in succ.get(n, ()):
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
    return peeled == len(indegree)


def compose(r: frozenset[Pair], s: frozenset[Pair]) -> frozenset[Pair]:
    by_src: dict[int, list[int]] = {}
    for a, b in s:
        by_src.setdefault(a, []).append(b)
    return frozenset((a, c) for a, b in r for c in by_src.get(b, ()))


class Evaluator:
    """Evaluate the statements of `models` (prelude first) for one execution.

    `builtins` maps a built-in name to a thunk, so only what the model uses is computed.
    `memo`, if given, keeps the values of `let` bindings that depend only on the `static`
    built-ins (those that do not change with rf and co) between evaluations over the same
    events (None for the other bindings): the caller passes the same memo only for
    executions with the same events and the same models.
    """

    def __init__(
        self,
        universe: frozenset[int],
        builtins: Mapping[str, Callable[[], ESet | ERel]],
        static: frozenset[str] = frozenset(),
        memo: dict[tuple[int, str], Value | None] | None = None,
    ) -> None:
        self.universe = universe
        self.builtins = builtins
        self.cache: dict[str, ESet | ERel] = {}
        self.static = static
        self.memo = memo
        self.raised: set[str] = set()  # the flags this execution raises (if it is allowed)

    def allowed(self, models: Iterable[CatModel]) -> bool:
        """Whether some choice of the models' `with ... from` statements passes every
        check; `raised` collects the flags of every choice that does (each is an execution)."""
        stmts = [s for m in models for s in m.stmts]
        return self._run(stmts, 0, {}, set())

    def _run(self, stmts: list[Stmt], start: int, env: dict[str, Value], fixed: set[str]) -> bool:
        raised: set[str] = set()
        for i in range(start, len(stmts)):
            stmt = stmts[i]
            if isinstance(stmt, WithFrom):
                ok = False
                for choice in self.choices(stmt, env):
                    ok |= self._run(stmts, i + 1, {**env, stmt.name: choice}, fixed - {stmt.name})
                if ok:
                    self.raised |= raised
                return ok
            if isinstance(stmt, Let):
                self.let(stmt, env, fixed)
            elif isinstance(stmt, Check):
                if stmt.flag:
                    # Flags report, they do not forbid: raised where the check fails
                    # (`flag ~empty r`: where r is not empty).
                    if self.check(stmt, env) != stmt.negated:
                        raised.add(stmt.name or stmt.kind)
                    continue
                if self.check(stmt, env) == stmt.negated:
                    return False
            elif type(stmt).__name__ not in ("Enum", "Instructions"):  # bell: the tags are built in
                raise Unsupported(f"statement {type(stmt).__name__}")
        self.raised |= raised
        return True

    def let(self, stmt: Let, env: dict[str, Value], fixed: set[str]) -> None:
        if stmt.rec:
            # herd7's meaning: iterate the bodies from empty values until nothing
            # changes (here on concrete sets, so equality is the test).
            names = [b.name for b in stmt.bindings]
            cur: dict[str, Value] = {n: ERel(frozenset()) for n in names}
            for _ in range(100_000):
                # each body in turn, seeing this round's values before it
                nxt: dict[str, Value] = {}
                for b in stmt.bindings:
                    nxt[b.name] = self.eval(b.body, {**env, **cur, **nxt})
                if nxt == cur:
                    break
                cur = nxt
            else:
                raise Unsupported("let rec that does not settle")
            env.update(cur)
            fixed.difference_update(names)
            return
        # `let a = .. and b = ..`: every body sees the environment before the statement.
        before, fixed_before = dict(env), set(fixed)
        for b in stmt.bindings:
            fixed.discard(b.name)
            if b.params is not None:
                env[b.name] = Fun(b.params, b.body, before)
            elif self.memo is None:
                env[b.name] = self.eval(b.body, before)
            else:
                key = (id(stmt), b.name)
                if key not in self.memo:
                    static = self.is_static(b.body, before, fixed_before)
                    self.memo[key] = self.eval(b.body, before) if static else None
                value = self.memo[key]
                if value is None:  # depends on rf or co: computed every time
                    value = self.eval(b.body, before)
                else:
                    fixed.add(b.name)
                env[b.name] = value

    def choices(self, stmt: WithFrom, env: Mapping[str, Value]) -> list[Value]:
        """The values `with x from e` takes, one execution each.  cross.cat's co generation
        is every order, total on each location's events of its set, that extends the base
        (and, on the execution's writes, is the execution's co: the enumerator tries each)."""
        e = stmt.expr
        if isinstance(e, Call) and e.fn in ("generate_cos", "generate_orders") and self.from_cross(e.fn, env):
            if e.fn == "generate_cos":
                fn = self.lookup(e.fn, env)
                assert isinstance(fn, Fun)
                events, base = self.set(self.lookup("W", fn.env)), self.rel(self.eval(e.args[0], env))
            else:
                events, base = self.set(self.eval(e.args[0], env)), self.rel(self.eval(e.args[1], env))
            return list(self.orders(events.items, base.pairs))
        v = self.eval(e, env)
        if isinstance(v, ERel | ESet) and not (v.pairs if isinstance(v, ERel) else v.items):
            return []
        if not isinstance(v, EFam):
            raise Unsupported("with ... from a value that is not a set of sets")
        return sorted(v.members, key=repr)

    def orders(self, events: frozenset[int], base: frozenset[Pair]) -> Iterator[ERel]:
        loc = self.lookup("loc", {})
        co = self.lookup("co", {})
        writes = self.set(self.lookup("W", {})).items
        assert isinstance(loc, ERel) and isinstance(co, ERel)
        groups: list[list[int]] = []
        for x in sorted(events):
            for g in groups:
                if (g[0], x) in loc.pairs:
                    g.append(x)
                    break
            else:
                groups.append([x])
        per_group = []
        for g in groups:
            options = []
            for order in permutations(g):
                pairs = {(order[i], order[j]) for i in range(len(order)) for j in range(i + 1, len(order))}
                inside = {(a, b) for a, b in base if a in g and b in g}
                agrees = all(((a, b) in pairs) == ((a, b) in co.pairs) for a in g for b in g
                             if a != b and a in writes and b in writes)
                if inside <= pairs and agrees:
                    options.append(frozenset(pairs))
            per_group.append(options)
        for choice in product(*per_group):
            yield ERel(frozenset().union(*choice))

    def from_cross(self, fn: str, env: Mapping[str, Value]) -> bool:
        f = env.get(fn)
        return isinstance(f, Fun) and str(getattr(f.body, "pos", None) and f.body.pos.file).endswith("cross.cat")

    def check(self, c: Check, env: Mapping[str, Value]) -> bool:
        """The un-negated check's truth."""
        v = self.elem(self.eval(c.expr, env))
        if c.kind == "empty":
            return not (v.items if isinstance(v, ESet) else self.rel(v).pairs)
        r = self.rel(v).pairs
        if c.kind == "irreflexive":
            return all(a != b for a, b in r)
        return is_acyclic(r)

    def is_static(self, e: CatExpr, env: Mapping[str, Value], fixed: set[str]) -> bool:
        """Does `e` depend only on static built-ins (through names bound to such values)?
        Conservative: a call of a user function counts as not static."""
        if isinstance(e, Name):
            return e.id in fixed if e.id in env else e.id in self.static
        if isinstance(e, EmptyRel):
            return True
        if isinstance(e, (Bracket, Complement, Postfix)):
            return self.is_static(e.arg, env, fixed)
        if isinstance(e, Binary):
            return self.is_static(e.left, env, fixed) and self.is_static(e.right, env, fixed)
        if isinstance(e, Call) and e.fn in ("domain", "range") and len(e.args) == 1:
            return all(self.is_static(a, env, fixed) for a in e.args)
        return False

    # ---- expressions

    def eval(self, e: CatExpr, env: Mapping[str, Value]) -> Value:
        if isinstance(e, Name):
            return self.lookup(e.id, env)
        if isinstance(e, EmptyRel):
            return ERel(frozenset())
        if isinstance(e, Bracket):
            return ERel(frozenset((x, x) for x in self.set(self.eval(e.arg, env)).items))
        if isinstance(e, Complement):
            v = self.eval(e.arg, env)
            if isinstance(v, ESet):
                return ESet(self.universe - v.items)
            return ERel(self.all_pairs() - self.rel(v).pairs)
        if isinstance(e, Postfix):
            r = self.rel(self.eval(e.arg, env)).pairs
            ident = frozenset((x, x) for x in self.universe)
            if e.op == "^-1":
                return ERel(frozenset((b, a) for a, b in r))
            if e.op == "?":
                return ERel(r | ident)
            if e.op == "+":
                return ERel(transitive_closure(r))
            if e.op == "*":
                return ERel(transitive_closure(r) | ident)
            raise Unsupported(f"postfix {e.op}")
        if isinstance(e, Binary):
            return self.binary(e, env)
        if isinstance(e, Call):
            return self.call(e, env)
        if isinstance(e, Try):
            try:
                return self.eval(e.body, env)
            except Unbound:
                return self.eval(e.fallback, env)
        if isinstance(e, SetLit):
            return self.set_literal([self.eval(x, env) for x in e.items])
        if isinstance(e, Apply) and isinstance(e.fn, Call) and e.fn.fn == "map" and len(e.fn.args) == 1:
            return self.map(self.eval(e.fn.args[0], env), self.eval(e.arg, env))
        if isinstance(e, LetIn) and not e.rec and all(b.names is None for b in e.bindings):
            local: dict[str, Value] = {
                b.name: Fun(b.params, b.body, env) if b.params is not None else self.eval(b.body, env)
                for b in e.bindings
            }
            return self.eval(e.body, {**env, **local})
        raise Unsupported(f"expression {type(e).__name__}")

    def set_literal(self, items: list[Value]) -> Value:
        if not items:
            return ESet(frozenset())
        if all(isinstance(v, EElem) for v in items):
            keys = frozenset(v.key for v in items if isinstance(v, EElem))
            return ERel(keys) if isinstance(next(iter(keys)), tuple) else ESet(keys)  # type: ignore[arg-type]
        if all(isinstance(v, ESet | ERel) for v in items):
            return EFam(frozenset(v for v in items if isinstance(v, ESet | ERel)))
        raise Unsupported("a set literal of other values")

    def map(self, f: Value, s: Value) -> Value:
        if not isinstance(f, Fun) or len(f.params) != 1:
            raise Unsupported("map of something not a one-argument function")
        members: list[Value] = (
            [EElem(x) for x in s.items] if isinstance(s, ESet)
            else [EElem(p) for p in s.pairs] if isinstance(s, ERel)
            else list(s.members) if isinstance(s, EFam) else []
        )
        if not isinstance(s, ESet | ERel | EFam):
            raise Unsupported("map over a function")
        out = [self.eval(f.body, {**f.env, f.params[0]: m}) for m in members]
        if out and all(isinstance(v, EElem) for v in out):
            return self.set_literal(out)
        if all(isinstance(v, ESet | ERel | EFam) for v in out):
            return EFam(frozenset(v for v in out if isinstance(v, ESet | ERel | EFam)))
        raise Unsupported("map giving functions")

    def cross(self, f: Value) -> EFam:
        """cross.cat's cross: every union of one member of each member."""
        if isinstance(f, ESet | ERel) and not (f.items if isinstance(f, ESet) else f.pairs):
            f = EFam(frozenset())
        if not isinstance(f, EFam):
            raise Unsupported("cross of something not a set of sets")
        options: list[list[frozenset[Pair]]] = []
        for m in sorted(f.members, key=repr):
            if isinstance(m, ERel | ESet) and not (m.pairs if isinstance(m, ERel) else m.items):
                options.append([])  # the empty set of relations: nothing to take
            elif isinstance(m, EFam) and all(isinstance(r, ERel) for r in m.members):
                options.append([r.pairs for r in m.members if isinstance(r, ERel)])
            else:
                raise Unsupported("cross of a set of something other than sets of relations")
        return EFam(frozenset(ERel(frozenset().union(*c)) for c in product(*options)))

    def binary(self, e: Binary, env: Mapping[str, Value]) -> Value:
        a, b = self.eval(e.left, env), self.eval(e.right, env)
        if e.op == "++" and isinstance(a, EElem):
            base = b.pairs if isinstance(b, ERel) else b.items if isinstance(b, ESet) else None
            if base is None:
                raise Unsupported("++ of an element into a non-set")
            grown = base | {a.key}
            return ERel(grown) if isinstance(a.key, tuple) else ESet(grown)  # type: ignore[arg-type]
        if e.op == "++" and isinstance(b, EFam) and isinstance(a, ESet | ERel | EFam):
            return EFam(b.members | {a})
        a, b = self.elem(a), self.elem(b)
        # The empty value is a set and a relation (a recursive definition's first iterate).
        if isinstance(a, ERel) and not a.pairs and isinstance(b, ESet):
            a = ESet(frozenset())
        if isinstance(b, ERel) and not b.pairs and isinstance(a, ESet):
            b = ESet(frozenset())
        if isinstance(a, ESet) and not a.items and isinstance(b, ERel):
            a = ERel(frozenset())
        if isinstance(b, ESet) and not b.items and isinstance(a, ERel):
            b = ERel(frozenset())
        if e.op == "*":
            return ERel(frozenset((x, y) for x in self.set(a).items for y in self.set(b).items))
        if e.op == ";":
            return ERel(compose(self.rel(a).pairs, self.rel(b).pairs))
        if isinstance(a, ESet) and isinstance(b, ESet):
            xs, ys = a.items, b.items
            if e.op in ("|", "++"):
                return ESet(xs | ys)
            if e.op == "&":
                return ESet(xs & ys)
            if e.op == "\\":
                return ESet(xs - ys)
        elif isinstance(a, ERel) and isinstance(b, ERel):
            ps, qs = a.pairs, b.pairs
            if e.op in ("|", "++"):
                return ERel(ps | qs)
            if e.op == "&":
                return ERel(ps & qs)
            if e.op == "\\":
                return ERel(ps - qs)
        raise Unsupported(f"operator {e.op} on {type(a).__name__}, {type(b).__name__}")

    def call(self, e: Call, env: Mapping[str, Value]) -> Value:
        if e.fn in ("domain", "range") and len(e.args) == 1:
            r = self.rel(self.eval(e.args[0], env)).pairs
            return ESet(frozenset(p[0] if e.fn == "domain" else p[1] for p in r))
        fn = self.lookup(e.fn, env)
        if not isinstance(fn, Fun) or len(fn.params) != len(e.args):
            raise Unsupported(f"call of {e.fn}")
        args = [self.eval(a, env) for a in e.args]
        if e.fn == "cross" and self.from_cross("cross", env):
            return self.cross(args[0])
        return self.eval(fn.body, {**fn.env, **dict(zip(fn.params, args, strict=True))})

    @staticmethod
    def elem(v: Value) -> Value:
        """An element stands for the set holding only it."""
        if isinstance(v, EElem):
            return ERel(frozenset({v.key})) if isinstance(v.key, tuple) else ESet(frozenset({v.key}))  # type: ignore[arg-type]
        return v

    def lookup(self, name: str, env: Mapping[str, Value]) -> Value:
        if name in env:
            return env[name]
        if name not in self.cache:
            if name not in self.builtins:
                raise Unbound(name)
            self.cache[name] = self.builtins[name]()
        return self.cache[name]

    def all_pairs(self) -> frozenset[Pair]:
        return frozenset((a, b) for a in self.universe for b in self.universe)

    @classmethod
    def set(cls, v: Value) -> ESet:
        v = cls.elem(v)
        if isinstance(v, ERel) and not v.pairs:
            return ESet(frozenset())
        if not isinstance(v, ESet):
            raise Unsupported("expected a set")
        return v

    @classmethod
    def rel(cls, v: Value) -> ERel:
        v = cls.elem(v)
        if isinstance(v, ESet) and not v.items:
            return ERel(frozenset())
        if not isinstance(v, ERel):
            raise Unsupported("expected a relation")
        return v
