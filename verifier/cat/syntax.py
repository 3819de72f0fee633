"""The abstract syntax of herd's cat language (and its bell extension), as `parser.py` reads it.

A model is a title and statements: `let` bindings (optionally `rec`, optionally functions),
checks (`acyclic`, `irreflexive`, `empty`, each optionally negated with `~`, optionally a
`flag` that reports instead of forbidding), `include "file"`, and the rest of herd's
language: choices (`with x from S`), procedures, `forall`, `if "variant"`, `match`, and the
bell declarations (`enum`, `instructions`, `default`).  Expressions denote event sets,
relations, tags, sets of them, tuples or functions; which one is decided when the model is
interpreted.  `show`/`unshow`/`debug` have no effect on verdicts and are not kept.

Every construct herd7 documents has a node, so that a model is read whole and what the
engine cannot give a meaning to is refused by name (`scope.py`), never misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from verifier.errors import Pos


@dataclass(frozen=True)
class Name:
    id: str
    pos: Pos


@dataclass(frozen=True)
class EmptyRel:
    """`0`: the empty relation (or set)."""

    pos: Pos


@dataclass(frozen=True)
class Binary:
    """`left op right`, op in `| & \\ ; *` (`*` between two sets: cartesian product) or `++`."""

    op: str
    left: CatExpr
    right: CatExpr
    pos: Pos


@dataclass(frozen=True)
class Postfix:
    """`e+`, `e*`, `e?` (closures) and `e^-1` (inverse)."""

    op: str
    arg: CatExpr
    pos: Pos


@dataclass(frozen=True)
class Complement:
    """`~e`: every pair (or event) not in e."""

    arg: CatExpr
    pos: Pos


@dataclass(frozen=True)
class Bracket:
    """`[S]`: the identity relation on set S."""

    arg: CatExpr
    pos: Pos


@dataclass(frozen=True)
class Call:
    """`f(a, b)`: a built-in (`domain`, `range`, `fencerel`, ...) or a `let` function."""

    fn: str
    args: tuple[CatExpr, ...]
    pos: Pos


@dataclass(frozen=True)
class Tag:
    """`'name`: a tag (a value of an `enum`, as bell files annotate events)."""

    name: str
    pos: Pos


@dataclass(frozen=True)
class SetLit:
    """`{a, b}`: an explicit set (of events, tags, relations...); `{}` is empty."""

    items: tuple[CatExpr, ...]
    pos: Pos


@dataclass(frozen=True)
class Tuple:
    """`(a, b)`, `()`: a tuple, as a function's arguments are passed."""

    items: tuple[CatExpr, ...]
    pos: Pos


@dataclass(frozen=True)
class Apply:
    """`e arg` where `e` is not a plain name: curried application (`map f S`)."""

    fn: CatExpr
    arg: CatExpr
    pos: Pos


@dataclass(frozen=True)
class LetIn:
    """`let [rec] b1 and b2 in body`: local bindings (`rec`: a least fixpoint)."""

    bindings: tuple[Binding, ...]
    rec: bool
    body: CatExpr
    pos: Pos


@dataclass(frozen=True)
class Fun:
    """`fun x -> e`, `fun (x, y) -> e`: an anonymous function (None: a `_` parameter)."""

    params: tuple[str | None, ...]
    body: CatExpr
    pos: Pos


@dataclass(frozen=True)
class Try:
    """`try e with fallback`: `fallback` where `e` names something unbound."""

    body: CatExpr
    fallback: CatExpr
    pos: Pos


@dataclass(frozen=True)
class VariantName:
    """`"name"` (or `variant "name"`) in a condition: whether the variant is set."""

    name: str
    pos: Pos


@dataclass(frozen=True)
class VariantOp:
    """`not c`, `c && d`, `c || d` over variant conditions."""

    op: Literal["not", "and", "or"]
    args: tuple[VariantCond, ...]
    pos: Pos


VariantCond = VariantName | VariantOp


@dataclass(frozen=True)
class Compare:
    """`a = b`, `a subset b`, `a in b` as the condition of an `if`."""

    op: Literal["=", "subset", "in"]
    left: CatExpr
    right: CatExpr
    pos: Pos


@dataclass(frozen=True)
class IfExpr:
    """`if cond then e1 else e2`."""

    cond: VariantCond | Compare
    then: CatExpr
    orelse: CatExpr
    pos: Pos


@dataclass(frozen=True)
class Match:
    """`match e with || 'tag -> e1 || _ -> e2 end`: by the tag `e` evaluates to."""

    subject: CatExpr
    clauses: tuple[tuple[str, CatExpr], ...]
    default: CatExpr | None
    pos: Pos


@dataclass(frozen=True)
class MatchSet:
    """`match S with || {} -> e0 || x ++ rest -> e1 end`: a set, empty or split into an
    element and the rest (`pre | x ++ post` when `pre` is also named)."""

    subject: CatExpr
    empty: CatExpr
    names: tuple[str | None, ...]  # (element, rest) or (pre, element, post)
    body: CatExpr
    pos: Pos


CatExpr = (Name | EmptyRel | Binary | Postfix | Complement | Bracket | Call | Tag | SetLit | Tuple | Apply
           | LetIn | Fun | Try | IfExpr | Match | MatchSet)


@dataclass(frozen=True)
class Binding:
    """`name = e` or a function `name(a, b) = e` / `name a = e`; `let (a, b) = e` binds a
    tuple's parts (`names`, with `name` the first)."""

    name: str
    params: tuple[str, ...] | None  # None: a value; a tuple: a function
    body: CatExpr
    pos: Pos
    names: tuple[str | None, ...] | None = None  # a tuple pattern, when not None


@dataclass(frozen=True)
class Let:
    bindings: tuple[Binding, ...]
    rec: bool
    pos: Pos


CheckKind = Literal["acyclic", "irreflexive", "empty"]
# What a failing check does: forbids the execution (`check`), raises a flag (`flag`), makes
# the test undefined (`undefined_unless`), or stops herd7 (`assert`).
CheckMode = Literal["check", "flag", "undefined_unless", "assert"]


@dataclass(frozen=True)
class Check:
    kind: CheckKind
    expr: CatExpr
    name: str | None
    negated: bool
    mode: CheckMode
    pos: Pos

    @property
    def flag(self) -> bool:
        return self.mode == "flag"


@dataclass(frozen=True)
class Include:
    file: str
    pos: Pos


@dataclass(frozen=True)
class LetRecWhen:
    """`let rec ... when test`: a fixpoint iterated while the test holds (herd's extension)."""

    bindings: tuple[Binding, ...]
    test: Check
    pos: Pos


@dataclass(frozen=True)
class WithFrom:
    """`with x from S`: one execution per element of the set S (lock.cat's rf, cos.cat's co)."""

    name: str
    expr: CatExpr
    pos: Pos


@dataclass(frozen=True)
class Procedure:
    """`procedure [rec] name(params) = stmts end`: checks to `call`."""

    name: str
    params: tuple[str | None, ...]
    body: tuple[Stmt, ...]
    rec: bool
    pos: Pos


@dataclass(frozen=True)
class CallProc:
    """`call name arg [as label]`."""

    name: str
    arg: CatExpr
    label: str | None
    pos: Pos


@dataclass(frozen=True)
class Forall:
    """`forall x in S do stmts end`."""

    var: str
    expr: CatExpr
    body: tuple[Stmt, ...]
    pos: Pos


@dataclass(frozen=True)
class IfVariant:
    """`if "variant" stmts [else stmts] end` (cos.cat chooses its included file so)."""

    cond: VariantCond
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    pos: Pos


@dataclass(frozen=True)
class MatchStmt:
    """`match e with || 'tag -> stmts || _ -> stmts end` at statement level."""

    subject: CatExpr
    clauses: tuple[tuple[str, tuple[Stmt, ...]], ...]
    default: tuple[Stmt, ...] | None
    pos: Pos


@dataclass(frozen=True)
class Enum:
    """Bell: `enum Accesses = 'ONCE || 'RELEASE`: a type of tags (each tag is also the set of
    events annotated with it, capitalised: `'rcu-lock` gives `Rcu-lock`)."""

    name: str
    tags: tuple[str, ...]
    pos: Pos


@dataclass(frozen=True)
class Instructions:
    """Bell: `instructions R[Accesses]` (which annotations an event kind takes) or
    `default R[Accesses]` (`default`: the annotation of an unannotated event)."""

    kind: str
    args: tuple[CatExpr, ...]
    default: bool
    pos: Pos


Stmt = (Let | Check | Include | LetRecWhen | WithFrom | Procedure | CallProc | Forall | IfVariant | MatchStmt
        | Enum | Instructions)


@dataclass(frozen=True)
class CatModel:
    title: str
    stmts: tuple[Stmt, ...]
    path: str
