"""Symbolic execution of each thread into guarded events.

Every instruction runs once under a guard (the path condition).  A conditional (`If`) runs both
branches under `guard && c` and `guard && !c` and merges registers with if-then-else; assembly
jumps are handled the same way over the thread's control-flow graph.  Loops are unrolled as
herd7 unrolls them: along a path, the backward jumps to one label may be taken `unroll` times
(herd7's `-unroll`, default 2); a path that would take one more is cut, that is, its
executions do not exist (herd7 drops them too, and says the answer holds up to the bound).

A sized access (assembly) stores the low bits of its value; its read returns a value of its
size (the SMT stage reads an initial value through the read's size).

Register values carry the set of reads they depend on, which yields herd's `addr`, `data` and
`ctrl` relations: an address or stored value computed from a read, or an event under a branch
whose condition was computed from a read (in C: inside the branch; in assembly: every later
event of the thread).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace

from verifier.errors import InputError, Pos, Unsupported
from verifier.events.graph import INIT_TID, Dep, Event, EventGraph
from verifier.events.mapping import Item, Mapping, Recipe
from verifier.events.sym import (
    FALSE,
    TRUE,
    SAddr,
    SChoice,
    SConst,
    SPick,
    SRead,
    Sym,
    binop,
    conj,
    disj,
    ite,
    neg,
    truth,
    unop,
)
from verifier.events.values import Deps, Val, merge, select, under, union
from verifier.program.ast import (
    Assign,
    BinOp,
    Branch,
    Const,
    Expr,
    Fence,
    Goto,
    If,
    Instr,
    Ite,
    Label,
    Litmus,
    Load,
    LocAddr,
    Old,
    Pick,
    Reg,
    Rmw,
    Store,
    StoreEx,
    Thread,
    UnOp,
)

Env = dict[str, Val]
ZERO = Val(SConst(0))


@dataclass
class _Acc:
    """Everything the threads add to the graph (mutable while building one test)."""

    events: list[Event] = field(default_factory=list)
    rmw: list[tuple[int, int]] = field(default_factory=list)
    iico: list[tuple[int, int]] = field(default_factory=list)
    deps: dict[str, list[Dep]] = field(
        default_factory=lambda: {k: [] for k in ("addr", "data", "ctrl", "pick_addr", "pick_data")}
    )
    assumptions: list[Sym] = field(default_factory=list)
    choices: int = 0
    unordered: list[tuple[int, int]] = field(default_factory=list)
    last_access: int | None = None
    cut: bool = False
    source: str = ""  # the text of the instruction being compiled (its events carry it)

    def depend(self, kind: str, d: Deps, eid: int) -> None:
        self.deps[kind].extend((src, eid, cond) for src, cond in d.items() if src != eid)


@dataclass
class _State:
    """A path through a thread: its guard, registers, the reads its control depends on, and
    the open exclusive reservation (eid and address of the last exclusive load), if any."""

    guard: Sym
    env: Env
    ctrl: Deps
    reservation: tuple[int, Sym] | None = None

    def with_env(self, env: Env) -> _State:
        return _State(self.guard, env, self.ctrl, self.reservation)


DEFAULT_UNROLL = 2  # herd7's default for every dialect but ASL
CONCRETE_LOOP_LIMIT = 10_000


def build_events(test: Litmus, mapping: Mapping, unroll: int | None = None) -> EventGraph:
    """Turn a parsed test into events, compiling access classes through `mapping`.  The
    bound on backward jumps is the test's own `Unroll=N`, else `unroll`, else herd7's 2."""
    bound = test.unroll if test.unroll is not None else unroll if unroll is not None else DEFAULT_UNROLL
    acc = _Acc()
    locations = [loc.name for loc in test.locations]
    for loc in test.locations:
        value = _eval(loc.init, {}, None).sym
        acc.events.append(
            Event(len(acc.events), INIT_TID, "W", (), TRUE, SAddr(loc.name), value, None, "init")
        )
    threads: list[tuple[int, ...]] = []
    finals: list[tuple[tuple[int, str], Sym]] = []
    for thread in sorted(test.threads, key=lambda t: t.tid):
        start = len(acc.events)
        state = _run_thread(thread, mapping, acc, bound)
        threads.append(tuple(range(start, len(acc.events))))
        for reg, val in sorted(state.env.items()):
            if not reg.startswith("%"):
                finals.append(((thread.tid, reg), val.sym))
    # Locations reached only through pointers still need an initial write.
    for e in list(acc.events):
        for s in (e.addr, e.value):
            if isinstance(s, SAddr) and s.name not in locations:
                locations.append(s.name)
                acc.events.append(
                    Event(len(acc.events), INIT_TID, "W", (), TRUE, SAddr(s.name), SConst(0), None, "init")
                )

    def deps(kind: str) -> tuple[Dep, ...]:
        return tuple(sorted(acc.deps[kind], key=lambda d: (d[0], d[1])))

    return EventGraph(
        test=test,
        events=tuple(acc.events),
        threads=tuple(threads),
        tids=tuple(t.tid for t in sorted(test.threads, key=lambda t: t.tid)),
        locations=tuple(locations),
        rmw=tuple(acc.rmw),
        addr=deps("addr"),
        data=deps("data"),
        ctrl=deps("ctrl"),
        assumptions=tuple(acc.assumptions),
        final_regs=tuple(finals),
        iico=tuple(acc.iico),
        pick_addr=deps("pick_addr"),
        pick_data=deps("pick_data"),
        choices=acc.choices,
        picks=tuple(sorted(_picks(test))),
        unordered=tuple(acc.unordered),
        unroll=bound if any(_has_loop(t.body) for t in test.threads) else None,
        cut=acc.cut,
    )


def _has_loop(body: tuple[Instr, ...]) -> bool:
    """Whether some jump goes back to a label at or before it."""
    seen: set[str] = set()
    for i in body:
        if isinstance(i, Label):
            seen.add(i.name)
        elif isinstance(i, (Branch, Goto)) and i.target in seen:
            return True
    return False


def _picks(test: Litmus) -> set[int]:
    """The analysis choices (`Pick`) the test mentions: each becomes a Boolean of the encoding."""
    out: set[int] = set()

    def expr(e: object) -> None:
        if isinstance(e, Pick):
            out.add(e.index)
        elif isinstance(e, BinOp):
            expr(e.left)
            expr(e.right)
        elif isinstance(e, UnOp):
            expr(e.arg)
        elif isinstance(e, Ite):
            expr(e.cond)
            expr(e.then)
            expr(e.other)

    def block(body: tuple[Instr, ...]) -> None:
        for i in body:
            if isinstance(i, If):
                expr(i.cond)
                block(i.then)
                block(i.other)
            elif isinstance(i, Branch):
                expr(i.cond)

    for t in test.threads:
        block(t.body)
    return out


# --------------------------------------------------------------------------- expressions


def _eval(e: Expr, env: Env, old: Val | None) -> Val:
    if isinstance(e, Const):
        return Val(SConst(e.value))
    if isinstance(e, LocAddr):
        return Val(SAddr(e.name))
    if isinstance(e, Reg):
        return env.get(e.name, ZERO)
    if isinstance(e, Old):
        if old is None:
            raise ValueError("Old() outside an RMW")  # a front-end bug, not bad input
        return old
    if isinstance(e, BinOp):
        a, b = _eval(e.left, env, old), _eval(e.right, env, old)
        return Val(binop(e.op, a.sym, b.sym), union(a.deps, b.deps), union(a.picks, b.picks))
    if isinstance(e, UnOp):
        a = _eval(e.arg, env, old)
        return Val(unop(e.op, a.sym), a.deps, a.picks)
    if isinstance(e, Ite):
        return select(_eval(e.cond, env, old), _eval(e.then, env, old), _eval(e.other, env, old))
    if isinstance(e, Pick):
        return Val(SPick(e.index))
    raise TypeError(f"not an expression: {e!r}")


# --------------------------------------------------------------------------- threads


def _run_thread(thread: Thread, mapping: Mapping, acc: _Acc, unroll: int) -> _State:
    env: Env = {}
    for reg, value in thread.reg_init:
        env[reg] = _eval(value, env, None)
    state = _State(TRUE, env, {})
    body = thread.body
    acc.last_access = None
    if any(isinstance(i, (Label, Branch, Goto)) for i in body):
        return _run_cfg(thread.tid, body, state, mapping, acc, unroll)
    return _run_block(thread.tid, body, state, mapping, acc)


def _run_block(tid: int, body: tuple[Instr, ...], st: _State, mapping: Mapping, acc: _Acc) -> _State:
    for instr in body:
        st = _step(tid, instr, st, mapping, acc)
    return st


def _step(tid: int, instr: Instr, st: _State, mapping: Mapping, acc: _Acc) -> _State:
    acc.source = getattr(instr, "source", "")
    if isinstance(instr, Assign):
        env = dict(st.env)
        env[instr.dst] = _eval(instr.value, st.env, None)
        return st.with_env(env)
    if isinstance(instr, If):
        c = _eval(instr.cond, st.env, None)
        cond = truth(c.sym)
        inner_ctrl = union(st.ctrl, c.sources())
        then = _run_block(
            tid, instr.then, _State(conj(st.guard, cond), dict(st.env), inner_ctrl, st.reservation), mapping, acc
        )
        other = _run_block(
            tid, instr.other, _State(conj(st.guard, neg(cond)), dict(st.env), inner_ctrl, st.reservation), mapping, acc
        )
        reservation = _same_reservation([then, other], instr.pos)
        return _State(st.guard, _merge_envs([(cond, then.env), (TRUE, other.env)]), st.ctrl, reservation)
    if isinstance(instr, Load):
        a = _eval(instr.addr, st.env, None)
        recipe = _recipe(mapping, f"R.{instr.cls}", instr.pos, instr.prim)
        if any(item.kind == "L" for item in recipe):
            return _lock_query(tid, instr, recipe, a, st, acc)
        eids = _emit(tid, recipe, [st.guard] * len(recipe), a, None, instr.pos, f"R.{instr.cls}", acc, st,
                     size=instr.size, paired=instr.paired)
        r = _only(recipe, eids, "R")
        env = dict(st.env)
        env[instr.dst] = Val(SRead(r), {r: TRUE})
        reservation = (r, a.sym) if instr.exclusive else st.reservation
        return _State(st.guard, env, st.ctrl, reservation)
    if isinstance(instr, Store):
        a = _eval(instr.addr, st.env, None)
        v = _eval(instr.value, st.env, None)
        recipe = _recipe(mapping, f"W.{instr.cls}", instr.pos, instr.prim)
        _emit(tid, recipe, [st.guard] * len(recipe), a, v, instr.pos, f"W.{instr.cls}", acc, st,
              size=instr.size, paired=instr.paired)
        return st
    if isinstance(instr, StoreEx):
        return _store_ex(tid, instr, st, mapping, acc)
    if isinstance(instr, Fence):
        recipe = _recipe(mapping, f"F.{instr.cls}", instr.pos, instr.prim)
        _emit(tid, recipe, [st.guard] * len(recipe), None, None, instr.pos, f"F.{instr.cls}", acc, st)
        return st
    if isinstance(instr, Rmw):
        return _rmw(tid, instr, st, mapping, acc)
    raise InputError(instr.pos, f"unexpected {type(instr).__name__} in straight-line code")


def _recipe(mapping: Mapping, key: str, pos: Pos, prim: str = "") -> Recipe:
    if prim in mapping.undefined:
        raise InputError(pos, f"'{prim}' is not defined by {mapping.name}")
    recipe = mapping.recipe(key)
    if recipe is None:
        what = f"'{prim}'" if prim else f"the access class {key!r}"
        why = " (SRCU has a meaning only in the kernel's models: lkmm, or the kernel's own files)" if "srcu" in key else ""
        raise Unsupported(pos, f"unsupported: {what} under {mapping.name}, which has no row for {key!r}{why}")
    return recipe


def _only(recipe: Recipe, eids: list[int], kind: str) -> int:
    return next(e for item, e in zip(recipe, eids, strict=True) if item.kind == kind)


def _emit(
    tid: int,
    recipe: Recipe | list[Item],
    guards: list[Sym],
    addr: Val | None,
    value: Val | None,
    pos: Pos,
    cls: str,
    acc: _Acc,
    st: _State,
    tags_of: dict[int, tuple[tuple[str, Sym], ...]] | None = None,
    size: int | None = None,
    paired: bool = False,
) -> list[int]:
    """Append the recipe's events with their dependencies: accesses get `addr`, writes get
    `value` (data; its low `size` bits for a sized write).  A `paired` access is not ordered
    by po with the access before it (one instruction).  Returns the eids."""
    eids: list[int] = []
    for k, (item, guard) in enumerate(zip(recipe, guards, strict=True)):
        eid = len(acc.events)
        tags = tags_of[k] if tags_of and k in tags_of else tuple((t, TRUE) for t in item.tags)
        a = addr.sym if addr is not None and item.kind != "F" else None
        if item.kind == "F":
            ev = Event(eid, tid, "F", tags, guard, None, None, pos, cls)
        elif item.kind == "L":
            ev = Event(eid, tid, "L", tags, guard, a, None, pos, cls)
        elif item.kind == "R":
            ev = Event(eid, tid, "R", tags, guard, a, SRead(eid), pos, cls, size)
        else:
            stored = value.sym if value else None
            if stored is not None and size is not None:
                stored = binop("&", stored, SConst((1 << size) - 1))
            ev = Event(eid, tid, "W", tags, guard, a, stored, pos, cls, size)
        acc.events.append(replace(ev, source=acc.source) if acc.source else ev)
        if item.kind != "F":
            if paired and acc.last_access is not None:
                acc.unordered.append((acc.last_access, eid))
            acc.last_access = eid
        if item.kind != "F" and addr is not None:
            acc.depend("addr", addr.deps, eid)
            acc.depend("pick_addr", addr.picks, eid)
        if item.kind == "W" and value is not None:
            acc.depend("data", value.deps, eid)
            acc.depend("pick_data", value.picks, eid)
        acc.depend("ctrl", st.ctrl, eid)
        eids.append(eid)
    return eids


def _rmw(tid: int, instr: Rmw, st: _State, mapping: Mapping, acc: _Acc) -> _State:
    key = f"RMW.{instr.cls}"
    ok = _recipe(mapping, key, instr.pos, instr.prim)
    if any(item.kind == "L" for item in ok):
        return _lock_rmw(tid, instr, ok, st, mapping, acc)
    fail: Recipe = _recipe(mapping, f"RMW-fail.{instr.cls}", instr.pos) if instr.cond is not None else ()
    a = _eval(instr.addr, st.env, None)
    # Lay out the events: success fences before the read, failure fences before the read, the
    # shared read, success fences between, the write, then the trailing fences of both.
    ok_r = next(i for i, it in enumerate(ok) if it.kind == "R")
    fail_r = next((i for i, it in enumerate(fail) if it.kind == "R"), 0)
    order: list[tuple[Item, str]] = (
        [(it, "ok") for it in ok[:ok_r]]
        + [(it, "fail") for it in fail[:fail_r]]
        + [(ok[ok_r], "read")]
        + [(it, "ok") for it in ok[ok_r + 1 :]]
        + [(it, "fail") for it in fail[fail_r + 1 :]]
    )
    read_eid = len(acc.events) + next(i for i, (_, role) in enumerate(order) if role == "read")
    old = Val(SRead(read_eid), {read_eid: TRUE})
    success: Sym = TRUE
    decided_by: Deps = {}
    if instr.cond is not None:
        c = _eval(instr.cond, st.env, old)
        success = truth(c.sym)
        # Whether the write happens was picked by the comparison (Arm: a CAS's write is
        # pick-dependent on the reads behind its compare value).
        decided_by = c.sources()
    g_ok, g_fail = conj(st.guard, success), conj(st.guard, neg(success))
    guards = [{"ok": g_ok, "fail": g_fail, "read": st.guard}[role] for _, role in order]
    # The read's tags: success tags when it succeeds, failure tags when it fails.
    read_tags: dict[str, Sym] = {t: success for t in ok[ok_r].tags}
    if fail:
        for t in fail[fail_r].tags:
            read_tags[t] = disj(read_tags.get(t, SConst(0)), neg(success))
    read_pos = next(i for i, (_, role) in enumerate(order) if role == "read")
    new = _eval(instr.new, st.env, old)
    # The write depends on the RMW's own read when its value is computed from it (add) or
    # its existence is decided by it (compare-and-swap): herd7 counts that as a data
    # dependency inside the instruction, so the read is ordered before what reads the write
    # locally (Arm: `data; lrs`).  A swap's write does not depend on its read.
    own: Deps = {read_eid: TRUE} if read_eid in decided_by else {}
    value = Val(
        new.sym,
        union(new.deps, own),
        {r: c for r, c in union(new.picks, decided_by).items() if r != read_eid},
    )
    eids = _emit(
        tid, [it for it, _ in order], guards, a, value, instr.pos, key, acc, st,
        tags_of={read_pos: tuple(read_tags.items())}, size=instr.size,
    )
    w = next(e for (it, role), e in zip(order, eids, strict=True) if it.kind == "W" and role == "ok")
    acc.rmw.append((read_eid, w))
    if instr.one_instruction:
        acc.iico.append((read_eid, w))
    if instr.require is not None:
        req = _eval(instr.require, st.env, old)
        acc.assumptions.append(disj(neg(st.guard), truth(req.sym)))
    env = dict(st.env)
    if instr.dst is not None:
        ret = _eval(instr.ret, st.env, old)
        if instr.cond is not None:
            ret = _cas_result(ret, read_eid, decided_by, success, instr.one_instruction, acc)
        env[instr.dst] = ret
    return st.with_env(env)


# --------------------------------------------------------------------------- herd7's lock events


def _choice(acc: _Acc) -> Sym:
    choice = SChoice(acc.choices)
    acc.choices += 1
    return truth(choice)


def _lock_rmw(tid: int, instr: Rmw, ok: Recipe, st: _State, mapping: Mapping, acc: _Acc) -> _State:
    """spin_lock / spin_trylock as herd7's C semantics makes them when the model compiles
    them to lock events (LKR, LKW, LF: herd's `linux_lock`, `TryLock`).  These events read no
    value: which lock state they see is the model's business (lock.cat), so spin_lock has no
    value requirement, and whether spin_trylock succeeds is a free choice of the execution
    (herd's `altT`); it returns 1 if it does, else 0.  No rmw pair: lock.cat makes its own."""
    a = _eval(instr.addr, st.env, None)
    success = _choice(acc) if instr.cond is not None else TRUE
    _emit(tid, ok, [conj(st.guard, success)] * len(ok), a, None, instr.pos, f"RMW.{instr.cls}", acc, st)
    if instr.cond is not None:
        fail = _recipe(mapping, f"RMW-fail.{instr.cls}", instr.pos)
        _emit(tid, fail, [conj(st.guard, neg(success))] * len(fail), a, None, instr.pos,
              f"RMW-fail.{instr.cls}", acc, st)
    env = dict(st.env)
    if instr.dst is not None:
        env[instr.dst] = Val(ite(success, SConst(1), SConst(0)))
    return st.with_env(env)


def _lock_query(tid: int, instr: Load, recipe: Recipe, a: Val, st: _State, acc: _Acc) -> _State:
    """spin_is_locked as herd7's C semantics makes it (a `ReadLock` event): locked (tag RL,
    value 1) or unlocked (RU, value 0) by free choice, which lock.cat then constrains.  The
    value is a constant of the choice, not read from memory: nothing depends on the event."""
    locked = _choice(acc)
    items = [Item(i.kind, tuple(t for t in i.tags if t not in ("RL", "RU"))) for i in recipe]
    eids = _emit(tid, items, [st.guard] * len(items), a, None, instr.pos, f"R.{instr.cls}", acc, st)
    for item, eid in zip(recipe, eids, strict=True):
        if item.kind == "L":
            ev = acc.events[eid]
            extra: tuple[tuple[str, Sym], ...] = (("RL", locked),) if "RL" in item.tags else ()
            extra += (("RU", neg(locked)),) if "RU" in item.tags else ()
            acc.events[eid] = replace(ev, tags=ev.tags + extra)
    env = dict(st.env)
    env[instr.dst] = Val(ite(locked, SConst(1), SConst(0)))
    return st.with_env(env)


def _cas_result(ret: Val, read_eid: int, decided_by: Deps, success: Sym, one_instruction: bool, acc: _Acc) -> Val:
    """What the result register of a compare-and-swap depends on.

    A failed one returns the read value: data from the read.  After a successful one the
    result equals the expected value, and herd7 builds two candidate executions for an
    AArch64 CAS (its `DataFromRRs` and `DataFromRx`): in one the result's data comes from the
    expected-value register, chosen by the comparison (a pick dependency on the reads behind
    both operands); in the other its data comes from the memory read.  A free choice of the
    execution takes one or the other.  Elsewhere (x86's CMPXCHG) the result is picked from
    the memory read."""
    from_read = {r: c for r, c in ret.deps.items() if r == read_eid}
    failed = under(ret.deps, neg(success))
    if not one_instruction:
        return Val(ret.sym, failed, union(ret.picks, under(from_read, success)))
    choice = SChoice(acc.choices)
    acc.choices += 1
    rrs = conj(success, truth(choice))
    rx = conj(success, neg(truth(choice)))
    expected = {r: c for r, c in decided_by.items() if r != read_eid}
    return Val(
        ret.sym,
        union(failed, under(expected, rrs), under(from_read, rx)),
        union(ret.picks, under(decided_by, rrs)),
    )


def _store_ex(tid: int, instr: StoreEx, st: _State, mapping: Mapping, acc: _Acc) -> _State:
    """A store-exclusive succeeds by free choice, but only after an exclusive load of the
    same address; on success it forms an rmw pair with that load."""
    a = _eval(instr.addr, st.env, None)
    v = _eval(instr.value, st.env, None)
    key = f"W.{instr.cls}"
    recipe = _recipe(mapping, key, instr.pos)
    if st.reservation is None:
        success: Sym = SConst(0)
    else:
        choice = SChoice(acc.choices)
        acc.choices += 1
        success = conj(truth(choice), binop("==", a.sym, st.reservation[1]))
    g = conj(st.guard, success)
    eids = _emit(tid, recipe, [g] * len(recipe), a, v, instr.pos, key, acc, st, size=instr.size)
    if st.reservation is not None:
        acc.rmw.append((st.reservation[0], _only(recipe, eids, "W")))
    env = dict(st.env)
    if instr.status is not None:
        env[instr.status] = Val(ite(success, SConst(0), SConst(1)))
    return _State(st.guard, env, st.ctrl, None)


def _same_reservation(states: list[_State], pos: Pos) -> tuple[int, Sym] | None:
    first = states[0].reservation
    if any(s.reservation != first for s in states[1:]):
        raise Unsupported(pos, "paths that join here hold different exclusive reservations (not supported)")
    return first


def _merge_envs(branches: list[tuple[Sym, Env]]) -> Env:
    """Registers after a join: the first branch whose condition holds supplies the value."""
    names = sorted({r for _, env in branches for r in env})
    return {r: merge([(cond, env.get(r, ZERO)) for cond, env in branches]) for r in names}


# --------------------------------------------------------------------------- assembly CFGs


def _run_cfg(
    tid: int, body: tuple[Instr, ...], entry: _State, mapping: Mapping, acc: _Acc, unroll: int
) -> _State:
    """Run a thread with labels and jumps over its control-flow graph, unrolling loops.

    A node of the unrolled graph is a block with, per label, how many backward jumps to it
    the path has taken (herd7 counts them per path, and cuts a path past `unroll`).  Every
    edge leads to a greater (total count, block) key, so popping nodes in key order sees all
    of a node's incoming paths before running it, and merges them (same future)."""
    blocks: list[list[Instr]] = [[]]
    labels: dict[str, int] = {}
    for instr in body:
        if isinstance(instr, Label):
            if blocks[-1]:
                blocks.append([])
            if instr.name in labels:
                raise InputError(instr.pos, f"label '{instr.name}' defined twice")
            labels[instr.name] = len(blocks) - 1
            continue
        blocks[-1].append(instr)
        if isinstance(instr, (Branch, Goto)):
            blocks.append([])
    end = len(blocks)  # virtual exit block

    def jump_pos(b: int) -> Pos:
        return blocks[b][-1].pos if blocks[b] else Pos("?", 0, 0)

    for code in blocks:
        jump = code[-1] if code and isinstance(code[-1], (Branch, Goto)) else None
        if jump is not None and jump.target not in labels:
            raise InputError(jump.pos, f"jump to undefined label '{jump.target}'")
    # Per block, the backward jumps to it that depend on a read (bounded by `unroll`); the
    # last slot counts the backward jumps whose condition is a constant, which herd7 follows
    # without a bound (a loop over known values runs to its end) and we up to a safety limit.
    Counts = tuple[int, ...]
    start: Counts = (0,) * (end + 1)
    # Paths that hold different exclusive reservations are kept apart (a store-exclusive
    # pairs with the load of its own path), so a node is also keyed by the reservation.
    Key = tuple[int, Counts, tuple[int, Sym] | None]
    first: Key = (0, start, entry.reservation)
    incoming: dict[Key, list[_State]] = {first: [entry]}
    # (total count, block, arrival number, key): the number keeps equal keys apart.
    queue: list[tuple[int, int, int, Key]] = [(0, 0, 0, first)]
    exits: list[_State] = []

    def send(src: int, target: int, counts: Counts, state: _State, determined: bool = False) -> None:
        if state.guard == FALSE:
            return
        if target <= src and determined:
            counts = counts[:-1] + (counts[-1] + 1,)
            if counts[-1] > CONCRETE_LOOP_LIMIT:
                raise Unsupported(jump_pos(src), f"this loop runs more than {CONCRETE_LOOP_LIMIT} times on known values")
        elif target <= src:  # a backward jump (herd7: to an address at or before the jump's)
            counts = counts[:target] + (counts[target] + 1,) + counts[target + 1 :]
            if counts[target] > unroll:
                acc.assumptions.append(neg(state.guard))  # this path has no execution
                acc.cut = True
                return
        key: Key = (target, counts, state.reservation)
        if key not in incoming:
            incoming[key] = []
            heapq.heappush(queue, (sum(counts), target, len(incoming), key))
        incoming[key].append(state)

    while queue:
        _, b, _, key = heapq.heappop(queue)
        counts = key[1]
        states = incoming.pop(key)
        if b == end:
            exits += states
            continue
        st = _join(states, _block_pos(blocks[b]))
        code = blocks[b]
        jump = code[-1] if code and isinstance(code[-1], (Branch, Goto)) else None
        st = _run_block(tid, tuple(code[:-1] if jump else code), st, mapping, acc)
        if isinstance(jump, Branch):
            c = _eval(jump.cond, st.env, None)
            cond = truth(c.sym)
            # In assembly every later event depends on the branch (whichever way it went).
            ctrl = union(st.ctrl, under(c.sources(), st.guard))
            known = isinstance(cond, SConst)
            send(b, labels[jump.target], counts, _State(conj(st.guard, cond), st.env, ctrl, st.reservation), known)
            send(b, b + 1, counts, _State(conj(st.guard, neg(cond)), st.env, ctrl, st.reservation), known)
        elif isinstance(jump, Goto):
            send(b, labels[jump.target], counts, st)
        else:
            send(b, b + 1, counts, st)
    last = next((i.pos for i in reversed(body)), Pos("?", 0, 0))
    return _join(exits, last) if exits else _State(FALSE, dict(entry.env), {})


def _join(states: list[_State], pos: Pos) -> _State:
    if len(states) == 1:
        return states[0]
    guard = disj(*(s.guard for s in states))
    env = _merge_envs([(s.guard, s.env) for s in states])
    ctrl = union(*(under(s.ctrl, s.guard) for s in states))
    reservation = _same_reservation(states, pos)
    return _State(guard, env, ctrl, reservation)


def _block_pos(block: list[Instr]) -> Pos:
    for i in block:
        return i.pos
    return Pos("?", 0, 0)
