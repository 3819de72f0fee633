"""SMT-LIB terms as text, with constant folding, and a script that names shared subterms.

Building terms through z3's Python object API costs several times the solve time on litmus
tests; text handed to `Solver.from_string` in one go is much cheaper (see DEVELOPERS.md).
Terms are plain strings; "true"/"false" fold away so that static facts (same thread, same
constant address) never reach the solver.
"""

from __future__ import annotations

import re

T = "true"
F = "false"


def and_(*args: str) -> str:
    parts: list[str] = []
    for a in args:
        if a == F:
            return F
        if a != T and a not in parts:
            parts.append(a)
    if not parts:
        return T
    return parts[0] if len(parts) == 1 else f"(and {' '.join(parts)})"


def or_(*args: str) -> str:
    parts: list[str] = []
    for a in args:
        if a == T:
            return T
        if a != F and a not in parts:
            parts.append(a)
    if not parts:
        return F
    return parts[0] if len(parts) == 1 else f"(or {' '.join(parts)})"


def not_(a: str) -> str:
    if a == T:
        return F
    if a == F:
        return T
    if a.startswith("(not ") and a.endswith(")") and _balanced(a[5:-1]):
        return a[5:-1]
    return f"(not {a})"


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0 and (not s.startswith("(") or _one_term(s))


def _one_term(s: str) -> bool:
    depth = 0
    for i, ch in enumerate(s):
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            return i == len(s) - 1
    return False


def implies(a: str, b: str) -> str:
    return or_(not_(a), b)


def iff(a: str, b: str) -> str:
    if a == b:
        return T
    if a == T:
        return b
    if b == T:
        return a
    return f"(= {a} {b})"


def num(n: int) -> str:
    return str(n) if n >= 0 else f"(- {-n})"


def eq(a: str, b: str) -> str:
    if a == b:
        return T
    if _is_num(a) and _is_num(b):
        return F  # distinct literals (equal ones were caught above)
    return f"(= {a} {b})"


def lt(a: str, b: str) -> str:
    return f"(< {a} {b})"


def ite(c: str, a: str, b: str) -> str:
    if c == T or a == b:
        return a
    if c == F:
        return b
    return f"(ite {c} {a} {b})"


def _is_num(s: str) -> bool:
    return s.isdigit() or (s.startswith("(- ") and s[3:-1].isdigit())


def lit_value(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if s.startswith("(- ") and s[3:-1].isdigit():
        return -int(s[3:-1])
    return None


def is_atom(s: str) -> bool:
    return not s.startswith("(")


class Script:
    """An SMT-LIB script under construction: declarations and assertions, in order.

    A *derived* name (`derive`) stands for a term of the model's relation values: a pair of
    a composition, a closure's update, a recursive group's iterate.  The model computes a
    value's terms for every pair that may be in it, and most never reach a check: on a
    large RCU test two thirds of them.  `text()` keeps a derived name's definition only if
    a kept line or a root (`keep`) refers to it, directly or through other kept
    definitions; the rest never reach the solver.  Exact: a definition `(= n t)` of a name
    nothing else mentions constrains nothing else."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.counter = 0
        self.derived: dict[int, str] = {}  # line of a derived name's definition -> the name
        self.roots: list[str] = []
        self._text: tuple[int, int, str] | None = None  # (lines, roots, text) last computed

    def declare(self, name: str, sort: str) -> str:
        self.lines.append(f"(declare-const {name} {sort})")
        return name

    def fresh(self, prefix: str, sort: str) -> str:
        self.counter += 1
        return self.declare(f"{prefix}!{self.counter}", sort)

    def name_bool(self, prefix: str, term: str) -> str:
        """A Boolean constant equal to `term` (constants and atoms are returned as they are)."""
        if is_atom(term):
            return term
        name = self.fresh(prefix, "Bool")
        self.lines.append(f"(assert (= {name} {term}))")
        return name

    def derive(self, prefix: str, term: str) -> str:
        """`name_bool` for a model's derived term: dropped from `text()` unless used."""
        name = self.name_bool(prefix, term)
        if name != term:
            self.derived[len(self.lines) - 1] = name
        return name

    def keep(self, term: str) -> None:
        """`term` will be asked of the solver later: the derived names in it stay."""
        self.roots.append(term)

    def name_int(self, prefix: str, term: str) -> str:
        if is_atom(term) or lit_value(term) is not None:
            return term
        name = self.fresh(prefix, "Int")
        self.lines.append(f"(assert (= {name} {term}))")
        return name

    def add(self, term: str) -> None:
        if term == T:
            return
        self.lines.append(f"(assert {term})")

    def text(self, *roots: str) -> str:
        """The script, without the derived definitions that neither a line nor a root
        (`keep`, or `roots` for this text only) reaches."""
        if not roots and self._text is not None and self._text[:2] == (len(self.lines), len(self.roots)):
            return self._text[2]
        kept = self.kept_lines(*roots)
        text = "\n".join(kept)
        if not roots:
            self._text = (len(self.lines), len(self.roots), text)
        return text

    def kept_lines(self, *roots: str) -> list[str]:
        if not self.derived:
            return list(self.lines)
        # A name is defined before any line uses it: one sweep from the end finds them all.
        used: set[str] = set()
        for r in (*self.roots, *roots):
            used.update(_NAMES.findall(r))
        drop: set[int] = set()
        for i in range(len(self.lines) - 1, -1, -1):
            name = self.derived.get(i)
            if name is not None and name not in used:
                drop.update((i, i - 1))  # its assertion and its declaration
            elif i not in drop:
                used.update(_NAMES.findall(self.lines[i]))
        return [line for i, line in enumerate(self.lines) if i not in drop]


# The names `fresh` makes; a derived name is one of them.
_NAMES = re.compile(r"[A-Za-z_][A-Za-z0-9_]*![0-9]+")
