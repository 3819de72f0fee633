"""The values a cat model computes over the encoded candidate executions.

A set is a map event -> SMT term (the event is in the set iff the term holds); a relation is a
map (event, event) -> term.  Only members that may be present are keys ("may" sets), so
static facts prune the encoding.  herd's library also computes with single elements (`map`
hands its function one event or pair at a time), with sets of sets or relations (what `map`
returns), and with the choices `cross` makes over those; each has a value type here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verifier.smt.terms import or_

if TYPE_CHECKING:
    from verifier.wmm.program import Expr

Pair = tuple[int, int]


@dataclass(frozen=True)
class SetV:
    terms: dict[int, str]


@dataclass(frozen=True)
class RelV:
    terms: dict[Pair, str]


@dataclass(frozen=True)
class ElemV:
    """One member of a set or relation, as `map` hands it to its function: an event or a
    pair of events.  Its presence is the business of the family it came from (`FamV`)."""

    key: int | Pair


@dataclass(frozen=True)
class FamV:
    """A set of sets or relations (herd's `map f S`): member k exists iff its term holds.
    Equal members are not merged: for `with ... from` and `cross` a duplicate changes no
    execution, only the number of ways to reach it."""

    members: tuple[tuple[str, SetV | RelV | FamV], ...]


@dataclass(frozen=True)
class ChoiceV:
    """cross.cat's `cross(F)`: every union that takes one member of each member of F."""

    family: FamV


@dataclass(frozen=True)
class FunV:
    """A function of the relation program, with the locals where it was made."""

    params: tuple[str, ...]
    body: Expr
    env: dict[str, Any]  # name -> Value, or a lazy local (smt/model.py)


Value = SetV | RelV | FunV | ElemV | FamV | ChoiceV
Data = SetV | RelV


def terms_of(v: Data) -> dict[Any, str]:
    """A set's or relation's terms under one type (dict keys are invariant for mypy)."""
    return dict(v.terms.items())


def union(a: Data, b: Data) -> Data:
    out: dict = dict(a.terms)  # type: ignore[type-arg]
    for k, t in b.terms.items():
        out[k] = or_(out[k], t) if k in out else t
    return like(a, out)


def like(v: Value, terms: dict) -> Data:  # type: ignore[type-arg]
    """A set if `v` is one, else a relation, with these terms."""
    return SetV(terms) if isinstance(v, SetV) else RelV(terms)
