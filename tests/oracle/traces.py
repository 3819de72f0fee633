"""Concrete execution of each thread into traces of tagged events (part of the test oracle).

Every read (and RMW read) branches over a finite candidate value domain of its location, giving
concrete traces of tagged events: tags come from the model's mapping recipes, a failed
conditional RMW uses `RMW-fail.<cls>`, a false `require` drops the trace.  The read and write
of a one-instruction RMW (AArch64 LSE atomics) form an `iico` pair instead of a po pair.

Dependencies: the oracle computes only those inside one RMW instruction (its write's value or
existence computed from its own read: a data pair, as herd7's intra-instruction data flow).
A register that holds a value read from memory is tainted; a trace whose address, stored
value, RMW operand or branch condition is tainted is marked `dependent`, and the dependency
relations of such a trace are refused (`Unsupported`) rather than guessed.

Value domain (the bound): D_0 = initial values; D_k = D_0 plus every value some trace writes
when reads take values in D_{k-1}.  Iterating N times, N = the number of write instructions
(Store/Rmw) in the test, is exact for every execution whose rf plus flow (read -> a later
write whose value or existence is computed from it) is acyclic: a written value then depends
on a chain of at most N earlier writes.  The flow is inside po, except inside a
one-instruction RMW, so without those an acyclic po | rf suffices: sc and x86-tso forbid
po | rf cycles (sc directly; x86-tso via ppo, which contains R->W, rfe and
sc-per-location), so the domain is complete for them.  Not quite for sc with
one-instruction RMWs, whose read sc.cat does not order before the write: two CAS(x, 1 -> 1)
may each read the other's write, which exists only because it did, and the domain misses
that value (test_sc_one_instruction_atomics).  armv8 allows po | rf cycles (LB), but the
oracle evaluates it only on traces that are not `dependent`, whose only flow is inside RMWs
(rmw pairs), and armv8 forbids rf | rmw cycles (`internal`).  Models that allow
out-of-thin-air values are out of scope.  Domains larger than MAX_DOMAIN values per
location are refused rather than explored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from collections.abc import Mapping as MappingT
from dataclasses import dataclass, field, replace

from tests.oracle.cat_eval import Pair, Unsupported
from verifier.events.mapping import Item, Mapping, Recipe
from verifier.program.ast import (
    Assign,
    BinOp,
    Const,
    Expr,
    Fence,
    If,
    Instr,
    Ite,
    Litmus,
    Load,
    LocAddr,
    Old,
    Reg,
    Rmw,
    Store,
    UnOp,
)

MAX_DOMAIN = 24


@dataclass(frozen=True)
class Ptr:
    """A location's address used as a value (`p = x`)."""

    name: str


Val = int | Ptr

# --------------------------------------------------------------------------- expressions


def truthy(v: Val) -> bool:
    return isinstance(v, Ptr) or v != 0  # an address is never 0


def _c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q  # C truncates towards zero


def binop(op: str, a: Val, b: Val) -> Val:
    if op == "&&":
        return int(truthy(a) and truthy(b))
    if op == "||":
        return int(truthy(a) or truthy(b))
    if op in ("==", "!="):
        return int((a == b) == (op == "=="))  # a pointer never equals a (small) integer
    if isinstance(a, Ptr) or isinstance(b, Ptr):
        raise Unsupported(f"pointer arithmetic {op}")
    if op in ("/", "%") and b == 0:
        raise Unsupported("division by zero")
    if op in ("<<", ">>") and not 0 <= b < 64:
        raise Unsupported("shift out of range")
    ops: dict[str, Callable[[int, int], int]] = {
        "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
        "/": _c_div, "%": lambda x, y: x - y * _c_div(x, y),
        "&": lambda x, y: x & y, "|": lambda x, y: x | y, "^": lambda x, y: x ^ y,
        "<<": lambda x, y: x << y, ">>": lambda x, y: x >> y,
        "<": lambda x, y: int(x < y), "<=": lambda x, y: int(x <= y),
        ">": lambda x, y: int(x > y), ">=": lambda x, y: int(x >= y),
    }
    return ops[op](a, b)


def evaluate(e: Expr, env: MappingT[str, Val], old: Val | None = None) -> Val:
    if isinstance(e, Const):
        return e.value
    if isinstance(e, LocAddr):
        return Ptr(e.name)
    if isinstance(e, Reg):
        return env.get(e.name, 0)  # registers start at 0
    if isinstance(e, Old):
        if old is None:
            raise Unsupported("Old() outside an RMW")
        return old
    if isinstance(e, BinOp):
        return binop(e.op, evaluate(e.left, env, old), evaluate(e.right, env, old))
    if isinstance(e, UnOp):
        a = evaluate(e.arg, env, old)
        if e.op == "!":
            return int(not truthy(a))
        if isinstance(a, Ptr):
            raise Unsupported(f"pointer arithmetic {e.op}")
        return -a if e.op == "-" else ~a
    if isinstance(e, Ite):
        return evaluate(e.then if truthy(evaluate(e.cond, env, old)) else e.other, env, old)
    raise Unsupported(f"expression {e!r}")


def _registers(e: Expr) -> set[str]:
    if isinstance(e, Reg):
        return {e.name}
    if isinstance(e, BinOp):
        return _registers(e.left) | _registers(e.right)
    if isinstance(e, UnOp):
        return _registers(e.arg)
    if isinstance(e, Ite):
        return _registers(e.cond) | _registers(e.then) | _registers(e.other)
    return set()


def _mentions(e: Expr | None, kind: type) -> bool:
    if e is None:
        return False
    if isinstance(e, kind):
        return True
    if isinstance(e, BinOp):
        return _mentions(e.left, kind) or _mentions(e.right, kind)
    if isinstance(e, UnOp):
        return _mentions(e.arg, kind)
    if isinstance(e, Ite):
        return _mentions(e.cond, kind) or _mentions(e.then, kind) or _mentions(e.other, kind)
    return False


# --------------------------------------------------------------------------- thread traces


@dataclass(frozen=True)
class TEvent:
    kind: str  # "R", "W", "F" or "L" (herd7's lock events)
    loc: str | None
    value: Val | None
    tags: frozenset[str]


@dataclass(frozen=True)
class Trace:
    """One path of one thread with concrete read values.

    Pairs are indices into `events`.  `data` holds the intra-instruction data pairs of RMWs
    (the only dependencies computed); `tainted` the registers whose value came from memory;
    `dependent` says why the trace has a dependency the oracle does not compute (or None).
    """

    events: tuple[TEvent, ...] = ()
    rmw: tuple[Pair, ...] = ()
    iico: tuple[Pair, ...] = ()
    data: tuple[Pair, ...] = ()
    env: MappingT[str, Val] = field(default_factory=dict)
    tainted: frozenset[str] = frozenset()
    dependent: str | None = None

    def emit(self, recipe: Recipe, loc: str | None, read: Val | None, write: Val | None) -> tuple[Trace, dict[str, int]]:
        """Append a recipe's events; returns the new trace and the index of its R and W."""
        events, where = list(self.events), {}
        for item in recipe:
            where[item.kind] = len(events)
            acc = item.kind != "F"
            value = read if item.kind == "R" else write if item.kind == "W" else None
            events.append(TEvent(item.kind, loc if acc else None, value, frozenset(item.tags)))
        return replace(self, events=tuple(events)), where

    def set(self, reg: str, v: Val, tainted: bool = False) -> Trace:
        taint = self.tainted | {reg} if tainted else self.tainted - {reg}
        return replace(self, env={**self.env, reg: v}, tainted=taint)

    def depends(self, why: str) -> Trace:
        return self if self.dependent is not None else replace(self, dependent=why)

    def reads_memory(self, e: Expr | None) -> bool:
        """Does `e` use a value read from memory (a tainted register)?"""
        return e is not None and bool(_registers(e) & self.tainted)


class _Runner:
    def __init__(self, mapping: Mapping, domains: MappingT[str, frozenset[Val]]) -> None:
        self.mapping = mapping
        self.domains = domains

    def recipe(self, key: str) -> Recipe:
        r = self.mapping.recipe(key)
        if r is None:
            raise Unsupported(f"no mapping row {key}")
        return r

    def domain(self, loc: str) -> list[Val]:
        return sorted(self.domains.get(loc, frozenset({0})), key=repr)

    def block(self, body: tuple[Instr, ...], t: Trace) -> Iterator[Trace]:
        if not body:
            yield t
            return
        for t2 in self.step(body[0], t):
            yield from self.block(body[1:], t2)

    def step(self, i: Instr, t: Trace) -> Iterator[Trace]:
        if isinstance(i, Assign):
            yield t.set(i.dst, evaluate(i.value, t.env), t.reads_memory(i.value))
        elif isinstance(i, If):
            branch = i.then if truthy(evaluate(i.cond, t.env)) else i.other
            for t2 in self.block(branch, t):
                if t.reads_memory(i.cond) and len(t2.events) > len(t.events):
                    t2 = t2.depends("control dependency")
                yield t2
        elif isinstance(i, Load):
            loc = _address(i.addr, t.env)
            if t.reads_memory(i.addr):
                t = t.depends("address dependency")
            recipe = self.recipe(f"R.{i.cls}")
            if any(item.kind == "L" for item in recipe):
                # herd7's ReadLock: says locked (RL, 1) or not (RU, 0), by the execution's choice
                for tag, v in (("RL", 1), ("RU", 0)):
                    lock = [Item(item.kind, (tag,)) if item.kind == "L" else item for item in recipe]
                    yield t.emit(tuple(lock), loc, None, None)[0].set(i.dst, v)
                return
            for v in self.domain(loc):
                yield t.emit(self.recipe(f"R.{i.cls}"), loc, v, None)[0].set(i.dst, v, tainted=True)
        elif isinstance(i, Store):
            loc = _address(i.addr, t.env)
            if t.reads_memory(i.addr) or t.reads_memory(i.value):
                t = t.depends("address or data dependency")
            yield t.emit(self.recipe(f"W.{i.cls}"), loc, None, evaluate(i.value, t.env))[0]
        elif isinstance(i, Fence):
            yield t.emit(self.recipe(f"F.{i.cls}"), None, None, None)[0]
        elif isinstance(i, Rmw):
            yield from self.rmw(i, t)
        else:
            raise Unsupported(f"{type(i).__name__} (only straight-line code and If)")

    def rmw(self, i: Rmw, t: Trace) -> Iterator[Trace]:
        loc = _address(i.addr, t.env)
        if any(item.kind == "L" for item in self.recipe(f"RMW.{i.cls}")):
            # herd7's lock events: spin_lock always takes the lock (lock.cat decides what it
            # sees); spin_trylock takes it (1) or fails (0) by the execution's choice.
            outcomes = [("RMW", 1)] + ([("RMW-fail", 0)] if i.cond is not None else [])
            for key, result in outcomes:
                t2 = t.emit(self.recipe(f"{key}.{i.cls}"), loc, None, None)[0]
                yield t2.set(i.dst, result) if i.dst is not None else t2
            return
        if any(t.reads_memory(e) for e in (i.addr, i.new, i.cond)):
            t = t.depends("an RMW's address or operand read from memory")
        if _mentions(i.new, Ite) or _mentions(i.cond, Ite):
            t = t.depends("a conditional expression in an RMW")  # data or pick: not modelled
        # The write's value or existence computed from the RMW's own read: herd7's data
        # dependency inside the instruction (iico_data), so `data` relates the pair.
        own_data = _mentions(i.new, Old) or _mentions(i.cond, Old)
        for old in self.domain(loc):
            if i.require is not None and not truthy(evaluate(i.require, t.env, old)):
                continue  # such executions do not exist
            if i.cond is None or truthy(evaluate(i.cond, t.env, old)):
                t2, where = t.emit(self.recipe(f"RMW.{i.cls}"), loc, old, evaluate(i.new, t.env, old))
                pair = (where["R"], where["W"])
                t2 = replace(
                    t2,
                    rmw=(*t2.rmw, pair),
                    # One instruction: ordered inside the instruction (iico), not by po.
                    iico=(*t2.iico, pair) if i.one_instruction else t2.iico,
                    data=(*t2.data, pair) if own_data else t2.data,
                )
            else:  # a failed conditional RMW is its read alone
                t2, _ = t.emit(self.recipe(f"RMW-fail.{i.cls}"), loc, old, None)
            if i.dst is not None:
                tainted = _mentions(i.ret, Old) or t.reads_memory(i.ret)
                t2 = t2.set(i.dst, evaluate(i.ret, t.env, old), tainted)
            yield t2


def _address(e: Expr, env: MappingT[str, Val]) -> str:
    a = evaluate(e, env)
    if not isinstance(a, Ptr):
        raise Unsupported(f"access to non-address {a!r}")
    return a.name


def _write_instrs(body: tuple[Instr, ...]) -> int:
    return sum(
        1 if isinstance(i, (Store, Rmw)) else _write_instrs(i.then) + _write_instrs(i.other) if isinstance(i, If) else 0
        for i in body
    )


def widened(base: MappingT[str, frozenset[Val]], runs: list[list[Trace]]) -> dict[str, frozenset[Val]]:
    """`base` plus every value some run writes to each location (a location reached only
    through a pointer starts from 0); past MAX_DOMAIN values per location, refused."""
    new: dict[str, set[Val]] = {n: set(vs) for n, vs in base.items()}
    for traces in runs:
        for t in traces:
            for e in t.events:
                if e.kind == "W" and e.loc is not None:
                    assert e.value is not None
                    new.setdefault(e.loc, {0}).add(e.value)
    fixed = {n: frozenset(vs) for n, vs in new.items()}
    if any(len(vs) > MAX_DOMAIN for vs in fixed.values()):
        raise Unsupported("value domain too large")
    return fixed


def thread_traces(test: Litmus, mapping: Mapping) -> tuple[list[list[Trace]], dict[str, Val]]:
    """Every trace of every thread (sorted by tid) and each location's initial value."""
    inits: dict[str, Val] = {loc.name: evaluate(loc.init, {}) for loc in test.locations}
    threads = sorted(test.threads, key=lambda th: th.tid)

    def run(domains: MappingT[str, frozenset[Val]]) -> list[list[Trace]]:
        runner = _Runner(mapping, domains)
        out = []
        for th in threads:
            start = Trace()
            for reg, e in th.reg_init:
                start = start.set(reg, evaluate(e, start.env))
            out.append(list(runner.block(th.body, start)))
        return out

    domains = {n: frozenset({v}) for n, v in inits.items()}
    for _ in range(sum(_write_instrs(th.body) for th in threads)):
        fixed = widened({n: frozenset({v}) for n, v in inits.items()}, run(domains))
        if fixed == domains:
            break
        domains = fixed
    return run(domains), inits
