"""herd7's `.def` format: kernel C primitives as herd7's built-in event forms.

    READ_ONCE(X) __load{ONCE}(X)                             # an expression ...
    smp_store_mb(X,V) { __store{ONCE}(X,V); __fence{MB}; }   # ... or statements
    atomic_read(X) READ_ONCE(*X)                              # or another macro
    atomic_dec_and_test(X) __atomic_op_return{MB}(X,-,1) == 0 # a form, then operators

One reader serves the kernel's `linux-kernel.def` (a model a user passes) and the project's own
table (`encodings/lkmm/kernel.def`, from which the C front end learns every primitive it
accepts).  An expression body is one form followed by operators applied to its value, each
with an operand (a number, a parameter, or `1<<N`); operators must come in C precedence order
(`>> N & 1`, `== 0`), so that reading them left to right is reading them as C would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import InputError, Pos, Unsupported, decode_utf8


@dataclass(frozen=True)
class Form:
    """One call in a macro body: a herd7 built-in event form (`__load`, `__fence`, ...) with
    its annotation, or another macro; arguments as written (`X`, `*X`, `+`, `1`, `1<<N`)."""

    name: str
    annotation: str | None
    args: tuple[str, ...]

    @property
    def builtin(self) -> bool:
        return self.name.startswith("__")


@dataclass(frozen=True)
class Macro:
    """`NAME(PARAMS) BODY`: the forms the body calls, in order, and the operators an
    expression body applies to its form's value (`(("==", "0"),)` for `== 0`); a statement
    body (`{ ...; }`) has no value."""

    name: str
    params: tuple[str, ...]
    forms: tuple[Form, ...]
    tail: tuple[tuple[str, str], ...]
    pos: Pos
    statements: bool = False  # a `{ ...; }` body: the macro has no value


_HEAD = re.compile(r"([A-Za-z_]\w*)\s*\(([^)]*)\)\s*(.*)$")
_FORM = re.compile(r"\s*(\*?)\s*([A-Za-z_]\w*)\s*(?:\{([^}]*)\})?\s*(?:\(([^()]*)\))?\s*")
_OPERAND = r"-?\d+(?:<<[A-Za-z_]\w*)?|[A-Za-z_]\w*"
_TAIL = re.compile(rf"\s*(>>|<<|==|!=|<=|>=|&|\^|\||<|>)\s*({_OPERAND})\s*")
# C's precedence levels of the operators a tail may use (smaller binds tighter).
_LEVEL = {"<<": 5, ">>": 5, "<": 6, "<=": 6, ">": 6, ">=": 6, "==": 7, "!=": 7, "&": 8, "^": 9, "|": 10}


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
        forms, tail = _body(body, Pos(str(path), n, m.start(3) + 1 + len(raw) - len(raw.lstrip())))
        if name in out:
            raise InputError(pos, f"the macro '{name}' is defined twice (first at line {out[name].pos.line})")
        params_ = tuple(p.strip() for p in params.split(",") if p.strip())
        out[name] = Macro(name, params_, forms, tail, pos, statements=body.startswith("{"))
    return out


def _body(body: str, pos: Pos) -> tuple[tuple[Form, ...], tuple[tuple[str, str], ...]]:
    tail: list[tuple[str, str]] = []
    if body.startswith("{"):
        if not body.endswith("}"):
            raise InputError(pos, "a statement body must end with '}'")
        parts = [p for p in body[1:-1].split(";") if p.strip()]
    else:
        m = _FORM.match(body)
        at = m.end() if m else 0
        while at < len(body):
            t = _TAIL.match(body, at)
            if t is None:
                break
            if tail and _LEVEL[t.group(1)] < _LEVEL[tail[-1][0]]:
                raise Unsupported(pos, f"unsupported: '{body[m.end() if m else 0:].strip()}' after a form: "
                                       "operators must come in C precedence order (left to right is C's reading)")
            tail.append((t.group(1), t.group(2)))
            at = t.end()
        # What the operators did not take is left to the form, whose fullmatch then names it.
        parts = [body[: m.end()]] if m and at == len(body) else [body]
    forms = []
    for part in parts:
        m = _FORM.fullmatch(part)
        if not m:
            raise Unsupported(pos, f"unsupported: the macro body '{part.strip()}' (only calls of herd7's "
                                   "event forms and of other macros, then operators on the value, are read)")
        args = tuple(a.strip() for a in (m.group(4) or "").split(",") if a.strip())
        forms.append(Form(m.group(2), m.group(3).strip() if m.group(3) is not None else None, args))
    return tuple(forms), tuple(tail)


def expand(m: Macro, macros: dict[str, Macro], depth: int = 0) -> tuple[tuple[Form, ...], tuple[tuple[str, str], ...]]:
    """The built-in forms a macro's body comes to, arguments substituted, and its tail (a
    called macro's tail, then the caller's)."""
    if depth > 20:
        raise InputError(m.pos, f"the macro '{m.name}' expands into itself")
    out: list[Form] = []
    tail: list[tuple[str, str]] = []
    for f in m.forms:
        if f.builtin:
            out.append(f)
            continue
        inner = macros.get(f.name)
        if inner is None:
            raise InputError(m.pos, f"the macro '{m.name}' calls '{f.name}', which no macro defines")
        if len(inner.params) != len(f.args):
            raise InputError(m.pos, f"'{f.name}' takes {len(inner.params)} argument(s), given {len(f.args)}")
        subst = dict(zip(inner.params, f.args, strict=True))
        forms, inner_tail = expand(inner, macros, depth + 1)
        out += [Form(g.name, g.annotation, tuple(_subst(a, subst) for a in g.args)) for g in forms]
        tail += [(op, _subst(a, subst)) for op, a in inner_tail]
    return tuple(out), (*tail, *m.tail)


def _subst(arg: str, subst: dict[str, str]) -> str:
    """`arg` with the caller's arguments for the callee's parameters (`*X` with X := `*x`
    stays one dereference deeper, as herd7's textual expansion does)."""
    star = arg.startswith("*")
    body = arg.lstrip("*")
    if "<<" in body:
        lo, _, hi = body.partition("<<")
        return "<<".join(subst.get(p, p) for p in (lo, hi))
    body = subst.get(body, body)
    return "*" + body if star else body
