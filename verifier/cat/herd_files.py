"""herd7's `.cfg` files: which files make the model, and its variants.

    macros linux-kernel.def          # the C primitives (read by program/kernel_def.py)
    bell linux-kernel.bell           # the annotations events may carry
    model linux-kernel.cat           # the axioms
    variant lkmmv2                   # what `if "lkmmv2"` selects

A `.cfg` line that would change what herd7 answers, and that the engine does not follow, is
refused by name; lines that only change how herd7 draws executions are read and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import InputError, Pos, Unsupported, decode_utf8

# herd7 options a .cfg may set that only concern its pictures and printing.
_DISPLAY_ONLY = frozenset({
    "graph", "squished", "showevents", "movelabel", "fontsize", "xscale", "yscale", "arrowsize",
    "showinitrf", "showfinalrf", "showinitwrites", "splines", "pad", "edgeattr", "doshow", "unshow",
    "show", "showlegend", "showkind", "shownames", "showthin", "showfr", "showpo", "showobs",
    "showraw", "showcutoff", "showtoken", "oneinit", "dotmode", "dotcom", "dotheader", "penwidth",
    "scale", "symetric", "initpos", "finalpos", "labelinit", "mono", "ptrue", "fixedsize",
    "extrachars", "edgemerge", "condensed", "nshow",
})


@dataclass(frozen=True)
class HerdConfig:
    """A `.cfg` file: the model's files (found where herd7 would look) and its variants."""

    path: Path
    model: Path
    bell: Path | None
    macros: Path | None
    variants: frozenset[str]


def find_file(name: str, where: Path, search: tuple[Path, ...], pos: Pos, what: str) -> Path:
    """herd7's lookup of a named model file: beside `where`, then in `search` (its -I)."""
    for d in (where.parent, *search):
        candidate = d / name
        try:
            if candidate.is_file():
                return candidate
        except OSError as e:
            raise InputError(pos, f"cannot look for the {what} '{name}': {e.strerror}") from None
    raise InputError(pos, f"the {what} '{name}' is not found beside {where.name} or in the library folders")


def load_cfg(path: Path, search: tuple[Path, ...] = ()) -> HerdConfig:
    text = decode_utf8(path.read_bytes(), str(path))
    files: dict[str, Path] = {}
    variants: set[str] = set()
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = line.partition(" ")
        value = value.strip()
        pos = Pos(str(path), n, 1)
        if key in ("model", "bell", "macros"):
            if not value:
                raise InputError(pos, f"'{key}' needs a file name")
            what = {"model": "model file", "bell": "bell file", "macros": "macro file"}[key]
            files[key] = find_file(value, path, search, Pos(str(path), n, len(key) + 2), what)
        elif key == "variant":
            variants.update(v.strip() for v in re.split(r"[,\s]+", value) if v.strip())
        elif key not in _DISPLAY_ONLY:
            raise Unsupported(pos, f"unsupported: the herd7 option '{key}' in a .cfg file (it may change "
                                   "verdicts, and the engine does not follow it)")
    if "model" not in files:
        raise InputError(Pos(str(path), 1, 1), "a .cfg file must name its model ('model FILE.cat')")
    return HerdConfig(path, files["model"], files.get("bell"), files.get("macros"), frozenset(variants))
