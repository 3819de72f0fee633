"""The one representation every front end produces: a litmus test as threads of instructions.

Front ends (kernel C, X86, AArch64, the project's YAML) parse text into a `Litmus`.  The events
stage turns each thread into guarded events.  Nothing here knows about models or Z3.

Values are mathematical integers.  An access may have a `size` (8, 16, 32 or 64 bits, the
assembly dialects): a sized store writes the low `size` bits of its value, a sized load returns
a value in [0, 2^size), zero-extended (sign extension is the front end's explicit arithmetic).
Unsized accesses (kernel C) keep whole integers.

Instructions are a small IR in the style of Dat3M's program representation:
memory accesses carry an *access class* (`cls`), the name of the primitive's ordering class
(for kernel C: "once", "acquire", "release", "plain", "mb", "relaxed", ...; for assembly: the
instruction's own class such as "mfence" or "locked").  How a class becomes tagged events is
decided later by a mapping table in `encodings/` (kernel C compiled to x86-64, or used as is).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from verifier.errors import Pos

# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Const:
    """An integer constant."""

    value: int


@dataclass(frozen=True)
class LocAddr:
    """The address of a shared location (a pointer value such as `x` in `p=x`)."""

    name: str


@dataclass(frozen=True)
class Reg:
    """A thread-local register (C local variable or machine register)."""

    name: str


@dataclass(frozen=True)
class Old:
    """Inside an `Rmw`: the value the RMW's read returned."""


BINOPS = frozenset(
    {"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>",
     "==", "!=", "<", "<=", ">", ">=", "&&", "||"}
)
UNOPS = frozenset({"-", "!", "~"})


@dataclass(frozen=True)
class BinOp:
    """`left op right`; comparisons and `&&`/`||` yield 0 or 1 as in C."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class UnOp:
    op: str
    arg: Expr


@dataclass(frozen=True)
class Ite:
    """`cond ? then : other` (cond is true when non-zero)."""

    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True)
class Pick:
    """A free Boolean choice made by an analysis, not by the program: whether candidate change
    `index` (a fence, an upgraded access) is in the program.  No front end produces it; fence
    synthesis wraps candidate changes in `If(Pick(k), ...)` so that one encoding holds every
    combination and the solver picks among them.  It depends on no read: no dependency."""

    index: int


Expr = Const | LocAddr | Reg | Old | BinOp | UnOp | Ite | Pick

# --------------------------------------------------------------------------- instructions


@dataclass(frozen=True)
class Written:
    """Where a kernel C access is written, for tools that edit the file in place (`fences
    --write`), so that they need not parse C again: the `;` ending its statement (None when
    the access is in an `if` condition: no statement of its own), whether that statement is
    an `if`/`else` body without braces, a primitive call's first argument [start, end), and
    whether the access is an argument of another call (`WRITE_ONCE(*x, READ_ONCE(*y))`: the
    `;` is not its own).  Like `prim`, provenance: not part of what the instruction means."""

    statement_end: Pos | None
    braceless: bool = False
    first_arg: tuple[Pos, Pos] | None = None
    nested: bool = False


@dataclass(frozen=True)
class Load:
    """`dst = *addr` with access class `cls`.

    An `exclusive` load (AArch64 LDXR/LDAXR) opens a reservation that a later `StoreEx` of the
    same thread may close; the pair then forms an rmw.
    """

    dst: str
    addr: Expr
    cls: str
    pos: Pos
    exclusive: bool = False
    size: int | None = None
    # Issued by the same instruction as the access just before it (AArch64 LDP: two reads
    # of one instruction), so not ordered with it by po, as herd7 builds pairs.
    paired: bool = False
    # The kernel primitive written (C tests; "" for plain accesses and assembly): a model
    # whose `.def` macros define primitives one by one must define this one.  Provenance,
    # like a name: two instructions of one class compare equal whatever primitive wrote them.
    prim: str = field(default="", compare=False)
    written: Written | None = field(default=None, compare=False)
    source: str = field(default="", compare=False)  # the text as written, for witnesses


@dataclass(frozen=True)
class Store:
    """`*addr = value` with access class `cls`; `size` and `paired` as for `Load`."""

    addr: Expr
    value: Expr
    cls: str
    pos: Pos
    size: int | None = None
    paired: bool = False
    # The kernel primitive written (C tests; "" for plain accesses and assembly): a model
    # whose `.def` macros define primitives one by one must define this one.  Provenance,
    # like a name: two instructions of one class compare equal whatever primitive wrote them.
    prim: str = field(default="", compare=False)
    written: Written | None = field(default=None, compare=False)
    source: str = field(default="", compare=False)  # the text as written, for witnesses


@dataclass(frozen=True)
class StoreEx:
    """A store-exclusive (AArch64 STXR/STLXR): `*addr = value` if it succeeds.

    It may succeed only when it follows an exclusive `Load` of the same address in program
    order (with no other store-exclusive between); success is otherwise a free choice of the
    execution, as in herd7.  `status` (if not None) receives 0 on success and 1 on failure.
    A successful store-exclusive and its load form an rmw pair.
    """

    status: str | None
    addr: Expr
    value: Expr
    cls: str
    pos: Pos
    size: int | None = None


@dataclass(frozen=True)
class Fence:
    """A barrier of class `cls` (kernel: "mb", "rmb", ...; X86: "mfence")."""

    cls: str
    pos: Pos
    # The kernel primitive written (C tests; "" for plain accesses and assembly): a model
    # whose `.def` macros define primitives one by one must define this one.  Provenance,
    # like a name: two instructions of one class compare equal whatever primitive wrote them.
    prim: str = field(default="", compare=False)
    written: Written | None = field(default=None, compare=False)
    source: str = field(default="", compare=False)  # the text as written, for witnesses


@dataclass(frozen=True)
class Rmw:
    """An atomic read-modify-write of `*addr`.

    The read returns `Old()`.  If `cond` (an expression over `Old()`) is given and false, the RMW
    fails: only the read happens (cmpxchg, add_unless, trylock).  If `require` is given, executions
    where it is false do not exist (spin_lock can only read an unlocked lock).  On success the
    write stores `new`.  `dst` (if any) receives `ret`, an expression over `Old()`.
    `cls` names the ordering class; the mapping table has separate rows for the events of a
    successful RMW (`RMW.<cls>`) and of a failed one (`RMW-fail.<cls>`: the read alone).
    """

    dst: str | None
    addr: Expr
    new: Expr
    ret: Expr
    cls: str
    pos: Pos
    cond: Expr | None = None
    require: Expr | None = None
    # The read and the write are one machine instruction (AArch64 LSE atomics): herd7 orders
    # them by intra-instruction order, not by program order (po), and a model that wants the
    # read before the write says so through `rmw`.
    one_instruction: bool = False
    size: int | None = None
    # The kernel primitive written (C tests; "" for plain accesses and assembly): a model
    # whose `.def` macros define primitives one by one must define this one.  Provenance,
    # like a name: two instructions of one class compare equal whatever primitive wrote them.
    prim: str = field(default="", compare=False)
    written: Written | None = field(default=None, compare=False)
    source: str = field(default="", compare=False)  # the text as written, for witnesses


@dataclass(frozen=True)
class Assign:
    """`dst = value`, a thread-local computation (no memory event)."""

    dst: str
    value: Expr
    pos: Pos


@dataclass(frozen=True)
class If:
    """Structured conditional (kernel C).  Events in either branch are control-dependent on
    the reads that `cond` depends on."""

    cond: Expr
    then: tuple[Instr, ...]
    other: tuple[Instr, ...]
    pos: Pos


@dataclass(frozen=True)
class Label:
    """A branch target (assembly dialects)."""

    name: str
    pos: Pos


@dataclass(frozen=True)
class Branch:
    """Jump to `target` when `cond` is non-zero (assembly).  Every later event is
    control-dependent on the reads `cond` depends on."""

    cond: Expr
    target: str
    pos: Pos


@dataclass(frozen=True)
class Goto:
    """Unconditional jump (assembly)."""

    target: str
    pos: Pos


Instr = Load | Store | StoreEx | Fence | Rmw | Assign | If | Label | Branch | Goto

# --------------------------------------------------------------------------- the test


@dataclass(frozen=True)
class Location:
    """A shared memory location with its initial value (0 unless the init block says)."""

    name: str
    init: Expr = Const(0)
    ctype: str | None = None
    # An array's cell `t[i]` (herd's `t+i*size`): its array's name and the cell's index.
    array: tuple[str, int] | None = None


@dataclass(frozen=True)
class Thread:
    tid: int
    body: tuple[Instr, ...]
    # Initial register values from the init block (`0:rax=1;`, `0:X1=x;`).
    reg_init: tuple[tuple[str, Expr], ...] = ()
    # Declared register types (`uint64_t 0:X0;`): a final value is printed and compared as
    # that type.
    reg_types: tuple[tuple[str, str], ...] = ()


# ----- the final condition


@dataclass(frozen=True)
class RegObs:
    """A register's final value, printed `tid:reg`."""

    tid: int
    reg: str

    def __str__(self) -> str:
        return f"{self.tid}:{self.reg}"


@dataclass(frozen=True)
class MemObs:
    """A location's final value (its co-last write), printed `[loc]`; an array's cell
    `t[1]` prints as herd7 prints it, without brackets."""

    loc: str

    def __str__(self) -> str:
        return self.loc if self.loc.endswith("]") else f"[{self.loc}]"


@dataclass(frozen=True)
class ArrayObs:
    """A whole array's final contents (`locations [t]`), printed `t={1,2,3}`."""

    name: str

    def __str__(self) -> str:
        return self.name


Observable = RegObs | MemObs | ArrayObs
# A value in a condition: an integer or a location name (pointer value); an array's is the
# tuple of its cells' values (`t={1,2}`).
Scalar = int | str
Value = Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class Atom:
    """`obs = value`."""

    obs: Observable
    value: Value


@dataclass(frozen=True)
class PTrue:
    pass


@dataclass(frozen=True)
class PFalse:
    pass


@dataclass(frozen=True)
class PNot:
    arg: Prop


@dataclass(frozen=True)
class PAnd:
    args: tuple[Prop, ...]


@dataclass(frozen=True)
class POr:
    args: tuple[Prop, ...]


@dataclass(frozen=True)
class PImplies:
    left: Prop
    right: Prop


Prop = Atom | PTrue | PFalse | PNot | PAnd | POr | PImplies

Quantifier = Literal["exists", "~exists", "forall"]
Observation = Literal["Never", "Sometimes", "Always"]


@dataclass(frozen=True)
class Condition:
    kind: Quantifier
    prop: Prop


@dataclass(frozen=True)
class Litmus:
    """A parsed litmus test.  `arch` is herd's name: "C", "X86", "X86_64", "AArch64"."""

    arch: str
    name: str
    path: str
    threads: tuple[Thread, ...]
    locations: tuple[Location, ...]
    condition: Condition
    # Extra observed locations and registers (`locations [...]`), in order.
    observed: tuple[Observable, ...] = ()
    filter: Prop | None = None
    # Expected observation recorded in the file, per model name; key "" is the kernel's
    # plain `Result:` comment, which applies to every model without its own entry.
    expected: tuple[tuple[str, str], ...] = field(default=())
    # Where each model name of `expected` was written (the project's YAML format only), so that
    # an unknown model name is reported at its key; the analyses know the model names.
    expected_at: tuple[tuple[str, Pos], ...] = ()
    # The kernel's `Result: Sometimes DATARACE`: LKMM flags a data race in this test.
    predicts_data_race: bool = False
    # The type of a register or location whose type is not declared, as herd7 assumes it in
    # the assembly dialects ("int": final values are printed and compared as 32-bit signed
    # integers).  None: values are whole integers (kernel C).
    default_type: str | None = None
    # herd7's `Unroll=N` key: how many times a backward jump may be taken (None: the
    # command line's bound, herd7's default 2).
    unroll: int | None = None

    def expectation(self, model: str) -> str | None:
        table = dict(self.expected)
        return table.get(model, table.get(""))


def prop_atoms(prop: Prop) -> Iterator[Atom]:
    """The atoms of a proposition, left to right."""
    if isinstance(prop, Atom):
        yield prop
    elif isinstance(prop, PNot):
        yield from prop_atoms(prop.arg)
    elif isinstance(prop, (PAnd, POr)):
        for a in prop.args:
            yield from prop_atoms(a)
    elif isinstance(prop, PImplies):
        yield from prop_atoms(prop.left)
        yield from prop_atoms(prop.right)


def prop_observables(prop: Prop) -> list[Observable]:
    """Observables in a proposition, in order of first appearance."""
    out: list[Observable] = []
    for atom in prop_atoms(prop):
        if atom.obs not in out:
            out.append(atom.obs)
    return out


def observed_of(test: Litmus) -> tuple[Observable, ...]:
    """What herd prints in a final state: the condition's observables, then `locations`."""
    out = prop_observables(test.condition.prop)
    for o in test.observed:
        if o not in out:
            out.append(o)
    return tuple(out)


def with_source(i: Instr, text: str) -> Instr:
    """`i` with the text it was written as, if it is an access or a fence that has none yet
    (a front end marks what it parsed; an inner call marked first keeps its own text)."""
    if isinstance(i, (Load, Store, Rmw, Fence)) and not i.source and text:
        return replace(i, source=text)
    return i
