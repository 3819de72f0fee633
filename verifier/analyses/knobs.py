"""Candidate changes to a test, for fence synthesis and proof explanations.

A *knob* is one change a developer could make: a fence inserted after an access (`smp_mb()`
after line 5 of P0), an access's class changed (`READ_ONCE` -> `smp_load_acquire`), or, for
`explain`, an ordering source dropped or weakened.  The menu of changes and their costs is
data (`encodings/fences.yaml`, per test dialect).

Two ways to apply knobs, both at the program level so that the event and SMT stages stay
unaware of them:
- `superset`: every knob wrapped in `If(Pick(k), changed, original)`: one program whose
  executions are those of every combination of knobs, the solver choosing through `pick<k>`;
- `apply`: the chosen knobs made for real: the program a developer would write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from verifier.analyses.registry import encodings_dir
from verifier.errors import InputError, Pos
from verifier.frontends.x86_lower import locked_add_zero
from verifier.program.ast import (
    Const,
    Fence,
    If,
    Instr,
    Litmus,
    Load,
    LocAddr,
    Location,
    Pick,
    Reg,
    Rmw,
    Store,
    StoreEx,
    Thread,
)

Access = Load | Store | Rmw
Kind = Literal["fence", "upgrade", "keep", "dep"]


@dataclass(frozen=True)
class Option:
    """A menu entry: `fence` inserts `F.<cls>`; `upgrade` changes an access of a class in
    `src` to class `cls` (both mapping-table keys such as `R.once`)."""

    name: str
    kind: Literal["fence", "upgrade"]
    cls: str
    cost: int
    src: tuple[str, ...] = ()
    after: str | None = None  # a fence offered only after this access kind ("RMW")
    arch: str | None = None  # offered only for tests of this dialect (X86, not X86_64)


@dataclass(frozen=True)
class SourceRule:
    """How `explain` may take an ordering source of class `cls` away: `drop` is the class it
    becomes without its ordering (None: the instruction goes), `weaker` the lighter classes."""

    cls: str
    drop: str | None
    weaker: tuple[str, ...] = ()


@dataclass(frozen=True)
class Menu:
    dialect: str
    options: tuple[Option, ...]
    sources: tuple[SourceRule, ...]

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def source(self, cls: str) -> SourceRule | None:
        return next((s for s in self.sources if s.cls == cls), None)


@dataclass(frozen=True)
class Knob:
    """Candidate change `index`.  For `fence` and `upgrade` knobs (synthesis) the change is the
    option's; a `keep` knob (explain) keeps ordering source `cls` at `anchor` when on, and
    replaces it by `alt` (a class, or None: removed) when off."""

    index: int
    kind: Kind
    tid: int
    line: int
    anchor: Pos
    cls: str  # fence: F.<class> inserted; upgrade: the new class; keep: the source's class
    cost: int
    name: str  # what a developer calls it: smp_mb, smp_load_acquire, DMB ISH, ...
    alt: str | None = None
    old: str = ""  # upgrade: the access's class before
    was: str = ""  # upgrade: what the access is written as (READ_ONCE, MOV, LDR)
    # Which instruction: its index in `instructions(thread)`.  Positions alone do not tell
    # instructions apart (one statement may give two; a generated program may repeat one).
    slot: int = -1

    def describe(self) -> str:
        if self.kind == "fence":
            call = "()" if self.name.startswith("smp_") else ""  # kernel C: smp_mb()
            return f"P{self.tid} after line {self.line}: {self.name}{call}"
        if self.kind == "upgrade":
            return f"P{self.tid} line {self.line}: {self.was or self.old} -> {self.name}"
        return f"P{self.tid} line {self.line}: {self.name}"

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "thread": self.tid, "line": self.line, "kind": self.kind, "name": self.name, "cost": self.cost,
            "text": self.describe(),
        }
        if self.kind == "upgrade":
            out["from"] = self.old
            out["to"] = self.cls
        return out


def _written_as(a: Access, dialect: str) -> str:
    """The name of access `a` as its test writes it: a kernel C access knows its primitive;
    an assembly access is its dialect's plain load or store."""
    if a.prim:
        return a.prim
    load = isinstance(a, Load)
    return {"X86": "MOV", "AArch64": "LDR" if load else "STR",
            "C": "plain load" if load else "plain store"}.get(dialect, access_key(a))


# --------------------------------------------------------------------------- menus


def menu_dialect(arch: str) -> str:
    return "X86" if arch in ("X86", "X86_64") else arch


def load_menu(arch: str, costs: dict[str, int] | None = None) -> Menu:
    """The menu for a test dialect from `encodings/fences.yaml`, with `costs` overriding."""
    path = encodings_dir() / "fences.yaml"
    data = yaml.safe_load(path.read_text())
    dialect = menu_dialect(arch)
    entry = data.get(dialect)
    if entry is None:
        raise InputError(Pos(str(path), 1, 1), f"no fence menu for the {arch} dialect")
    options: list[Option] = []
    for name, o in (entry.get("fences") or {}).items():
        # A fence is a fence class, or a locked RMW of a private location (`rmw: CLASS`).
        cls = f"RMW.{o['rmw']}" if "rmw" in o else f"F.{o['class']}"
        options.append(Option(name, "fence", cls, int(o["cost"]), after=o.get("after"), arch=o.get("arch")))
    for name, o in (entry.get("upgrades") or {}).items():
        options.append(Option(name, "upgrade", o["to"], int(o["cost"]), src=tuple(o["from"])))
    if costs:
        options = [dataclasses.replace(o, cost=costs.get(o.name, o.cost)) for o in options]
    sources = tuple(
        SourceRule(cls, None if s.get("drop") in (None, "-") else s["drop"], tuple(s.get("weaker") or ()))
        for cls, s in (entry.get("sources") or {}).items()
    )
    return Menu(dialect, tuple(options), sources)


def read_costs(path: str) -> dict[str, int]:
    """A user's cost file: a YAML mapping from option name to a positive integer."""
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise InputError(Pos(path, 1, 1), f"cannot read the cost file: {e.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = Pos(path, mark.line + 1, mark.column + 1) if mark else Pos(path, 1, 1)
        raise InputError(at, f"not valid YAML: {getattr(e, 'problem', e)}") from None
    known = _all_option_names()
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise InputError(_at(path, root), "the cost file must be a mapping from option name to cost")
    out: dict[str, int] = {}
    for key, value in root.value:
        name = str(key.value)
        if name not in known:
            raise InputError(_at(path, key), f"unknown option {name!r} (options: {', '.join(sorted(known))})")
        if not (isinstance(value, yaml.ScalarNode) and value.tag.endswith(":int") and int(value.value) > 0):
            raise InputError(_at(path, value), f"the cost of {name!r} must be a positive integer")
        out[name] = int(value.value)
    return out


def _at(path: str, node: yaml.Node) -> Pos:
    return Pos(path, node.start_mark.line + 1, node.start_mark.column + 1)


def _all_option_names() -> set[str]:
    data = yaml.safe_load((encodings_dir() / "fences.yaml").read_text())
    return {n for entry in data.values() for part in ("fences", "upgrades") for n in (entry.get(part) or {})}


# --------------------------------------------------------------------------- program walks


def accesses(thread: Thread) -> list[Access]:
    """The thread's memory accesses in program order (both branches of a conditional)."""
    return [i for i in _flat(thread.body) if isinstance(i, (Load, Store, Rmw))]


def _flat(body: tuple[Instr, ...]) -> Iterator[Instr]:
    for i in body:
        yield i
        if isinstance(i, If):
            yield from _flat(i.then)
            yield from _flat(i.other)


def instructions(thread: Thread) -> list[Instr]:
    """The thread's instructions in program order, conditionals flattened (a knob's `slot`
    indexes this list)."""
    return [i for i in _flat(thread.body) if not isinstance(i, If)]


def _slots(thread: Thread) -> dict[int, int]:
    return {id(i): n for n, i in enumerate(instructions(thread))}


def access_key(i: Access | Fence) -> str:
    """The instruction's mapping-table class (`R.once`, `W.release`, `RMW.mb`, `F.mb`)."""
    prefix = {Load: "R", Store: "W", Rmw: "RMW", Fence: "F"}[type(i)]
    return f"{prefix}.{i.cls}"


def _with_class(i: Instr, cls: str) -> Instr:
    return dataclasses.replace(i, cls=cls.split(".", 1)[1])  # type: ignore[type-var, arg-type]


def _renders(i: Access, dialect: str) -> bool:
    """Assembly acquire/release instructions take a bare register address (LDAR W0,[X1])."""
    if dialect != "AArch64":
        return True
    return isinstance(i.addr, (Reg, LocAddr))


# --------------------------------------------------------------------------- candidates


def candidates(test: Litmus, menu: Menu, sites: list[tuple[int, int]] | None = None) -> tuple[Knob, ...]:
    """Fence knobs after every access that another access of its thread follows (or only at
    `sites`: (thread, file line) pairs), and upgrade knobs on every access the menu upgrades.
    Fences come first (a tie in cost goes to the lower index: the idiomatic barrier)."""
    fences: list[Knob] = []
    upgrades: list[Knob] = []
    for thread in sorted(test.threads, key=lambda t: t.tid):
        slot = _slots(thread)
        acc = accesses(thread)
        anchors = [a for a in acc[:-1] if not isinstance(a, StoreEx) and not getattr(a, "exclusive", False)]
        if sites is not None:
            anchors = _site_anchors(thread, acc, [line for tid, line in sites if tid == thread.tid])
        for a in anchors:
            for o in menu.options:
                if o.arch not in (None, test.arch):
                    continue
                if o.kind == "fence" and (o.after is None or (o.after == "RMW" and isinstance(a, Rmw))):
                    fences.append(Knob(0, "fence", thread.tid, a.pos.line, a.pos, o.cls, o.cost, o.name,
                                       slot=slot[id(a)]))
        for a in acc:
            if getattr(a, "exclusive", False) or not _renders(a, menu.dialect):
                continue
            for o in menu.options:
                if o.kind == "upgrade" and access_key(a) in o.src:
                    upgrades.append(
                        Knob(0, "upgrade", thread.tid, a.pos.line, a.pos, o.cls, o.cost, o.name, old=access_key(a),
                             was=_written_as(a, menu.dialect), slot=slot[id(a)])
                    )
    return tuple(dataclasses.replace(k, index=i) for i, k in enumerate(fences + upgrades))


def _site_anchors(thread: Thread, acc: list[Access], lines: list[int]) -> list[Access]:
    """For each named line: the last access of the thread at or before it."""
    out: list[Access] = []
    for line in lines:
        before = [a for a in acc if a.pos.line <= line]
        if before and before[-1] not in out:
            out.append(before[-1])
    return out


def sources(test: Litmus, menu: Menu) -> tuple[Knob, ...]:
    """Explain's knobs: one `keep` knob per ordering source (its `alt` is what it becomes when
    dropped), then one per weaker replacement (`alt` = the weaker class; on = replaced)."""
    keeps: list[Knob] = []
    weaker: list[Knob] = []
    for thread in sorted(test.threads, key=lambda t: t.tid):
        for n, i in enumerate(instructions(thread)):
            if not isinstance(i, (Load, Store, Rmw, Fence)) or getattr(i, "exclusive", False):
                continue
            rule = menu.source(access_key(i))
            if rule is None:
                continue
            keeps.append(Knob(0, "keep", thread.tid, i.pos.line, i.pos, rule.cls, 1, rule.cls, alt=rule.drop, slot=n))
            for w in rule.weaker:
                weaker.append(
                    Knob(0, "keep", thread.tid, i.pos.line, i.pos, rule.cls, 1, rule.cls, alt=w, old="weaker", slot=n)
                )
    return tuple(dataclasses.replace(k, index=n) for n, k in enumerate(keeps + weaker))


# --------------------------------------------------------------------------- applying knobs


def superset(test: Litmus, knobs: tuple[Knob, ...]) -> Litmus:
    """One program holding every combination of `knobs`: knob k is on iff `pick<k>` is true.
    Keep knobs: on keeps the source; off gives its first weaker knob that is on, else the drop."""
    return _rewrite(test, knobs, lambda k: Pick(k.index))


def apply(test: Litmus, knobs: tuple[Knob, ...], on: set[int]) -> Litmus:
    """The program with exactly the knobs in `on` made (the others left as they are)."""
    return _rewrite(test, knobs, lambda k: Const(int(k.index in on)), concrete=True)


def private_location(test: Litmus, tid: int) -> str:
    """A location no instruction of the test names, for thread `tid`'s locked-RMW fence."""
    used = {loc.name for loc in test.locations} | {
        i.addr.name
        for t in test.threads
        for i in _flat(t.body)
        if isinstance(i, (Load, Store, StoreEx, Rmw)) and isinstance(i.addr, LocAddr)
    }
    name = f"mb{tid}"
    while name in used:
        name += "_"
    return name


def _fence(test: Litmus, k: Knob, at: Pos) -> Instr:
    pos = Pos(at.file, at.line, 0)
    if k.cls.startswith("RMW."):
        if k.cls != "RMW.locked" or test.arch not in ("X86", "X86_64"):
            raise ValueError(f"no locked-RMW fence of class {k.cls} for {test.arch} tests")
        return locked_add_zero(test.arch, private_location(test, k.tid), pos)
    return Fence(k.cls.split(".", 1)[1], pos)


def _rewrite(test: Litmus, knobs: tuple[Knob, ...], cond: Callable[[Knob], Pick | Const], concrete: bool = False) -> Litmus:
    by_slot: dict[tuple[int, int], list[Knob]] = {}
    for k in knobs:
        by_slot.setdefault((k.tid, k.slot), []).append(k)

    def choose(c: Pick | Const, then: tuple[Instr, ...], other: tuple[Instr, ...], pos: Pos) -> tuple[Instr, ...]:
        if concrete:
            return then if isinstance(c, Const) and c.value else other
        return (If(c, then, other, pos),)

    def one(i: Instr, here: list[Knob]) -> tuple[Instr, ...]:
        if not here:
            return (i,)
        instr: tuple[Instr, ...] = (i,)
        keeps = [k for k in here if k.kind == "keep" and k.old != "weaker"]
        if keeps:
            k = keeps[0]
            dropped: tuple[Instr, ...] = () if k.alt is None else (_with_class(i, k.alt),)
            for w in reversed([w for w in here if w.kind == "keep" and w.old == "weaker"]):
                dropped = choose(cond(w), (_with_class(i, w.alt or ""),), dropped, i.pos)
            instr = choose(cond(k), instr, dropped, i.pos)
        for k in reversed([k for k in here if k.kind == "upgrade"]):
            instr = choose(cond(k), (_with_class(i, k.cls),), instr, i.pos)
        after: list[Instr] = []
        for k in (k for k in here if k.kind == "fence"):
            after.extend(choose(cond(k), (_fence(test, k, i.pos),), (), i.pos))
        return instr + tuple(after)

    def block(tid: int, body: tuple[Instr, ...], counter: list[int]) -> tuple[Instr, ...]:
        # Visits instructions in the order of `instructions(thread)`: slots count the same way.
        out: list[Instr] = []
        for i in body:
            if isinstance(i, If):
                then = block(tid, i.then, counter)
                out.append(dataclasses.replace(i, then=then, other=block(tid, i.other, counter)))
            else:
                out.extend(one(i, by_slot.get((tid, counter[0]), [])))
                counter[0] += 1
        return tuple(out)

    threads = tuple(dataclasses.replace(t, body=block(t.tid, t.body, [0])) for t in test.threads)
    # A locked-RMW fence's private location is a location of the test, as the front end
    # would list it had the instruction been written.
    private = sorted({private_location(test, k.tid) for k in knobs if k.kind == "fence" and k.cls.startswith("RMW.")})
    locations = test.locations + tuple(Location(name) for name in private)
    return dataclasses.replace(test, threads=threads, locations=locations)
