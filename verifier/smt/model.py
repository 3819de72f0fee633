"""A compiled model's constraints on the encoded candidate executions.

The relation program (`wmm/program.py`) is run over the execution: a set is a map event ->
SMT term (the event is in the set iff the term holds), a relation a map (event, event) ->
term.  Only pairs that may be related are keys ("may" sets) and a pair whose term is `true`
must be, so static facts prune the encoding.  The axioms become constraints:
- `acyclic r`: one integer clock per event; for every may-edge a->b inside a strongly
  connected component of the may-graph, r(a,b) implies clock(a) < clock(b) (edges between
  components cannot close a cycle and are skipped);
- `irreflexive r`, `empty r`: the terms are asserted false; `~empty r`: some term holds.
A flag is not a constraint: its terms are kept so a witness can report it.

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

from verifier.errors import InputError, Pos, Unsupported
from verifier.smt import families
from verifier.smt.builtins import execution_builtins
from verifier.smt.cat_values import ChoiceV, ElemV, FunV, Pair, RelV, SetV, Value, like, terms_of, union
from verifier.smt.cogen import generated_co
from verifier.smt.encode import Execution
from verifier.smt.fixpoint import MAX_ITERATIONS, OutOfTime, least_fixpoint
from verifier.smt.graph import sccs
from verifier.smt.terms import F, Script, T, and_, implies, lt, not_, or_
from verifier.wmm import program as p


@dataclass
class _Lazy:
    """A `let ... in` value computed when first used."""

    expr: p.Expr
    env: dict[str, Value | _Lazy]
    value: Value | None = None


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
    # `constrain(..., exact=True)`: every recursive group iterated to its least fixpoint.
    exact: bool = False
    # The probes' pair terms, each a name or a constant (`Axiom.probe`), in program order.
    probes: list[tuple[p.Axiom, dict[Any, str]]] = field(default_factory=list)

    def flags_need_exact(self) -> bool:
        return not self.flags_exact and any(f.raised != F for f in self.flags)


def constrain(prog: p.RelProgram, ex: Execution, tags: frozenset[str], deadline: float | None = None,
              *, exact_flags: bool = False, exact: bool = False) -> Interpretation:
    """Add the program's constraints to `ex.script`.  `tags`: every tag name a mapping can
    attach, so that a model may name a tag that no event of this test carries.  Past
    `deadline` a recursive definition's iteration raises `fixpoint.OutOfTime`.
    `exact_flags`: every flag's term exact, at the cost of iterating recursive groups a
    flag depends on (see `Interpretation.flags_exact`)."""
    out = Interpretation(flags_exact=exact_flags or exact or prog.flags_exact, exact=exact)
    run = _Run(prog, ex, tags, deadline, out, exact_flags)
    for step in prog.steps:
        if isinstance(step, p.Axiom):
            run.axiom(step)
        else:
            run.choose(step)
    return out


class _Run:
    def __init__(self, prog: p.RelProgram, ex: Execution, tags: frozenset[str], deadline: float | None,
                 stats: Interpretation, exact_flags: bool) -> None:
        self.prog = prog
        self.ex = ex
        self.deadline = deadline
        self.stats = stats
        self.exact_flags = exact_flags
        self.real: Script | None = None  # while a scratch script is in use: the real one
        self.s = ex.script
        self.locals: dict[str, Value | _Lazy] = {}
        self.values: dict[int, Value] = {}  # definitions computed so far (and group iterates)
        self.events = [e.eid for e in ex.graph.events]
        self.guard = ex.guard
        self.builtins = execution_builtins(ex, tags)
        self.base_values: dict[str, Value] = {}
        self.clock_counter = 0

    # ---- steps

    def axiom(self, a: p.Axiom) -> None:
        v = self.eval(a.expr)
        if not isinstance(v, (SetV, RelV, ElemV)):
            raise InputError(a.pos, "a check needs a set or relation")
        v = families.as_data(v, a.pos)
        terms: dict[Any, str] = terms_of(v)
        if a.kind == "irreflexive":
            if isinstance(v, SetV):
                raise InputError(a.pos, "irreflexive needs a relation, not a set")
            terms = {q: t for q, t in v.terms.items() if q[0] == q[1]}
        if a.probe:
            # name each pair's term, so that its value can be read from the solver's model
            named: dict[Any, str] = {}
            for q, t in terms.items():
                t = self.s.name_bool("probe", t) if t not in (T, F) else t
                self.s.keep(t)
                named[q] = t
            self.stats.probes.append((a, named))
            return
        if a.flag is not None:
            # herd raises a flag in the executions where its check holds (`flag ~empty r`:
            # where r is non-empty); it constrains nothing.
            nonempty = or_(*terms.values())
            self.s.keep(nonempty)
            self.stats.flags.append(Flag(a.flag, nonempty if a.negated else not_(nonempty)))
            return
        self.stats.checks += 1
        if a.negated:
            self.s.add(or_(*terms.values()))
        elif a.kind in ("irreflexive", "empty"):
            for t in terms.values():
                self.s.add(not_(t))
        else:
            assert isinstance(v, RelV)
            self._acyclic(v)

    def choose(self, c: p.Choice) -> None:
        """`with x from generate_cos(r)` (herd's cos.cat): one execution per coherence order
        extending r, which is what the engine's own co ranges over (a total order of each
        location's writes, the initial write first): x is bound to it, constrained to contain
        r's same-location pairs.  Any other choice is among a set of sets or relations, or
        `cross` of one (`families.py`)."""
        if c.how == "co":
            assert c.writes is not None
            writes, base = self.eval(c.writes), self.eval(c.expr)
            if not isinstance(writes, SetV) or not isinstance(base, RelV):
                raise InputError(c.pos, "co generation needs a set of events and a relation")
            self.clock_counter += 1
            self.values[c.index] = generated_co(self.ex, self.s, writes, base, f"k{self.clock_counter}", c.pos)
            return
        v = self.eval(c.expr)
        if c.how == "cross":
            v = ChoiceV(families.as_family(v, c.pos))
        if isinstance(v, ChoiceV):
            self.values[c.index] = families.choose_cross(self.s, v.family, c.pos)
        else:
            self.values[c.index] = families.choose_member(self.s, families.as_family(v, c.pos), c.pos)

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

    # ---- names

    def ref(self, i: int) -> Value:
        if i in self.values:
            return self.values[i]
        d = self.prog.defs[i]
        saved, self.locals = self.locals, {}
        script, self.s = self.s, self.real or self.s
        try:
            if d.group is not None:
                self._group(d.group)
            else:
                self.values[i] = self._value(d.expr)
        finally:
            self.locals, self.s = saved, script
        return self.values[i]

    def _value(self, e: p.Expr) -> Value:
        return FunV(e.params, e.body, dict(self.locals)) if isinstance(e, p.Lambda) else self.eval(e)

    def local(self, name: str) -> Value:
        v = self.locals[name]
        if isinstance(v, _Lazy):
            if v.value is None:
                saved, self.locals = self.locals, v.env
                script, self.s = self.s, self.real or self.s
                try:
                    v.value = self._value(v.expr)
                finally:
                    self.locals, self.s = saved, script
            return v.value
        return v

    def base(self, name: str) -> Value:
        if name not in self.base_values:  # computed once, whatever the scope
            script, self.s = self.s, self.real or self.s
            try:
                self.base_values[name] = self.builtins[name]()
            finally:
                self.s = script
        return self.base_values[name]

    # ---- expressions

    def eval(self, e: p.Expr) -> Value:
        v = self._eval(e)
        if isinstance(v, RelV) and not isinstance(e, (p.Ref, p.Local, p.Base)):
            self.stats.relations += 1
            self.stats.pairs += len(v.terms)
        return v

    def _eval(self, e: p.Expr) -> Value:
        if isinstance(e, p.Ref):
            return self.ref(e.index)
        if isinstance(e, p.Local):
            return self.local(e.name)
        if isinstance(e, p.Base):
            return self.base(e.name)
        if isinstance(e, p.Empty):
            return RelV({})
        if isinstance(e, p.Op1):
            return self._op1(e)
        if isinstance(e, p.Op2):
            return self._op2(e)
        if isinstance(e, p.Apply):
            return self._apply(e)
        if isinstance(e, p.SetOf):
            return families.set_literal([self.eval(x) for x in e.items], e.pos)
        if isinstance(e, p.MapOver):
            f = self.eval(e.fn)
            if not isinstance(f, FunV) or len(f.params) != 1:
                raise InputError(e.pos, "map needs a function of one argument")
            return families.map_over(lambda x: self.invoke(f, [x]), self.eval(e.arg), e.pos)
        if isinstance(e, p.Cross):
            return ChoiceV(families.as_family(self.eval(e.arg), e.pos))
        if isinstance(e, p.LetLocal):
            return self._let_local(e)
        if isinstance(e, p.Lambda):
            return FunV(e.params, e.body, dict(self.locals))
        raise Unsupported(e.pos, f"unsupported: {e.why} in a model")

    def _op1(self, e: p.Op1) -> Value:
        v = self.eval(e.arg)
        if e.op == "bracket":
            s = self.as_set(v, e.pos)
            return RelV({(x, x): t for x, t in s.terms.items()})
        if e.op in ("domain", "range"):
            acc: dict[int, list[str]] = {}
            for (x, y), t in self.as_rel(v, e.pos).terms.items():
                acc.setdefault(x if e.op == "domain" else y, []).append(t)
            return SetV({k: or_(*ts) for k, ts in acc.items()})
        if e.op == "compl":
            if isinstance(v, SetV):
                return SetV({x: and_(self.guard[x], not_(v.terms.get(x, F))) for x in self.events})
            r = self.as_rel(v, e.pos)
            out = {
                (a, b): and_(self.guard[a], self.guard[b], not_(r.terms.get((a, b), F)))
                for a in self.events
                for b in self.events
            }
            return RelV({q: t for q, t in out.items() if t != F})
        r = self.as_rel(v, e.pos)
        if e.op == "different-values":
            return self._different_values(r, e.pos)
        if e.op == "inverse":
            return RelV({(b, a): t for (a, b), t in r.terms.items()})
        if e.op == "opt":
            return union(r, self._id())
        closure = self._plus(r)
        return closure if e.op == "plus" else union(closure, self._id())

    def _op2(self, e: p.Op2) -> Value:
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
            return RelV({q: t for q, t in out.items() if t != F})
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
        out3 = {k: and_(t, not_(bt.get(k, F))) for k, t in a.terms.items()}
        return like(a, {k: t for k, t in out3.items() if t != F})

    def _apply(self, e: p.Apply) -> Value:
        fn = self.eval(e.fn)
        if not isinstance(fn, FunV):
            raise InputError(e.pos, f"'{e.name}' is not a function")
        if len(fn.params) != len(e.args):
            raise InputError(e.pos, f"'{e.name}' takes {len(fn.params)} argument(s), given {len(e.args)}")
        return self.invoke(fn, [self.eval(a) for a in e.args])

    def invoke(self, fn: FunV, args: list[Value]) -> Value:
        saved = self.locals
        self.locals = {**fn.env, **dict(zip(fn.params, args, strict=True))}
        try:
            return self.eval(fn.body)
        finally:
            self.locals = saved

    def _let_local(self, e: p.LetLocal) -> Value:
        """`let b1 and b2 in body`: the bindings see the enclosing scope, the body sees them."""
        before = dict(self.locals)
        inner: dict[str, Value | _Lazy] = dict(before)
        if e.rec:
            def bind(cur: dict[str, Any]) -> None:
                self.locals = {**before, **cur}

            inner.update(self._fixpoint(e.names, e.values, bind, e.pos, e.monotone))
        else:
            for name, value in zip(e.names, e.values, strict=True):
                inner[name] = FunV(value.params, value.body, before) if isinstance(value, p.Lambda) else _Lazy(value, before)
        saved, self.locals = self.locals, inner
        try:
            return self.eval(e.body)
        finally:
            self.locals = saved

    # ---- recursive groups

    def _group(self, g: int) -> None:
        group = self.prog.groups[g]
        index = {self.prog.defs[i].name: i for i in group.members}
        names = tuple(index)
        bodies = tuple(self.prog.defs[i].expr for i in group.members)

        def bind(cur: dict[str, Any]) -> None:
            for n, v in cur.items():
                self.values[index[n]] = v

        pre = group.pre_always if self.exact_flags else group.pre_for_verdicts
        if self.stats.exact:
            pre = False  # every value exact (a proof reads relations' values: analyses/proof.py)
        if pre:
            values = self._pre_fixpoint(names, bodies, bind)
        else:
            values = self._fixpoint(names, bodies, bind, group.pos, group.monotone)
        bind(values)

    def _bodies(self, names: tuple[str, ...], bodies: tuple[p.Expr, ...], bind: Callable[[dict[str, Any]], None],
                cur: dict[str, Any], *, in_turn: bool) -> dict[str, SetV | RelV]:
        """The group's bodies given `cur`; `in_turn`: each body sees the values computed
        before it in this round (herd7's order; the kernel's nesting match depends on it)."""
        saved_locals = self.locals
        now = dict(cur)
        out: dict[str, SetV | RelV] = {}
        try:
            bind(now)
            for n, body in zip(names, bodies, strict=True):
                v = self.eval(body)
                if not isinstance(v, (SetV, RelV)):
                    raise Unsupported(body.pos, "unsupported: a recursive definition of a function or "
                                                "of a set of sets")
                out[n] = v
                if in_turn:
                    now[n] = v
                    bind(now)
        finally:
            self.locals = saved_locals
        return out

    def _fixpoint(self, names: tuple[str, ...], bodies: tuple[p.Expr, ...], bind: Callable[[dict[str, Any]], None],
                  pos: Pos, monotone: bool) -> dict[str, Value]:
        """The group's least fixpoint (`fixpoint.py`)."""
        values = least_fixpoint(names, lambda cur: self._bodies(names, bodies, bind, cur, in_turn=True), RelV({}),
                                lambda t: self.s.derive("rec", t), like, self._settled,
                                monotone=monotone, pos=pos, deadline=self.deadline)
        return dict(values)

    def _pre_fixpoint(self, names: tuple[str, ...], bodies: tuple[p.Expr, ...],
                      bind: Callable[[dict[str, Any]], None]) -> dict[str, Value]:
        """Free Booleans for the pairs the group may hold, constrained to contain what its
        bodies give for them (X contains F(X)).  Exact where only forbidding checks use the
        group positively (`cat/monotone.py`, `forbids_only`): the least fixpoint is one such
        X, and any larger one only forbids more.  The pairs that may be in it come first, by
        iterating the bodies with every pair present (monotone: that over-approximates)."""
        # The may-pairs are found on a scratch script: the rounds' named terms would only
        # burden the solver.  A definition the rounds force is computed on the real one
        # (`ref`): its value, and its names, are kept.
        real, self.s = self.s, Script()
        self.real = real
        try:
            may = self._may_pairs(names, bodies, bind)
        finally:
            self.s, self.real = real, None
        chosen = {n: like(v, {k: self.s.fresh("rec", "Bool") for k in terms_of(v)}) for n, v in may.items()}
        for n, v in self._bodies(names, bodies, bind, chosen, in_turn=False).items():
            held = terms_of(chosen[n])
            for k, t in terms_of(v).items():
                self.s.add(implies(t, held.get(k, F)))
        return dict(chosen)

    def _may_pairs(self, names: tuple[str, ...], bodies: tuple[p.Expr, ...],
                   bind: Callable[[dict[str, Any]], None]) -> dict[str, SetV | RelV]:
        """The pairs a monotone group may hold: its bodies iterated with every pair present."""
        may: dict[str, SetV | RelV] = {n: RelV({}) for n in names}
        for _ in range(MAX_ITERATIONS):
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise OutOfTime
            full = {n: like(v, {k: T for k in terms_of(v)}) for n, v in may.items()}
            nxt = self._bodies(names, bodies, bind, full, in_turn=False)
            if all(type(nxt[n]) is type(may[n]) and set(terms_of(nxt[n])) == set(terms_of(may[n])) for n in may):
                return may
            may = nxt
        raise Unsupported(bodies[0].pos, "unsupported: a recursive definition needing more iterations than the bound")

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
        differ = or_(*diffs)
        solver.from_string(self.s.text(differ) + f"\n(assert {differ})")
        return solver.check() == z3.unsat

    # ---- relations

    def _id(self) -> RelV:
        return RelV({(x, x): self.guard[x] for x in self.events})

    def _seq(self, a: RelV, b: RelV) -> RelV:
        by_src: dict[int, list[tuple[int, str]]] = {}
        for (x, y), t in b.terms.items():
            by_src.setdefault(x, []).append((y, t))
        acc: dict[Pair, list[str]] = {}
        for (x, y), t in a.terms.items():
            for z, u in by_src.get(y, []):
                acc.setdefault((x, z), []).append(and_(t, u))
        out: dict[Pair, str] = {}
        for q, ts in acc.items():
            term = or_(*ts)
            if term != F:
                out[q] = self.s.derive("seq", term)
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
                    term = self.s.derive("tc", through if old is None else or_(old, through))
                    row[j] = term
                    pred.setdefault(j, {})[i] = term
        return RelV({(i, j): t for i, row in succ.items() for j, t in row.items()})

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
