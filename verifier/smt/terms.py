"""SMT-LIB terms as text, with constant folding, and a script that names shared subterms.

Building terms through z3's Python object API costs several times the solve time on litmus
tests; text handed to `Solver.from_string` in one go is much cheaper (see DEVELOPERS.md).
Terms are plain strings; "true"/"false" fold away so that static facts (same thread, same
constant address) never reach the solver.
"""

from __future__ import annotations

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
    """An SMT-LIB script under construction: declarations and assertions, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.counter = 0

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

    def text(self) -> str:
        return "\n".join(self.lines)
