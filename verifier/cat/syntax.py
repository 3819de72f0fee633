"""The abstract syntax of the cat-style model language.

A model is a title and statements: `let` bindings (optionally `rec`, optionally functions of
named arguments), checks (`acyclic`, `irreflexive`, `empty`, each optionally negated with `~`,
optionally a `flag` that reports instead of forbidding), and `include "file"`.  Expressions
denote event sets or relations; which one is decided when the model is interpreted.
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


CatExpr = Name | EmptyRel | Binary | Postfix | Complement | Bracket | Call


@dataclass(frozen=True)
class Binding:
    name: str
    params: tuple[str, ...] | None  # None: a value; a tuple: a function
    body: CatExpr
    pos: Pos


@dataclass(frozen=True)
class Let:
    bindings: tuple[Binding, ...]
    rec: bool
    pos: Pos


CheckKind = Literal["acyclic", "irreflexive", "empty"]


@dataclass(frozen=True)
class Check:
    kind: CheckKind
    expr: CatExpr
    name: str | None
    negated: bool
    flag: bool
    pos: Pos


@dataclass(frozen=True)
class Include:
    file: str
    pos: Pos


Stmt = Let | Check | Include


@dataclass(frozen=True)
class CatModel:
    title: str
    stmts: tuple[Stmt, ...]
    path: str
