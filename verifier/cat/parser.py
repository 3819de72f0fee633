"""Parser for the cat-style model language (a precedence-climbing parser).

Infix operators, weakest first (herd's order): `|`, `++`, `;`, `\\`, `&`, `*` (cartesian);
postfix `+ * ? ^-1`; prefix `~`.  A `*` is postfix (reflexive-transitive closure) unless the
next token can start an expression, in which case it is the cartesian product.
Comments are `(* ... *)`.  Unsupported cat features (`procedure`, `match`, `call`, `forall`,
`enum`, `with`, `instructions`, `if`) are reported by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from verifier.cat.syntax import (
    Binary,
    Binding,
    Bracket,
    Call,
    CatExpr,
    CatModel,
    Check,
    Complement,
    EmptyRel,
    Include,
    Let,
    Name,
    Postfix,
    Stmt,
)
from verifier.errors import InputError, Pos, decode_utf8

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\(\*)
  | (?P<string>"[^"\n]*")
  | (?P<name>[A-Za-z_][\w.-]*)
  | (?P<num>\d+)
  | (?P<op>\^-1|\+\+|[|&\\;*+?~()\[\],=^])
    """,
    re.VERBOSE,
)

_UNSUPPORTED = frozenset(
    {"procedure", "match", "call", "forall", "enum", "with", "instructions", "if", "set", "from",
     "begin", "end", "do", "debug"}
)
_IGNORED = frozenset({"show", "unshow"})
_CHECKS = ("acyclic", "irreflexive", "empty")
_INFIX = {"|": 1, "++": 2, ";": 3, "\\": 4, "&": 5, "*": 6}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: Pos


def _tokenize(text: str, path: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, line, col0 = 0, 1, 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        pos = Pos(path, line, i - col0 + 1)
        if not m:
            raise InputError(pos, f"unexpected character {text[i]!r} in model")
        kind = m.lastgroup or ""
        end = m.end()
        if kind == "comment":
            depth, j = 1, end
            while depth and j < len(text):
                if text.startswith("(*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*)", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise InputError(pos, "unterminated comment '(*'")
            end = j
        elif kind != "ws":
            toks.append(_Tok(kind, m.group(), pos))
        chunk = text[i:end]
        if "\n" in chunk:
            line += chunk.count("\n")
            col0 = i + chunk.rfind("\n") + 1
        i = end
    toks.append(_Tok("eof", "", Pos(path, line, i - col0 + 1)))
    return toks


MAX_DEPTH = 200


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0
        self.depth = 0  # nested expressions: bounded here, not by Python's stack

    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> _Tok:
        t = self.peek()
        self.i += 1
        return t

    def accept(self, text: str) -> bool:
        if self.peek().text == text and self.peek().kind != "string":
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> _Tok:
        t = self.peek()
        if t.text != text or t.kind == "string":
            raise InputError(t.pos, f"expected {text!r}, found {t.text or 'end of file'!r}")
        return self.next()

    def name(self) -> _Tok:
        t = self.next()
        if t.kind != "name":
            raise InputError(t.pos, f"expected a name, found {t.text or 'end of file'!r}")
        return t

    # ---- statements

    def model(self, path: str) -> CatModel:
        title = ""
        if self.peek().kind == "string":
            title = self.next().text.strip('"')
        elif self.peek().kind == "name" and self.peek().text not in ("let", "include", "flag", *_CHECKS, *_IGNORED):
            title = self.next().text
        stmts: list[Stmt] = []
        while self.peek().kind != "eof":
            s = self.stmt()
            if s is not None:
                stmts.append(s)
        return CatModel(title, tuple(stmts), path)

    def stmt(self) -> Stmt | None:
        t = self.peek()
        if t.text in _UNSUPPORTED and t.kind == "name":
            raise InputError(t.pos, f"unsupported cat construct '{t.text}'")
        if self.accept("let"):
            rec = self.accept("rec")
            bindings = [self.binding()]
            while self.accept("and"):
                bindings.append(self.binding())
            return Let(tuple(bindings), rec, t.pos)
        if self.accept("include"):
            f = self.next()
            if f.kind != "string":
                raise InputError(f.pos, "expected a file name in double quotes after 'include'")
            return Include(f.text.strip('"'), t.pos)
        if t.text in _IGNORED:
            self.next()
            self.expr()
            if self.accept("as"):
                self.name()
            while self.accept(","):
                self.expr()
            return None
        flag = self.accept("flag")
        negated = self.accept("~")
        k = self.peek()
        if k.text not in _CHECKS:
            raise InputError(k.pos, f"expected a statement (let, include, acyclic, irreflexive, empty), found {k.text or 'end of file'!r}")
        self.next()
        e = self.expr()
        label = self.name().text if self.accept("as") else None
        return Check(k.text, e, label, negated, flag, t.pos)  # type: ignore[arg-type]

    def binding(self) -> Binding:
        n = self.name()
        params: tuple[str, ...] | None = None
        if self.accept("("):
            names: list[str] = []
            if not self.accept(")"):
                names.append(self.name().text)
                while self.accept(","):
                    names.append(self.name().text)
                self.expect(")")
            params = tuple(names)
        self.expect("=")
        return Binding(n.text, params, self.expr(), n.pos)

    # ---- expressions

    def expr(self, min_prec: int = 1) -> CatExpr:
        left = self.unary()
        while True:
            t = self.peek()
            prec = _INFIX.get(t.text) if t.kind == "op" else None
            if prec is None or prec < min_prec:
                return left
            self.next()
            right = self.expr(prec + 1)
            left = Binary(t.text, left, right, t.pos)

    def _starts_expr(self, t: _Tok) -> bool:
        return t.kind in ("name", "num") and t.text not in ("as", "and", "let", "include", "flag", *_CHECKS, *_IGNORED) or t.text in ("(", "[", "~")

    def unary(self) -> CatExpr:
        t = self.peek()
        if self.depth >= MAX_DEPTH:
            raise InputError(t.pos, f"the model is nested too deeply (more than {MAX_DEPTH} levels)")
        self.depth += 1
        try:
            return self._unary(t)
        finally:
            self.depth -= 1

    def _unary(self, t: _Tok) -> CatExpr:
        if self.accept("~"):
            return Complement(self.unary(), t.pos)
        e = self.primary()
        while True:
            t = self.peek()
            if t.text in ("+", "?", "^-1"):
                self.next()
                e = Postfix(t.text, e, t.pos)
            elif t.text == "^" and self.peek(1).text == "+":
                self.next()
                self.next()
                e = Postfix("+", e, t.pos)
            elif t.text == "*" and not self._starts_expr(self.peek(1)):
                self.next()
                e = Postfix("*", e, t.pos)
            else:
                return e

    def primary(self) -> CatExpr:
        t = self.next()
        if t.kind == "num":
            if t.text != "0":
                raise InputError(t.pos, f"only 0 (the empty relation) is a number in models, found {t.text}")
            return EmptyRel(t.pos)
        if t.text == "(":
            e = self.expr()
            self.expect(")")
            return e
        if t.text == "[":
            e = self.expr()
            self.expect("]")
            return Bracket(e, t.pos)
        if t.kind == "name":
            if t.text in _UNSUPPORTED:
                raise InputError(t.pos, f"unsupported cat construct '{t.text}'")
            if self.peek().text == "(" and self.peek().pos.line == t.pos.line and self.peek().pos.col == t.pos.col + len(t.text):
                self.next()
                args: list[CatExpr] = []
                if not self.accept(")"):
                    args.append(self.expr())
                    while self.accept(","):
                        args.append(self.expr())
                    self.expect(")")
                return Call(t.text, tuple(args), t.pos)
            return Name(t.text, t.pos)
        raise InputError(t.pos, f"expected an expression, found {t.text or 'end of file'!r}")


def parse_model(text: str, path: str) -> CatModel:
    return _Parser(_tokenize(text, path)).model(path)


def load_model(path: Path, search: tuple[Path, ...] = ()) -> CatModel:
    """Parse a model file and splice in its `include`s (found next to it, then in `search`)."""
    return _load(path, search, ())


def _load(path: Path, search: tuple[Path, ...], stack: tuple[Path, ...]) -> CatModel:
    model = parse_model(decode_utf8(path.read_bytes(), str(path)), str(path))
    stmts: list[Stmt] = []
    for s in model.stmts:
        if isinstance(s, Include):
            target = next((d / s.file for d in (path.parent, *search) if (d / s.file).is_file()), None)
            if target is None:
                raise InputError(s.pos, f"included model file '{s.file}' not found")
            if target.resolve() in stack:
                raise InputError(s.pos, f"'{s.file}' includes itself")
            stmts.extend(_load(target, search, (*stack, path.resolve())).stmts)
        else:
            stmts.append(s)
    return CatModel(model.title, tuple(stmts), model.path)
