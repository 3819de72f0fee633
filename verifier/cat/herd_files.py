"""herd7's other model files: `.cfg` (which files make the model, and its variants) and `.def`
(the kernel C primitives as herd7's built-in event forms).

    macros linux-kernel.def          # .cfg: the C primitives
    bell linux-kernel.bell           #       the annotations events may carry
    model linux-kernel.cat           #       the axioms
    variant lkmmv2                   #       what `if "lkmmv2"` selects

    READ_ONCE(X) __load{ONCE}(X)                       # .def: an expression ...
    smp_store_mb(X,V) { __store{ONCE}(X,V); __fence{MB}; }   # ... or statements
    atomic_read(X) READ_ONCE(*X)                        # or another macro
    atomic_dec_and_test(X) __atomic_op_return{MB}(X,-,1) == 0

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


# ---------------------------------------------------------------------------- .def files


@dataclass(frozen=True)
class Form:
    """One call in a macro body: a herd7 built-in event form (`__load`, `__fence`, ...) with
    its annotation, or another macro; arguments as written (`X`, `*X`, `+`, `1`)."""

    name: str
    annotation: str | None
    args: tuple[str, ...]

    @property
    def builtin(self) -> bool:
        return self.name.startswith("__")


@dataclass(frozen=True)
class Macro:
    """`NAME(PARAMS) BODY`: the forms the body calls, in order, and a comparison of the
    expression's value with a constant (`== 0`, `< 0`) if the body ends with one."""

    name: str
    params: tuple[str, ...]
    forms: tuple[Form, ...]
    compare: tuple[str, str] | None
    pos: Pos


_HEAD = re.compile(r"([A-Za-z_]\w*)\s*\(([^)]*)\)\s*(.*)$")
_FORM = re.compile(r"\s*(\*?)\s*([A-Za-z_]\w*)\s*(?:\{([^}]*)\})?\s*(?:\(([^()]*)\))?\s*")
_COMPARE = re.compile(r"(==|!=|<=|>=|<|>)\s*(-?\d+)\s*$")


def load_def(path: Path) -> dict[str, Macro]:
    text = decode_utf8(path.read_bytes(), str(path))
    out: dict[str, Macro] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        pos = Pos(str(path), n, 1)
        m = _HEAD.match(line)
        if not m:
            raise InputError(pos, "expected a macro 'NAME(ARGS) BODY'")
        name, params, body = m.group(1), m.group(2), m.group(3).strip()
        if not body:
            raise InputError(pos, f"the macro '{name}' has no body")
        forms, compare = _body(body, Pos(str(path), n, m.start(3) + 1 + len(raw) - len(raw.lstrip())))
        if name in out:
            raise InputError(pos, f"the macro '{name}' is defined twice (first at line {out[name].pos.line})")
        out[name] = Macro(name, tuple(p.strip() for p in params.split(",") if p.strip()), forms, compare, pos)
    return out


def _body(body: str, pos: Pos) -> tuple[tuple[Form, ...], tuple[str, str] | None]:
    compare = None
    if body.startswith("{"):
        if not body.endswith("}"):
            raise InputError(pos, "a statement body must end with '}'")
        parts = [p for p in body[1:-1].split(";") if p.strip()]
    else:
        c = _COMPARE.search(body)
        if c:
            compare = (c.group(1), c.group(2))
            body = body[: c.start()]
        parts = [body]
    forms = []
    for part in parts:
        m = _FORM.fullmatch(part)
        if not m:
            raise Unsupported(pos, f"unsupported: the macro body '{part.strip()}' (only calls of herd7's "
                                   "event forms and of other macros are read)")
        args = tuple(a.strip() for a in (m.group(4) or "").split(",") if a.strip())
        forms.append(Form(m.group(2), m.group(3).strip() if m.group(3) is not None else None, args))
    return tuple(forms), compare
