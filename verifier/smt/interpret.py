"""Interpret a cat model over the encoded candidate executions.

A set is a map event -> SMT term (the event is in the set iff the term holds); a relation is a
map (event, event) -> term.  Only pairs that may be related are keys ("may" sets), so static
facts prune the encoding.  Checks become constraints:
- `acyclic r`: one integer clock per event; for every may-edge a->b inside a strongly
  connected component of the may-graph, r(a,b) implies clock(a) < clock(b) (edges between
  components cannot close a cycle and are skipped);
- `irreflexive r`, `empty r`: the terms are asserted false; `~empty r`: some term holds.
A `flag` check is not a constraint: its terms are kept so a witness can report it.

The engine knows only the names candidate executions define (`builtins.py`), sets of sets
and the choices among them (`families.py`), and co generation (`cogen.py`).  No
architecture's axioms are named here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3

from verifier.cat.monotone import forbids_only, needed_bindings, negative_occurrence
from verifier.cat.scope import HERD_PRIMITIVES, first_unbound, unsupported_expression
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
    Enum,
    Instructions,
    Let,
    LetIn,
    Name,
    Postfix,
    Procedure,
    SetLit,
    Try,
    WithFrom,
)
from verifier.errors import InputError, Pos, Unsupported
from verifier.smt import families
from verifier.smt.builtins import execution_builtins
from verifier.smt.cat_values import (
    ChoiceV,
    ElemV,
    FunV,
    Pair,
    RelV,
    SetV,
    Value,
    like,
    terms_of,
    union,
)
from verifier.smt.cogen import generated_co
from verifier.smt.encode import Execution
from verifier.smt.fixpoint import MAX_ITERATIONS, OutOfTime, least_fixpoint
from verifier.smt.graph import sccs
from verifier.smt.terms import F, Script, T, and_, implies, lt, not_, or_


@dataclass
class _Lazy:
    """A `let` binding evaluated when first used: a model may define relations (a transitive
    closure for RCU, say) that a test without the events they concern never needs."""

    expr: CatExpr
    env: dict[str, Value | _Lazy]
    value: Value | None = None


class _Unbound(InputError):
    """A name nothing binds: an error, unless inside `try ... with` (its fallback then)."""


@dataclass
class Flag:
    """A flagged check (herd's `flag`): `raised` holds in the executions the flag reports."""

    name: str
    raised: str


@dataclass
class Interpretation:
    flags: list[Flag] = field(default_factory=list)
    checks: int = 0
    # What the may sets saved: relation values computed, and the pairs they kept (a dense
    # encoding would give each of them every pair of events).
    relations: int = 0
    pairs: int = 0
    # Whether every flag's term is exact.  When not (a recursive group a flag depends on was
    # given a pre-fixpoint), a flag whose term is not false must be asked of an
    # interpretation with `exact_flags`.
    flags_exact: bool = True

    def flags_need_exact(self) -> bool:
        return not self.flags_exact and any(f.raised != F for f in self.flags)


def interpret(model: CatModel, prelude: list[CatModel], ex: Execution, tags: frozenset[str],
              deadline: float | None = None, *, scoped: bool = False, exact_flags: bool = False) -> Interpretation:
    """Add the model's constraints to `ex.script`.  `tags`: every tag name a mapping can
    attach, so that a model may name a tag that no event of this test carries.  Past
    `deadline` a recursive definition's iteration raises `fixpoint.OutOfTime`.  `scoped`:
    the model passed `cat.scope.check_scope` (names are then not looked at again here).
    `exact_flags`: every flag's term exact, at the cost of iterating recursive groups a
    flag depends on (see `Interpretation.flags_exact`)."""
    it = _Interp(ex, tags, deadline)
    it.scoped = scoped
    out = Interpretation()
    it.stats = out
    stmts = [s for m in (*prelude, model) for s in m.stmts]
    groups = [i for i, s in enumerate(stmts) if isinstance(s, Let) and s.rec]
    if exact_flags:
        it.forbidding = {id(stmts[i]) for i in groups if forbids_only(stmts, i)}
    else:
        # A group that only forbidding checks use positively, flags aside, is a pre-fixpoint:
        # exact for the verdict.  The flags' terms are then exact only where they are false
        # (for every choice of the pre-fixpoint, so for the least one too); else the caller
        # asks again with `exact_flags` (`flags_exact` says whether it must).
        needed = needed_bindings(stmts)
        it.forbidding = {id(stmts[i]) for i in groups if forbids_only(stmts, i, needed)}
        out.flags_exact = all(forbids_only(stmts, i) for i in groups if id(stmts[i]) in it.forbidding)
    for m in (*prelude, model):
        for s in m.stmts:
            if isinstance(s, Let):
                it.let(s)
            elif isinstance(s, Check):
                it.check(s, out)
            elif isinstance(s, WithFrom):
                it.with_from(s)
            elif not isinstance(s, (Procedure, Enum, Instructions)):
                # a procedure runs only when called; bell declarations name the tags
                # (cat/bell.py), which arrive with the execution
                raise Unsupported(s.pos, f"unsupported: the statement {type(s).__name__} in a model")
    return out


class _Interp:
    def __init__(self, ex: Execution, tags: frozenset[str], deadline: float | None = None) -> None:
        self.ex = ex
        self.deadline = deadline
        self.forbidding: set[int] = set()  # recursive groups only forbidding checks use
        self.real: Script | None = None  # while a scratch script is in use: the real one
        self.s = ex.script
        self.env: dict[str, Value | _Lazy] = {}
        g = ex.graph
        self.events = [e.eid for e in g.events]
        self.guard = ex.guard
        self.builtins = execution_builtins(ex, tags)
        self.builtin_values: dict[str, Value] = {}
        self.clock_counter = 0
        self.stats = Interpretation()
        self.scoped = False

    def lookup(self, name: str, pos: Pos) -> Value:
        if name in self.env:
            v = self.env[name]
            if isinstance(v, _Lazy):
                if v.value is None:
                    saved, self.env = self.env, v.env
                    script, self.s = self.s, self.real or self.s
                    try:
                        v.value = self.eval(v.expr)
                    finally:
                        self.env, self.s = saved, script
                return v.value
            return v
        if name in self.builtins:
            if name not in self.builtin_values:  # computed once, whatever the scope
                script, self.s = self.s, self.real or self.s
                try:
                    self.builtin_values[name] = self.builtins[name]()
                finally:
                    self.s = script
            return self.builtin_values[name]
        raise _Unbound(pos, f"unbound name '{name}' in model")

    # ---- statements

    def let(self, s: Let) -> None:
        if s.rec:
            for b in s.bindings:
                self._check_names(b.body, set(self.env) | {x.name for x in s.bindings})
            self.env.update(self._let_rec(s.bindings, s.pos, id(s) in self.forbidding))
            return
        # Every binding of `let ... and ...` sees the environment before the statement, and a
        # function keeps that environment (lexical scope: later rebindings do not reach it).
        before = dict(self.env)
        values: dict[str, Value | _Lazy] = {}
        for b in s.bindings:
            # Names are checked now, values computed when used (an unbound name is an error
            # even in a binding no check needs).
            self._check_names(b.body, set(before) | set(b.params or ()))
            values[b.name] = FunV(b.params, b.body, before) if b.params is not None else _Lazy(b.body, before)
        self.env.update(values)

    def with_from(self, s: WithFrom) -> None:
        """`with co from generate_cos(r)` (herd's cos.cat), `generate_orders(W, r)`: one
        execution per coherence order extending r, which is what the engine's own co ranges
        over (a total order of each location's writes, the initial write first).  So `co` is
        bound to it, constrained to contain r's same-location pairs (herd's linearisations
        order each location's writes: pairs across locations constrain nothing).  Any other
        choice is among a set of sets or relations, or `cross` of one (`families.py`)."""
        space = _co_generation(s.expr, self)
        if space is None:
            v = self.eval(s.expr)
            if isinstance(v, ChoiceV):
                self.env[s.name] = families.choose_cross(self.s, v.family, s.pos)
            else:
                self.env[s.name] = families.choose_member(self.s, families.as_family(v, s.pos), s.pos)
            return
        writes, base = space
        self.clock_counter += 1
        self.env[s.name] = generated_co(self.ex, self.s, writes, base, f"k{self.clock_counter}", s.pos)

    def _check_names(self, e: CatExpr, bound: set[str]) -> None:
        if self.scoped:
            return
        u = first_unbound(e, bound | set(self.builtins))
        if u is not None:
            raise InputError(u.pos, f"unbound name '{u.id if isinstance(u, Name) else u.fn}' in model")

    def check(self, c: Check, out: Interpretation) -> None:
        expr = c.expr
        if c.kind == "acyclic" and isinstance(expr, Postfix) and expr.op == "+":
            expr = expr.arg  # r+ is acyclic iff r is
        v = self.eval(expr)
        if not isinstance(v, (SetV, RelV, ElemV)):
            raise InputError(c.pos, "a check needs a set or relation")
        v = families.as_data(v, c.pos)
        terms: dict[Any, str] = terms_of(v)
        if c.kind == "irreflexive":
            if isinstance(v, SetV):
                raise InputError(c.pos, "irreflexive needs a relation, not a set")
            terms = {p: t for p, t in v.terms.items() if p[0] == p[1]}
        if c.flag:
            # herd raises a flag in the executions where its check holds (`flag ~empty r`:
            # where r is non-empty); it constrains nothing.
            if c.kind == "acyclic":
                raise InputError(c.pos, "unsupported check 'flag acyclic'")
            nonempty = or_(*terms.values())
            out.flags.append(Flag(c.name or c.kind, nonempty if c.negated else not_(nonempty)))
            return
        out.checks += 1
        if c.negated:
            if c.kind == "acyclic":
                raise InputError(c.pos, "unsupported check '~acyclic'")
            self.s.add(or_(*terms.values()))
            return
        if c.kind in ("irreflexive", "empty"):
            for t in terms.values():
                self.s.add(not_(t))
            return
        assert isinstance(v, RelV)
        self._acyclic(v)

    def _acyclic(self, r: RelV) -> None:
        comp = sccs(r.terms.keys())
        self.clock_counter += 1
        k = self.clock_counter
        declared: set[int] = set()
        for (a, b), t in r.terms.items():
            if a == b:
                self.s.add(not_(t))
                continue
            if comp.get(a) != comp.get(b):
                continue
            for x in (a, b):
                if x not in declared:
                    self.s.declare(f"k{k}_{x}", "Int")
                    declared.add(x)
            self.s.add(implies(t, lt(f"k{k}_{a}", f"k{k}_{b}")))

    # ---- expressions

    def eval(self, e: CatExpr) -> Value:
        v = self._eval(e)
        if isinstance(v, RelV) and not isinstance(e, Name):
            self.stats.relations += 1
            self.stats.pairs += len(v.terms)
        return v

    def _eval(self, e: CatExpr) -> Value:
        if isinstance(e, Name):
            return self.lookup(e.id, e.pos)
        if isinstance(e, EmptyRel):
            return RelV({})
        if isinstance(e, Bracket):
            s = self.as_set(self.eval(e.arg), e.pos)
            return RelV({(x, x): t for x, t in s.terms.items()})
        if isinstance(e, Complement):
            v = self.eval(e.arg)
            if isinstance(v, SetV):
                return SetV({x: and_(self.guard[x], not_(v.terms.get(x, F))) for x in self.events})
            r = self.as_rel(v, e.pos)
            out = {
                (a, b): and_(self.guard[a], self.guard[b], not_(r.terms.get((a, b), F)))
                for a in self.events
                for b in self.events
            }
            return RelV({p: t for p, t in out.items() if t != F})
        if isinstance(e, Postfix):
            r = self.as_rel(self.eval(e.arg), e.pos)
            if e.op == "^-1":
                return RelV({(b, a): t for (a, b), t in r.terms.items()})
            if e.op == "?":
                return union(r, self._id())
            closure = self._plus(r)
            return closure if e.op == "+" else union(closure, self._id())
        if isinstance(e, Binary):
            return self._binary(e)
        if isinstance(e, Call):
            return self._call(e)
        if isinstance(e, Try):
            try:
                return self.eval(e.body)
            except _Unbound:
                return self.eval(e.fallback)
        why = unsupported_expression(e)
        if why is not None:
            raise Unsupported(e.pos, f"unsupported: {why} in a model")
        if isinstance(e, SetLit):
            return families.set_literal([self.eval(x) for x in e.items], e.pos)
        if isinstance(e, Apply):  # only `map f S` gets here (unsupported_expression)
            assert isinstance(e.fn, Call)
            f = self.eval(e.fn.args[0])
            if not isinstance(f, FunV) or len(f.params) != 1:
                raise InputError(e.fn.pos, "map needs a function of one argument")
            return families.map_over(lambda x: self.invoke(f, [x]), self.eval(e.arg), e.pos)
        if isinstance(e, LetIn):
            return self._let_in(e)
        raise Unsupported(e.pos, f"unsupported: {type(e).__name__} in a model")

    def _let_rec(self, bindings: tuple[Binding, ...], pos: Pos, forbidding: bool = False) -> dict[str, Value]:
        """A recursive group's least fixpoint (see `fixpoint.py`); for a monotone group that
        only forbidding checks use, a pre-fixpoint the solver chooses (`_pre_fixpoint`)."""
        fn = next((b for b in bindings if b.params is not None), None)
        if fn is not None:
            raise Unsupported(fn.pos, f"unsupported: recursive functions ('let rec {fn.name}(...)') in a model")
        names = tuple(b.name for b in bindings)
        monotone = negative_occurrence([b.body for b in bindings], frozenset(names)) is None
        base = dict(self.env)
        if monotone and forbidding:
            return self._pre_fixpoint(bindings, base, pos)

        def step(cur: dict[str, Any]) -> dict[str, Any]:
            # herd7's order: each body in turn, seeing the values just computed before it in
            # this round (the kernel's nesting match depends on it).
            saved, self.env = self.env, {**base, **cur}
            try:
                out = {}
                for b in bindings:
                    v = self.eval(b.body)
                    if not isinstance(v, (SetV, RelV)):
                        raise Unsupported(b.pos, f"unsupported: a recursive definition of a function or "
                                                 f"of a set of sets ({b.name})")
                    out[b.name] = self.env[b.name] = v
                return out
            finally:
                self.env = saved

        values = least_fixpoint(names, step, RelV({}), lambda t: self.s.name_bool("rec", t), like,
                                self._settled, monotone=monotone, pos=pos, deadline=self.deadline)
        return dict(values)  # type: ignore[arg-type]

    def _pre_fixpoint(self, bindings: tuple[Binding, ...], base: dict[str, Value | _Lazy], pos: Pos) -> dict[str, Value]:
        """Free Booleans for the pairs the group may hold, constrained to contain what its
        bodies give for them (X contains F(X)).  Exact where only forbidding checks use the
        group positively (`cat/monotone.py`, `forbids_only`): the least fixpoint is one such
        X, and any larger one only forbids more.  The pairs that may be in it come first, by
        iterating the bodies with every pair present (monotone: that over-approximates)."""

        def bodies(values: dict[str, SetV | RelV]) -> dict[str, SetV | RelV]:
            saved, self.env = self.env, {**base, **values}
            try:
                out: dict[str, SetV | RelV] = {}
                for b in bindings:
                    v = self.eval(b.body)
                    if not isinstance(v, (SetV, RelV)):
                        raise Unsupported(b.pos, f"unsupported: a recursive definition of a function or "
                                                 f"of a set of sets ({b.name})")
                    out[b.name] = v
                return out
            finally:
                self.env = saved

        # The may-pairs are found on a scratch script: the rounds' named terms would only
        # burden the solver.  A lazy binding the rounds force is computed on the real one
        # (`lookup`): its value, and its names, are kept.
        real, self.s = self.s, Script()
        self.real = real
        try:
            may = self._may_pairs(bindings, bodies, pos)
        finally:
            self.s, self.real = real, None
        chosen = {n: like(v, {k: self.s.fresh("rec", "Bool") for k in terms_of(v)}) for n, v in may.items()}
        for n, v in bodies(chosen).items():
            held = terms_of(chosen[n])
            for k, t in terms_of(v).items():
                self.s.add(implies(t, held.get(k, F)))
        return dict(chosen)

    def _may_pairs(self, bindings: tuple[Binding, ...],
                   bodies: Callable[[dict[str, SetV | RelV]], dict[str, SetV | RelV]],
                   pos: Pos) -> dict[str, SetV | RelV]:
        """The pairs a monotone group may hold: its bodies iterated with every pair present."""
        may: dict[str, SetV | RelV] = {b.name: RelV({}) for b in bindings}
        for _ in range(MAX_ITERATIONS):
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise OutOfTime
            nxt = bodies({n: like(v, {k: T for k in terms_of(v)}) for n, v in may.items()})
            if all(type(nxt[n]) is type(may[n]) and set(terms_of(nxt[n])) == set(terms_of(may[n])) for n in may):
                return may
            may = nxt
        raise Unsupported(pos, "unsupported: a recursive definition needing more iterations than the bound")

    def _settled(self, cur: dict[str, Any], nxt: dict[str, Any]) -> bool:
        """Whether no candidate execution tells the two iterates apart (the solver says so;
        unknown counts as no)."""
        diffs = []
        for n in cur:
            a, b = terms_of(cur[n]), terms_of(nxt[n])
            diffs += [f"(xor {a.get(k, F)} {b.get(k, F)})" for k in set(a) | set(b)]
        if not diffs:
            return True
        solver = z3.Solver()
        solver.set("timeout", 10_000)
        solver.from_string(self.s.text() + f"\n(assert {or_(*diffs)})")
        return solver.check() == z3.unsat

    def _let_in(self, e: LetIn) -> Value:
        """`let b1 and b2 in body`: the bindings see the enclosing scope, the body sees them."""
        before = dict(self.env)
        local: dict[str, Value | _Lazy] = dict(before)
        if e.rec:
            local.update(self._let_rec(e.bindings, e.pos))
        for b in () if e.rec else e.bindings:
            local[b.name] = FunV(b.params, b.body, before) if b.params is not None else _Lazy(b.body, before)
        saved, self.env = self.env, local
        try:
            return self.eval(e.body)
        finally:
            self.env = saved

    def _id(self) -> RelV:
        return RelV({(x, x): self.guard[x] for x in self.events})

    def _binary(self, e: Binary) -> Value:
        a = self.eval(e.left)
        if e.op in (";", "&", "\\", "*") and isinstance(a, (SetV, RelV)) and not a.terms:
            # Empty on the left: so is the result, whatever the right side would cost (the
            # kernel model's data-race flag, `(pre-race & co) \ ww-nonrace`, on a test with
            # no plain access: 27 MB of SMT text for ww-vis on an 18-thread RCU test).
            return a if e.op != "*" else RelV({})
        b = self.eval(e.right)
        if e.op == "++" and (added := families.add_member(a, b, e.pos)) is not None:
            return added
        if e.op == "*":
            sa, sb = self.as_set(a, e.pos), self.as_set(b, e.pos)
            out = {(x, y): and_(tx, ty) for x, tx in sa.terms.items() for y, ty in sb.terms.items()}
            return RelV({p: t for p, t in out.items() if t != F})
        if e.op == ";":
            return self._seq(self.as_rel(a, e.pos), self.as_rel(b, e.pos))
        a, b = families.as_data(a, e.pos), families.as_data(b, e.pos)
        if type(a) is not type(b):
            # The empty value is both a set and a relation (herd7's `0` and `{}`; a recursive
            # definition's first iterate).
            if not a.terms:
                a = like(b, {})
            elif not b.terms:
                b = like(a, {})
        if type(a) is not type(b):
            raise InputError(e.pos, f"operator '{e.op}' needs two sets or two relations")
        if e.op in ("|", "++"):
            return union(a, b)
        bt = terms_of(b)
        if e.op == "&":
            out2 = {k: and_(t, bt[k]) for k, t in a.terms.items() if k in bt}
            return like(a, {k: t for k, t in out2.items() if t != F})
        if e.op == "\\":
            out3 = {k: and_(t, not_(bt.get(k, F))) for k, t in a.terms.items()}
            return like(a, {k: t for k, t in out3.items() if t != F})
        raise InputError(e.pos, f"unknown operator '{e.op}'")

    def _seq(self, a: RelV, b: RelV) -> RelV:
        by_src: dict[int, list[tuple[int, str]]] = {}
        for (x, y), t in b.terms.items():
            by_src.setdefault(x, []).append((y, t))
        acc: dict[Pair, list[str]] = {}
        for (x, y), t in a.terms.items():
            for z, u in by_src.get(y, []):
                acc.setdefault((x, z), []).append(and_(t, u))
        out: dict[Pair, str] = {}
        for p, ts in acc.items():
            term = or_(*ts)
            if term != F:
                out[p] = self.s.name_bool("seq", term)
        return RelV(out)

    def _plus(self, r: RelV) -> RelV:
        """Transitive closure, Warshall's way over the may-graph: after node k, each pair's
        term holds iff a path through intermediate nodes up to k joins them (Boolean terms:
        a path through k twice adds nothing).  It names a term per update, where repeated
        squaring named every pair of the growing closure log2(n) times."""
        succ: dict[int, dict[int, str]] = {}
        pred: dict[int, dict[int, str]] = {}
        for (a, b), t in r.terms.items():
            succ.setdefault(a, {})[b] = t
            pred.setdefault(b, {})[a] = t
        for k in sorted(set(succ) & set(pred)):
            ins = [(i, t) for i, t in pred[k].items() if i != k]
            outs = [(j, t) for j, t in succ[k].items() if j != k]
            for i, tik in ins:
                row = succ.setdefault(i, {})
                for j, tkj in outs:
                    through = and_(tik, tkj)
                    if through == F:
                        continue
                    old = row.get(j)
                    term = self.s.name_bool("tc", through if old is None else or_(old, through))
                    row[j] = term
                    pred.setdefault(j, {})[i] = term
        return RelV({(i, j): t for i, row in succ.items() for j, t in row.items()})

    def _call(self, e: Call) -> Value:
        if e.fn in ("domain", "range") and len(e.args) == 1:
            r = self.as_rel(self.eval(e.args[0]), e.pos)
            acc: dict[int, list[str]] = {}
            for (x, y), t in r.terms.items():
                acc.setdefault(x if e.fn == "domain" else y, []).append(t)
            return SetV({k: or_(*ts) for k, ts in acc.items()})
        if e.fn == "different-values" and e.fn not in self.env and len(e.args) == 1:
            return self._different_values(self.as_rel(self.eval(e.args[0]), e.pos), e.pos)
        if e.fn in HERD_PRIMITIVES and e.fn not in self.env:
            raise Unsupported(e.pos, f"unsupported: herd7's primitive '{e.fn}' in a model")
        fn = self.lookup(e.fn, e.pos)
        if not isinstance(fn, FunV):
            raise InputError(e.pos, f"'{e.fn}' is not a function")
        if len(fn.params) != len(e.args):
            raise InputError(e.pos, f"'{e.fn}' takes {len(fn.params)} argument(s), given {len(e.args)}")
        args = [self.eval(a) for a in e.args]
        if e.fn == "cross" and fn.body_file().endswith("cross.cat") and len(args) == 1:
            # cross.cat's cross, written with recursive functions over sets of relations: its
            # meaning is the choice `with ... from` makes (families.py).
            return ChoiceV(families.as_family(args[0], e.pos))
        return self.invoke(fn, args)

    def invoke(self, fn: FunV, args: list[Value]) -> Value:
        saved = self.env
        self.env = {**fn.env, **dict(zip(fn.params, args, strict=True))}
        try:
            return self.eval(fn.body)
        finally:
            self.env = saved

    def _different_values(self, r: RelV, pos: Pos) -> RelV:
        """herd's different-values(r): the pairs of r whose events' values differ."""
        out: dict[Pair, str] = {}
        for (a, b), t in r.terms.items():
            va, vb = self.ex.value.get(a), self.ex.value.get(b)
            if va is None or vb is None:
                raise Unsupported(pos, "unsupported: different-values over events without values")
            term = and_(t, not_(f"(= {va} {vb})"))
            if term != F:
                out[(a, b)] = term
        return RelV(out)

    def as_set(self, v: Value, pos: Pos) -> SetV:
        if isinstance(v, ElemV):
            v = families.singleton(v)
        if isinstance(v, RelV) and not v.terms:
            return SetV({})  # empty: a set as well
        if not isinstance(v, SetV):
            raise InputError(pos, "expected a set of events here, found a relation")
        return v

    def as_rel(self, v: Value, pos: Pos) -> RelV:
        if isinstance(v, ElemV):
            v = families.singleton(v)
        if isinstance(v, SetV) and not v.terms:
            return RelV({})  # empty: a relation as well
        if not isinstance(v, RelV):
            raise InputError(pos, "expected a relation here, found a set")
        return v


def _co_generation(e: CatExpr, it: _Interp) -> tuple[SetV, RelV] | None:
    """(the writes, the order to extend) if `e` calls cross.cat's co generation, else None."""
    if not isinstance(e, Call) or e.fn not in ("generate_cos", "generate_orders"):
        return None
    fn = it.lookup(e.fn, e.pos)
    if not isinstance(fn, FunV) or not fn.body_file().endswith("cross.cat"):
        return None  # a function of the same name written elsewhere: no known meaning
    if e.fn == "generate_cos" and len(e.args) == 1:
        saved, it.env = it.env, fn.env
        try:
            writes = it.lookup("W", e.pos)  # cross.cat's W: as bound where it was included
        finally:
            it.env = saved
        base = it.eval(e.args[0])
    elif e.fn == "generate_orders" and len(e.args) == 2:
        writes, base = it.eval(e.args[0]), it.eval(e.args[1])
    else:
        return None
    if not isinstance(writes, SetV) or not isinstance(base, RelV):
        return None
    return writes, base
