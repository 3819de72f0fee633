"""Mapping tables: how each primitive's access class becomes tagged events on a target.

A table is a text file in `encodings/` with `|`-separated columns: the first column is the
class key (`R.once`, `W.release`, `F.mb`, `RMW.mb`, `RMW-fail.mb`, ...), the others one
recipe per target, named by the header row.  A recipe is a sequence of items
`R[Tag,...]`, `W[...]`, `F[...]` (tags optional) or `-` for no event at all:

    class        | C              | x86-64
    R.acquire    | R[Acquire]     | R
    F.rmb        | F[Rmb]         | -
    RMW.mb       | R[Mb] W[Mb]    | R[LOCKED] W[LOCKED]

Loads have exactly one R item, stores one W, RMWs one R then one W, failed RMWs one R; every
recipe may add fences (F items) before, between or after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import InputError, Pos


@dataclass(frozen=True)
class Item:
    # "R", "W", "F", or "L": one of herd7's C lock events (LKR, LKW, UL, LF, RL, RU), which
    # has a location but reads and writes no value (a `.def` model's spin_lock; not in tables).
    kind: str
    tags: tuple[str, ...]


Recipe = tuple[Item, ...]


@dataclass(frozen=True)
class Mapping:
    """One column of a mapping table: class key -> recipe."""

    name: str  # e.g. "kernel-c.tbl:x86-64"
    rows: tuple[tuple[str, Recipe], ...]
    # Kernel primitives this mapping does not define although their class has a row: a
    # herd7 `.def` file defines primitives one by one, and a test using one it lacks is
    # refused, as herd7 refuses it.
    undefined: frozenset[str] = frozenset()

    def recipe(self, key: str) -> Recipe | None:
        return dict(self.rows).get(key)


_ITEM = re.compile(r"([RWF])(?:\[([^\]]*)\])?$")


def _parse_recipe(text: str, pos: Pos) -> Recipe:
    text = text.strip()
    if text == "-":
        return ()
    items: list[Item] = []
    for word in text.split():
        m = _ITEM.match(word)
        if not m:
            raise InputError(pos, f"bad recipe item {word!r} (expected R[tags], W[tags], F[tags] or -)")
        tags = tuple(t.strip() for t in (m.group(2) or "").split(",") if t.strip())
        items.append(Item(m.group(1), tags))
    return tuple(items)


def _check(key: str, recipe: Recipe, pos: Pos) -> None:
    kinds = "".join(i.kind for i in recipe if i.kind != "F")
    want = {"R": "R", "W": "W", "F": "", "RMW": "RW", "RMW-fail": "R"}.get(key.split(".")[0])
    if want is None:
        raise InputError(pos, f"unknown class kind in {key!r} (expected R., W., F., RMW., RMW-fail.)")
    if kinds != want:
        raise InputError(pos, f"recipe for {key!r} must have access events {want or 'none'}, has {kinds or 'none'}")


def load_table(path: Path) -> dict[str, Mapping]:
    """Read a mapping table; returns one `Mapping` per target column."""
    lines = path.read_text().splitlines()
    header: list[str] | None = None
    columns: dict[str, list[tuple[str, Recipe]]] = {}
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("|")]
        pos = Pos(str(path), n, 1)
        if header is None:
            header = cells
            if header[0] != "class" or len(header) < 2:
                raise InputError(pos, "mapping table header must be 'class | TARGET | ...'")
            columns = {t: [] for t in header[1:]}
            continue
        if len(cells) != len(header):
            raise InputError(pos, f"expected {len(header)} columns, found {len(cells)}")
        key = cells[0]
        for target, cell in zip(header[1:], cells[1:], strict=True):
            recipe = _parse_recipe(cell, pos)
            _check(key, recipe, pos)
            columns[target].append((key, recipe))
    if header is None:
        raise InputError(Pos(str(path), 1, 1), "empty mapping table")
    return {t: Mapping(f"{path.name}:{t}", tuple(rows)) for t, rows in columns.items()}
