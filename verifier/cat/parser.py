"""Reading herd's cat language: the grammar in `cat.lark` (lark, LALR(1)) built straight into
`syntax` nodes, and `include`s and `if "variant"` blocks resolved when a model is loaded.

Why this shape:
- LALR parsing is iterative and the nodes are built as rules are reduced (lark's inline
  transformer), so no input can exhaust Python's stack while parsing; the depth of what is
  built is bounded here (MAX_DEPTH), because everything after the parser walks it
  recursively.  A long flat chain (`a | b | ... `, hundreds of names) is built balanced, so
  its depth is logarithmic and only genuine nesting meets the bound.
- Comments are blanked before lexing (nested `(* ... *)`, and `//` and `#` to the end of a
  line, as herd7's lexer reads them), keeping every position of the rest.
- The `*` ambiguity is decided by the next token (`_StarLexer`), as herd7 decides it: a
  product when an expression follows, a closure otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.lark import PostLex
from lark.visitors import Transformer_NonRecursive

from verifier.cat.syntax import (
    Apply,
    Binary,
    Binding,
    Bracket,
    Call,
    CallProc,
    CatExpr,
    CatModel,
    Check,
    CheckKind,
    CheckMode,
    Compare,
    Complement,
    EmptyRel,
    Enum,
    Forall,
    Fun,
    IfExpr,
    IfVariant,
    Include,
    Instructions,
    Let,
    LetIn,
    LetRecWhen,
    Match,
    MatchSet,
    MatchStmt,
    Name,
    Postfix,
    Procedure,
    SetLit,
    Stmt,
    Tag,
    Try,
    Tuple,
    VariantCond,
    VariantName,
    VariantOp,
    WithFrom,
)
from verifier.errors import InputError, Pos, decode_utf8

MAX_DEPTH = 200
# Chains longer than this are built balanced (they are associative); shorter ones keep the
# left-to-right nesting the interpreter's encodings were measured with.
_BALANCE_FROM = 32


# --------------------------------------------------------------------------- comments


def blank_comments(text: str, path: str) -> str:
    """`text` with its comments replaced by spaces (newlines kept, so positions hold).
    A `"string"` is skipped whole: it may hold `#` or `(*`."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = text.find('"', i + 1)
            i = n if j < 0 else j + 1
        elif text.startswith("(*", i):
            start, depth, j = i, 1, i + 2
            while depth and j < n:
                if text.startswith("(*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*)", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                line = text.count("\n", 0, start) + 1
                raise InputError(Pos(path, line, start - text.rfind("\n", 0, start)), "unterminated comment '(*'")
            _blank(out, start, j)
            i = j
        elif c == "#" or text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            _blank(out, i, j)
            i = j
        else:
            i += 1
    return "".join(out)


def _blank(out: list[str], start: int, end: int) -> None:
    for k in range(start, end):
        if out[k] != "\n":
            out[k] = " "


# --------------------------------------------------------------------------- lexing


# Tokens that can start an expression: after one of them a `*` is the cartesian product.
_STARTS = frozenset({"NAME", "TAG", "LBRACE", "UNDERSCORE", "LPAR", "LBRACK", "ZERO", "TILDE", "BEGIN"})


class _StarLexer(PostLex):
    always_accept = ("STAR",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        pending: Token | None = None
        for tok in stream:
            if pending is not None:
                kind = "CROSS" if tok.type in _STARTS else "POSTSTAR"
                yield Token.new_borrow_pos(kind, pending.value, pending)
                pending = None
            if tok.type == "STAR":
                pending = tok
            else:
                yield tok
        if pending is not None:
            yield Token.new_borrow_pos("POSTSTAR", pending.value, pending)


# --------------------------------------------------------------------------- building nodes


class _Build(Transformer_NonRecursive):
    """One method per grammar rule (or alias): the node it stands for, built bottom-up over
    the parse tree without recursion (lark's non-recursive transformer)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.depth: dict[int, int] = {}  # id(node) -> its depth (nodes live while parsing)

    def pos(self, t: Token) -> Pos:
        return Pos(self.path, t.line or 1, t.column or 1)

    def node(self, n: Any, *children: Any) -> Any:
        d = 1 + max((self.depth.get(id(c), 0) for c in _flat(children)), default=0)
        if d > MAX_DEPTH:
            raise InputError(_pos_of(n), f"the model is nested too deeply (more than {MAX_DEPTH} levels)")
        self.depth[id(n)] = d
        return n

    # ---- the model and its statements

    def start(self, items: list[Any]) -> tuple[str, tuple[Stmt, ...]]:
        title = items[0] if items and isinstance(items[0], str) else ""
        return title, _stmts(x for x in items if not isinstance(x, str))

    def title(self, toks: list[Token]) -> str:
        return " ".join(str(t).strip('"') for t in toks)

    def let_stmt(self, c: list[Any]) -> Let:
        return Let(c[1], False, self.pos(c[0]))

    def let_rec_stmt(self, c: list[Any]) -> Let:
        return Let(c[1], True, self.pos(c[0]))

    def let_rec_when(self, c: list[Any]) -> LetRecWhen:
        return LetRecWhen(c[1], c[2], self.pos(c[0]))

    def bindings(self, c: list[Binding]) -> tuple[Binding, ...]:
        return tuple(c)

    def bind_value(self, c: list[Any]) -> Binding:
        return Binding(str(c[0]), None, c[1], self.pos(c[0]))

    def bind_fun1(self, c: list[Any]) -> Binding:
        return Binding(str(c[0]), (_param(c[1]),), c[2], self.pos(c[0]))

    def bind_fun(self, c: list[Any]) -> Binding:
        return Binding(str(c[0]), tuple(_param(p) for p in c[1]), c[2], self.pos(c[0]))

    def bind_tuple(self, c: list[Any]) -> Binding:
        names: tuple[str | None, ...] = c[1]
        return Binding(next((x for x in names if x), ""), None, c[2], self.pos(c[0]), names=names)

    def pat0(self, c: list[Token]) -> str | None:
        return None if c[0].type == "UNDERSCORE" else str(c[0])

    def formals(self, c: list[str | None]) -> tuple[str | None, ...]:
        return tuple(c)

    def check(self, c: list[Any]) -> Check:
        toks = [x for x in c if isinstance(x, Token)]
        mode = next((t for t in toks if t.type in ("FLAG", "UNDEFINED_UNLESS", "ASSERT")), None)
        negated = any(t.type == "TILDE" for t in toks)
        test = next(t for t in toks if t.type in ("ACYCLIC", "IRREFLEXIVE", "EMPTY"))
        expr = next(x for x in c if not isinstance(x, Token))
        label = c[-1] if isinstance(c[-1], Token) and c[-1].type == "NAME" else None
        first = mode or (toks[0] if toks else test)
        kind: CheckKind = str(test)  # type: ignore[assignment]  # the grammar's three words
        how: CheckMode = "check" if mode is None else str(mode)  # type: ignore[assignment]
        return Check(kind, expr, None if label is None else str(label), negated, how, self.pos(first))

    def include(self, c: list[Token]) -> Include:
        return Include(str(c[1]).strip('"'), self.pos(c[0]))

    def show(self, c: list[Any]) -> None:
        return None  # show, unshow, debug: pictures and printing, no effect on verdicts

    show_as = show

    def with_from(self, c: list[Any]) -> WithFrom:
        return WithFrom(str(c[1]), c[2], self.pos(c[0]))

    def _procedure(self, c: list[Any], params: tuple[str | None, ...]) -> Procedure:
        rec = len(c) > 1 and isinstance(c[1], Token) and c[1].type == "REC"
        name = c[2] if rec else c[1]
        body = c[4:] if rec else c[3:]
        return Procedure(str(name), params, _stmts(body), rec, self.pos(c[0]))

    def procedure(self, c: list[Any]) -> Procedure:
        rec = isinstance(c[1], Token) and c[1].type == "REC"
        return self._procedure(c, c[3] if rec else c[2])

    def procedure1(self, c: list[Any]) -> Procedure:
        rec = isinstance(c[1], Token) and c[1].type == "REC"
        return self._procedure(c, (c[3] if rec else c[2],))

    def call_proc(self, c: list[Any]) -> CallProc:
        return CallProc(str(c[1]), c[2], str(c[3]) if len(c) > 3 else None, self.pos(c[0]))

    def forall(self, c: list[Any]) -> Forall:
        return Forall(str(c[1]), c[2], _stmts(c[3:]), self.pos(c[0]))

    def if_variant(self, c: list[Any]) -> IfVariant:
        return IfVariant(c[1], c[2], c[3] if len(c) > 3 else (), self.pos(c[0]))

    def then_stmts(self, c: list[Any]) -> tuple[Stmt, ...]:
        return _stmts(c)

    else_stmts = then_stmts

    def match_stmt(self, c: list[Any]) -> MatchStmt:
        clauses = c[2]
        tagged = tuple((t, body) for t, body in clauses if t is not None)
        default = next((body for t, body in clauses if t is None), None)
        return MatchStmt(c[1], tagged, default, self.pos(c[0]))

    def stmt_clauses(self, c: list[Any]) -> list[Any]:
        return c

    def stmt_tag_clause(self, c: list[Any]) -> tuple[str, tuple[Stmt, ...]]:
        return str(c[0])[1:], _stmts(c[1:])

    def stmt_default_clause(self, c: list[Any]) -> tuple[None, tuple[Stmt, ...]]:
        return None, _stmts(c[1:])

    def enum(self, c: list[Token]) -> Enum:
        return Enum(str(c[1]), tuple(str(t)[1:] for t in c[2:] if t.type == "TAG"), self.pos(c[0]))

    def instructions(self, c: list[Any]) -> Instructions:
        return Instructions(str(c[1]), c[2], False, self.pos(c[0]))

    def default_instructions(self, c: list[Any]) -> Instructions:
        return Instructions(str(c[1]), c[2], True, self.pos(c[0]))

    # ---- expressions

    def let_in(self, c: list[Any]) -> LetIn:
        return self.node(LetIn(c[1], False, c[2], self.pos(c[0])), c[1], c[2])

    def let_rec_in(self, c: list[Any]) -> LetIn:
        return self.node(LetIn(c[1], True, c[2], self.pos(c[0])), c[1], c[2])

    def fun1(self, c: list[Any]) -> Fun:
        return self.node(Fun((c[1],), c[2], self.pos(c[0])), c[2])

    def fun(self, c: list[Any]) -> Fun:
        return self.node(Fun(c[1], c[2], self.pos(c[0])), c[2])

    def try_(self, c: list[Any]) -> Try:
        return self.node(Try(c[1], c[2], self.pos(c[0])), c[1], c[2])

    def if_expr(self, c: list[Any]) -> IfExpr:
        return self.node(IfExpr(c[1], c[2], c[3], self.pos(c[0])), c[2], c[3])

    def match_tags(self, c: list[Any]) -> Match:
        tagged = tuple((t, e) for t, e in c[2] if t is not None)
        default = next((e for t, e in c[2] if t is None), None)
        return self.node(Match(c[1], tagged, default, self.pos(c[0])), c[1], *(e for _, e in c[2]))

    def match_set(self, c: list[Any]) -> MatchSet:
        (_, empty), (_, names, body) = sorted(c[2], key=lambda x: x[0] != "empty")
        return self.node(MatchSet(c[1], empty, names, body, self.pos(c[0])), c[1], empty, body)

    def tuple_expr(self, c: list[Any]) -> Tuple:
        return self.node(Tuple(tuple(c), _pos_of(c[0])), *c)

    def cond_eq(self, c: list[Any]) -> Compare:
        return Compare("=", c[0], c[1], _pos_of(c[0]))

    def cond_subset(self, c: list[Any]) -> Compare:
        return Compare("subset", c[0], c[1], _pos_of(c[0]))

    def cond_in(self, c: list[Any]) -> Compare:
        return Compare("in", c[0], c[1], _pos_of(c[0]))

    def cond_variant(self, c: list[Any]) -> VariantCond:
        return c[0]  # type: ignore[no-any-return]

    def variant_or(self, c: list[Any]) -> VariantOp:
        return VariantOp("or", tuple(c), _pos_of(c[0]))

    def variant_and(self, c: list[Any]) -> VariantOp:
        return VariantOp("and", tuple(c), _pos_of(c[0]))

    def variant_not(self, c: list[Any]) -> VariantOp:
        return VariantOp("not", (c[0],), _pos_of(c[0]))

    def variant_name(self, c: list[Token]) -> VariantName:
        t = c[-1]
        return VariantName(str(t).strip('"'), self.pos(t))

    def clauses(self, c: list[Any]) -> list[Any]:
        return c

    def tag_clause(self, c: list[Any]) -> tuple[str, CatExpr]:
        return str(c[0])[1:], c[1]

    def default_clause(self, c: list[Any]) -> tuple[None, CatExpr]:
        return None, c[1]

    def set_clauses(self, c: list[Any]) -> list[Any]:
        return c

    def empty_clause(self, c: list[Any]) -> tuple[str, CatExpr]:
        return "empty", c[1]

    def element_clause(self, c: list[Any]) -> tuple[str, tuple[str | None, ...], CatExpr]:
        return "element", (c[0], c[2]), c[3]

    def element_clause3(self, c: list[Any]) -> tuple[str, tuple[str | None, ...], CatExpr]:
        return "element", (c[0], c[2], c[4]), c[5]

    def _chain(self, c: list[Any]) -> CatExpr:
        """`a op b op c ...` (operators kept as tokens between the operands)."""
        operands, ops = c[0::2], c[1::2]
        if len(operands) > _BALANCE_FROM and len(set(map(str, ops))) == 1 and str(ops[0]) in "|&;":
            return self._balanced(operands, ops[0])
        if ops and str(ops[0]) == "++":  # an element added to a set: right to left
            acc = operands[-1]
            for op, left in zip(reversed(ops), reversed(operands[:-1]), strict=True):
                acc = self.node(Binary("++", left, acc, self.pos(op)), left, acc)
            return acc  # type: ignore[no-any-return]
        acc = operands[0]
        for op, right in zip(ops, operands[1:], strict=True):
            acc = self.node(Binary(str(op), acc, right, self.pos(op)), acc, right)
        return acc  # type: ignore[no-any-return]

    def _balanced(self, operands: Sequence[CatExpr], op: Token) -> CatExpr:
        if len(operands) == 1:
            return operands[0]
        mid = len(operands) // 2
        left, right = self._balanced(operands[:mid], op), self._balanced(operands[mid:], op)
        return self.node(Binary(str(op), left, right, self.pos(op)), left, right)  # type: ignore[no-any-return]

    union = plusplus = seq = diff = inter = cross = _chain

    def complement(self, c: list[Any]) -> Complement:
        return self.node(Complement(c[1], self.pos(c[0])), c[1])

    def postfix(self, c: list[Any]) -> Postfix:
        tok: Token = c[1]
        op = {"POSTSTAR": "*", "PLUS": "+", "OPT": "?", "INV": "^-1", "HATPLUS": "+"}[tok.type]
        return self.node(Postfix(op, c[0], self.pos(tok)), c[0])

    def name(self, c: list[Token]) -> Name:
        return Name(str(c[0]), self.pos(c[0]))

    def apply(self, c: list[Any]) -> CatExpr:
        fn, arg = c
        if isinstance(fn, Name):
            args = arg.items if isinstance(arg, Tuple) else (arg,)
            return self.node(Call(fn.id, args, fn.pos), *args)  # type: ignore[no-any-return]
        return self.node(Apply(fn, arg, _pos_of(fn)), fn, arg)  # type: ignore[no-any-return]

    def empty(self, c: list[Token]) -> EmptyRel:
        return EmptyRel(self.pos(c[0]))

    def tag(self, c: list[Token]) -> Tag:
        return Tag(str(c[0])[1:], self.pos(c[0]))

    def set_lit(self, c: list[Any]) -> SetLit:
        return self.node(SetLit(c[1], self.pos(c[0])), *c[1])

    def universe(self, c: list[Token]) -> Name:
        return Name("_", self.pos(c[0]))

    def unit(self, c: list[Token]) -> Tuple:
        return Tuple((), self.pos(c[0]))

    def paren(self, c: list[Any]) -> CatExpr:
        return self.node(c[-1], c[-1])  # type: ignore[no-any-return]

    def bracket(self, c: list[Any]) -> Bracket:
        return self.node(Bracket(c[1], self.pos(c[0])), c[1])

    def args(self, c: list[Any]) -> tuple[CatExpr, ...]:
        return tuple(c)


def _flat(children: Sequence[Any]) -> Iterator[Any]:
    for c in children:
        if isinstance(c, tuple) and not hasattr(c, "pos"):
            yield from _flat(c)
        else:
            yield c


def _pos_of(n: Any) -> Pos:
    p = getattr(n, "pos", None)
    return p if isinstance(p, Pos) else Pos("?", 1, 1)


def _param(p: str | None) -> str:
    return "" if p is None else p  # `_`: a parameter no name can refer to


def _stmts(items: Any) -> tuple[Stmt, ...]:
    return tuple(x for x in items if x is not None and not isinstance(x, Token))


# --------------------------------------------------------------------------- entry points


@cache
def _parser() -> Lark:
    """The LALR tables, built once per process (about 0.2 s; a batch's workers inherit them)."""
    grammar = Path(__file__).with_name("cat.lark").read_text()
    return Lark(grammar, parser="lalr", lexer="contextual", postlex=_StarLexer(), maybe_placeholders=False)


def parse_model(text: str, path: str) -> CatModel:
    """A model's syntax; a syntax error is an `InputError` at its position."""
    source = blank_comments(text, path)
    try:
        tree = _parser().parse(source)
    except UnexpectedInput as e:
        raise _syntax_error(e, source, path) from None
    try:
        title, stmts = _Build(path).transform(tree)
    except VisitError as e:  # lark wraps what a rule's method raises
        if isinstance(e.orig_exc, InputError):
            raise e.orig_exc from None
        raise
    return CatModel(title, stmts, path)


_WORDS = {"$END": "end of file", "NAME": "a name", "STRING": "a string", "TAG": "a tag"}


def _syntax_error(e: UnexpectedInput, text: str, path: str) -> InputError:
    pos = Pos(path, getattr(e, "line", 1) or 1, getattr(e, "column", 1) or 1)
    if isinstance(e, UnexpectedCharacters):
        at = e.pos_in_stream or 0
        return InputError(pos, f"unexpected character {text[at:at + 1]!r} in model")
    if isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            return InputError(_end_of(text, path), "unexpected end of file in model")
        return InputError(Pos(path, tok.line or 1, tok.column or 1), f"unexpected {str(tok)!r} in model")
    if isinstance(e, UnexpectedEOF):
        return InputError(_end_of(text, path), "unexpected end of file in model")
    return InputError(pos, "syntax error in model")


def _end_of(text: str, path: str) -> Pos:
    return Pos(path, text.count("\n") + 1, len(text) - (text.rfind("\n") + 1) + 1)


# --------------------------------------------------------------------------- loading


def load_model(path: Path, search: tuple[Path, ...] = (), variants: frozenset[str] = frozenset()) -> CatModel:
    """Parse a model file and splice in its `include`s (found next to it, then in `search`,
    as herd7's `-I`) and the branches of its `if "variant"` blocks that `variants` select."""
    return _load(path, search, variants, ())


def _load(path: Path, search: tuple[Path, ...], variants: frozenset[str], stack: tuple[Path, ...]) -> CatModel:
    model = parse_model(decode_utf8(path.read_bytes(), str(path)), str(path))
    return CatModel(model.title, _splice(model.stmts, path, search, variants, stack), model.path)


def _splice(stmts: Sequence[Stmt], path: Path, search: tuple[Path, ...], variants: frozenset[str],
            stack: tuple[Path, ...]) -> tuple[Stmt, ...]:
    out: list[Stmt] = []
    for s in stmts:
        if isinstance(s, Include):
            target = _find_include(s, path, search)
            if target.resolve() in stack or target.resolve() == path.resolve():
                raise InputError(s.pos, f"'{s.file}' includes itself")
            try:
                out.extend(_load(target, search, variants, (*stack, path.resolve())).stmts)
            except OSError as e:
                raise InputError(s.pos, f"cannot read included model file '{s.file}': {e.strerror}") from None
        elif isinstance(s, IfVariant):
            chosen = s.then if variant_holds(s.cond, variants) else s.orelse
            out.extend(_splice(chosen, path, search, variants, stack))
        else:
            out.append(_choose_variants(s, variants))
    return tuple(out)


def _choose_variants(node: Any, variants: frozenset[str]) -> Any:
    """`node` with each `if "variant" then e1 else e2` expression replaced by its chosen
    branch (the variants are known when a model is loaded, as in herd7)."""
    if isinstance(node, IfExpr) and not isinstance(node.cond, Compare):
        return _choose_variants(node.then if variant_holds(node.cond, variants) else node.orelse, variants)
    if isinstance(node, tuple):
        items = tuple(_choose_variants(x, variants) for x in node)
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    if not dataclasses.is_dataclass(node) or isinstance(node, (Pos, type)):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        old = getattr(node, f.name)
        new = _choose_variants(old, variants)
        if new is not old:
            changes[f.name] = new
    return dataclasses.replace(node, **changes) if changes else node


def _find_include(s: Include, path: Path, search: tuple[Path, ...]) -> Path:
    """The file an `include` names: next to the including model, then in `search`.  A name
    the file system refuses (too long: ENAMETOOLONG) is an error at the include."""
    for d in (path.parent, *search):
        candidate = d / s.file
        try:
            if candidate.is_file():
                return candidate
        except OSError as e:
            raise InputError(s.pos, f"cannot look for included model file '{s.file}': {e.strerror}") from None
    raise InputError(s.pos, f"included model file '{s.file}' not found")


def variant_holds(c: VariantCond, variants: frozenset[str]) -> bool:
    """Whether a variant condition holds (herd7's `-variant` options, a `.cfg`'s `variant`)."""
    if isinstance(c, VariantName):
        return c.name in variants
    if c.op == "not":
        return not variant_holds(c.args[0], variants)
    results = [variant_holds(a, variants) for a in c.args]
    return all(results) if c.op == "and" else any(results)
