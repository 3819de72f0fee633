"""The relation program: a cat model compiled once, before any test (`compile.py`).

The cat text names things lexically, chooses variants, includes files and writes functions;
by the time a test is checked none of that is left.  What is left is a list of definitions,
each an expression over three kinds of names:

- `Base`: a set or relation every candidate execution defines (`po`, `rf`, `R`, a tag's set),
  or the model's own tag names;
- `Ref`: another definition of the program, by index (cat's scoping resolved: a later
  rebinding of the same name is a different index);
- `Local`: a function's parameter or a `let ... in` name, bound when the function runs.

and the steps a check runs, in the model's order: axioms (the checks and flags), and choices
(`with x from S`, which bind a definition).  Recursive groups (`let rec`) are definitions
tied together, with what the monotonicity analysis said about them.  A construct the engine
gives no meaning to is a `Refused` node: an error only when an axiom or a choice reaches it
(herd's library defines functions most models never call).

Each definition has a static type where one follows from its expression (`set`, `rel`,
`fun`), else `any` (a function's body depends on its arguments).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from verifier.cat.syntax import CheckKind
from verifier.errors import Pos

Ty = Literal["set", "rel", "fun", "family", "any"]

Op1Kind = Literal["inverse", "plus", "star", "opt", "compl", "bracket", "domain", "range", "different-values"]
Op2Kind = Literal["|", "&", "\\", ";", "*", "++"]


@dataclass(frozen=True)
class Base:
    """A name the candidate execution defines (`po`, `R`, a tag's set...)."""

    name: str
    pos: Pos


@dataclass(frozen=True)
class Ref:
    """The value of definition `index` of the program."""

    index: int
    pos: Pos


@dataclass(frozen=True)
class Local:
    """A function parameter or a `let ... in` name."""

    name: str
    pos: Pos


@dataclass(frozen=True)
class Empty:
    """`0`, `{}`: the empty set or relation (both: it takes the type its use gives it)."""

    pos: Pos


@dataclass(frozen=True)
class Op1:
    """`r^-1`, `r+`, `r*`, `r?`, `~e`, `[S]`, `domain(r)`, `range(r)`, `different-values(r)`."""

    op: Op1Kind
    arg: Expr
    pos: Pos


@dataclass(frozen=True)
class Op2:
    """`a | b`, `a & b`, `a \\ b`, `a ; b`, `S * T` (cartesian product), `a ++ b` (add a member
    to a set of sets; between sets or relations, union)."""

    op: Op2Kind
    left: Expr
    right: Expr
    pos: Pos


@dataclass(frozen=True)
class Apply:
    """A call of a function value (a `Ref` or `Local` bound to a `Lambda`)."""

    fn: Expr
    args: tuple[Expr, ...]
    name: str
    pos: Pos


@dataclass(frozen=True)
class Lambda:
    """A function: `let f(x, y) = body`.  Its body sees its parameters and the locals where
    it was written (as `Local`s), and the definitions before it (as `Ref`s)."""

    params: tuple[str, ...]
    body: Expr
    pos: Pos


@dataclass(frozen=True)
class MapOver:
    """herd's `map f S`: `f` applied to each member of S."""

    fn: Expr
    arg: Expr
    pos: Pos


@dataclass(frozen=True)
class Cross:
    """cross.cat's `cross(F)`: every union taking one member of each member of F."""

    arg: Expr
    pos: Pos


@dataclass(frozen=True)
class SetOf:
    """`{a, b}`: a set of events, pairs, sets or relations (`smt/families.py`)."""

    items: tuple[Expr, ...]
    pos: Pos


@dataclass(frozen=True)
class LetLocal:
    """`let [rec] a = e and b = f in body`: `names` bound to `values` as `Local`s in `body`
    (and in the values themselves when `rec`)."""

    names: tuple[str, ...]
    values: tuple[Expr, ...]
    rec: bool
    body: Expr
    pos: Pos
    monotone: bool = False  # when `rec`: no name under `~` or right of `\\`


@dataclass(frozen=True)
class Refused:
    """A construct with no meaning here (`why` names it): an error if anything reaches it."""

    why: str
    pos: Pos


Expr = Base | Ref | Local | Empty | Op1 | Op2 | Apply | Lambda | MapOver | Cross | SetOf | LetLocal | Refused


@dataclass(frozen=True)
class Def:
    """A top-level binding.  `group`: the index of its recursive group in
    `RelProgram.groups`, or None.  `chosen`: bound by a `Choice`, `expr` unused."""

    name: str
    expr: Expr
    ty: Ty
    pos: Pos
    group: int | None = None
    chosen: bool = False

    @property
    def file(self) -> str:
        return self.pos.file


@dataclass(frozen=True)
class RecGroup:
    """`let rec a = ... and b = ...`: the least fixpoint of the bodies, iterated from empty
    in the order written (herd7's order: each body sees the values just computed before it).

    `monotone`: no member under `~` or right of `\\` (`cat/monotone.py`).  A monotone group
    that only forbidding checks use positively may be any pre-fixpoint the solver chooses,
    which is exact for what those checks decide: `pre_for_verdicts` when flags (and what
    only flags use) are left aside, `pre_always` when they are not."""

    members: tuple[int, ...]
    monotone: bool
    pre_for_verdicts: bool
    pre_always: bool
    pos: Pos


@dataclass(frozen=True)
class Axiom:
    """A check: `kind` of `expr` (for `acyclic r+`, `r`), negated or not; a `flag` (named)
    reports the executions where it holds instead of forbidding the others."""

    kind: CheckKind
    expr: Expr
    negated: bool
    flag: str | None
    pos: Pos
    # The check's name (`acyclic hb as happens-before`), None if it has none: how a proof
    # names the axioms a Never rests on (analyses/proof.py).
    label: str | None = None
    # A probe constrains nothing: it records the relation's pair terms, so that a proof can
    # read the relation's value in an execution (`Interpretation.probes`).
    probe: bool = False


@dataclass(frozen=True)
class Choice:
    """`with x from S`: definition `index` takes one value per execution.  `how`:
    - "co": cross.cat's co generation over `writes` extending `expr`: the engine's own co;
    - "cross": `cross(F)`, one member of each member of F (`expr` is F);
    - "member": one member of the set of sets `expr`."""

    index: int
    how: Literal["co", "cross", "member"]
    expr: Expr
    writes: Expr | None
    pos: Pos


Step = Axiom | Choice


@dataclass(frozen=True)
class RelProgram:
    """A model, compiled: definitions, recursive groups, and the steps in order."""

    defs: tuple[Def, ...]
    groups: tuple[RecGroup, ...]
    steps: tuple[Step, ...]

    @property
    def flags_exact(self) -> bool:
        """Whether the flags' terms are exact when every group a verdict allows to be a
        pre-fixpoint is one (else a raised flag is asked again of an exact encoding)."""
        return all(g.pre_always for g in self.groups if g.pre_for_verdicts)

    @property
    def axioms(self) -> tuple[Axiom, ...]:
        return tuple(s for s in self.steps if isinstance(s, Axiom))
