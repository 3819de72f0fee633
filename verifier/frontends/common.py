"""Pieces of herd's litmus format shared by every dialect.

- comments `(* ... *)` (nested, as in OCaml) are blanked out, keeping line/column positions;
- the kernel's `Result: Never|Sometimes|Always` comment (and this project's per-model form
  `Result(x86-tso): Never`) is read before blanking;
- the init block `{ ... }`, and the tail: `locations [...]`, `filter ...`, and the final
  condition `exists|~exists|forall ...` with `/\\ \\/ ~ not => -> true false`
  (a `;` may end it);
- the preamble between the header line and the init block (doc string, `Key=value` lines).

A small hand-written tokenizer keeps exact positions for `file:line:col` messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from verifier.errors import InputError, Pos
from verifier.program.ast import (
    Atom,
    Condition,
    Const,
    Expr,
    LocAddr,
    MemObs,
    Observable,
    PAnd,
    PFalse,
    PImplies,
    PNot,
    POr,
    Prop,
    PTrue,
    RegObs,
    Value,
)

OBSERVATIONS = ("Never", "Sometimes", "Always")


def blank_comments(text: str, path: str, begin: int = 0, end: int | None = None) -> str:
    """Replace every `(* ... *)` comment (nesting allowed) between `begin` and `end` by
    spaces, keeping newlines.  (Kernel C bodies are left alone: `(*p)` is not a comment.)"""
    out = list(text)
    depth = 0
    start = 0
    i = begin
    stop = len(text) if end is None else end
    while i < stop:
        two = text[i : i + 2]
        if two == "(*":
            if depth == 0:
                start = i
            depth += 1
            i += 2
            continue
        if two == "*)" and depth > 0:
            depth -= 1
            i += 2
            if depth == 0:
                for k in range(start, i):
                    if out[k] != "\n":
                        out[k] = " "
            continue
        i += 1
    if depth > 0:
        raise InputError(pos_of(text, start, path), "unterminated comment '(*'")
    return "".join(out)


_RESULT = re.compile(r"Result(?:\(([\w.-]+)\))?\s*:\s*(\w+)")


def read_expectations(text: str) -> tuple[tuple[str, str], ...]:
    """Expected observations recorded in comments: `Result: X` (kernel style, key "") and
    `Result(model): X` (this project's per-model form).  `DEADLOCK` and `Maybe` are kept as
    written; callers decide what they mean."""
    found: dict[str, str] = {}
    for m in _RESULT.finditer(text):
        model = m.group(1) or ""
        word = m.group(2)
        if word in OBSERVATIONS or word in ("DEADLOCK", "Maybe"):
            found.setdefault(model, word)
    return tuple(sorted(found.items()))


def pos_of(text: str, offset: int, path: str) -> Pos:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Pos(path, line, col)


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # "id", "num", "op", "eof"
    text: str
    offset: int


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>-?0[xX][0-9a-fA-F]+|-?\d+)
  | (?P<id>[A-Za-z_%$][\w.$%]*(?:-[A-Za-z]\w*)*)
  | (?P<op>/\\|\\/|->|=>|~exists|==|!=|<=|>=|[][{}();:=,~*&<>+|^!-])
    """,
    re.VERBOSE,
)


def tokenize(
    text: str, start: int, end: int, path: str, pattern: re.Pattern[str] = _TOKEN, where: str = ""
) -> list[Token]:
    """Tokens of text[start:end] by `pattern` (named groups give the kinds; `ws` is skipped).
    The assembly program tables pass their own pattern, and `where` for the error message."""
    toks: list[Token] = []
    i = start
    while i < end:
        m = pattern.match(text, i, end)
        if not m:
            raise InputError(pos_of(text, i, path), f"unexpected character {text[i]!r}{where}")
        kind = m.lastgroup or ""
        if kind != "ws":
            toks.append(Token(kind, m.group(), i))
        i = m.end()
    toks.append(Token("eof", "", end))
    return toks


class TokenStream:
    """A cursor over tokens with position-carrying errors."""

    def __init__(self, text: str, toks: list[Token], path: str) -> None:
        self.text = text
        self.toks = toks
        self.path = path
        self.i = 0

    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.peek()
        self.i += 1
        return t

    def at(self, text: str) -> bool:
        return self.peek().text == text and self.peek().kind != "eof"

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.i += 1
            return True
        return False

    def expect(self, text: str, what: str = "") -> Token:
        t = self.peek()
        if t.text != text or t.kind == "eof":
            found = "end of input" if t.kind == "eof" else repr(t.text)
            raise self.error(t, f"expected {what or repr(text)}, found {found}")
        self.i += 1
        return t

    def pos(self, t: Token | None = None) -> Pos:
        return pos_of(self.text, (t or self.peek()).offset, self.path)

    def error(self, t: Token, message: str) -> InputError:
        return InputError(self.pos(t), message)


# --------------------------------------------------------------------------- conditions

# Maps (thread id, register name as written) to the canonical register name, or raises.
RegNormalizer = Callable[[int, str, Pos], str]


def _identity_reg(tid: int, name: str, pos: Pos) -> str:
    return name


def number(text: str) -> int:
    """A literal as herd reads it: hexadecimal with 0x, otherwise decimal (so `08` is 8)."""
    neg = text.startswith("-")
    digits = text[1:] if neg else text
    value = int(digits, 16) if digits[:2] in ("0x", "0X") else int(digits, 10)
    return -value if neg else value


def thread_id(ts: TokenStream, t: Token) -> int:
    if not t.text.isdigit():
        raise ts.error(t, f"bad thread number {t.text!r}")
    return int(t.text)


def parse_value(ts: TokenStream) -> Value:
    t = ts.next()
    if t.kind == "num":
        return number(t.text)
    if t.kind == "id":
        return t.text
    raise ts.error(t, f"expected a value (integer or location name), found {t.text!r}")


def parse_observable(ts: TokenStream, norm: RegNormalizer) -> Observable:
    t = ts.peek()
    if t.kind == "num" and ts.peek(1).text == ":":
        ts.next()
        ts.next()
        r = ts.next()
        if r.kind != "id":
            raise ts.error(r, f"expected a register name after '{t.text}:'")
        tid = thread_id(ts, t)
        return RegObs(tid, norm(tid, r.text, ts.pos(r)))
    if ts.accept("["):
        n = ts.next()
        if n.kind != "id":
            raise ts.error(n, "expected a location name inside '[...]'")
        ts.expect("]")
        return MemObs(n.text)
    if t.kind == "id":
        ts.next()
        return MemObs(t.text)
    raise ts.error(t, f"expected a register 'P:reg' or a location, found {t.text or 'end of input'!r}")


def parse_prop(ts: TokenStream, norm: RegNormalizer = _identity_reg) -> Prop:
    """prop := disj (('=>'|'->') prop)?;  disj := conj ('\\/' conj)*;  conj := unary ('/\\' unary)*

    herd writes implication `=>`; `->` is accepted as well."""
    left = _parse_disj(ts, norm)
    if ts.accept("=>") or ts.accept("->"):
        return PImplies(left, parse_prop(ts, norm))
    return left


def _parse_disj(ts: TokenStream, norm: RegNormalizer) -> Prop:
    args = [_parse_conj(ts, norm)]
    while ts.accept("\\/"):
        args.append(_parse_conj(ts, norm))
    return args[0] if len(args) == 1 else POr(tuple(args))


def _parse_conj(ts: TokenStream, norm: RegNormalizer) -> Prop:
    args = [_parse_unary(ts, norm)]
    while ts.accept("/\\"):
        args.append(_parse_unary(ts, norm))
    return args[0] if len(args) == 1 else PAnd(tuple(args))


def _parse_unary(ts: TokenStream, norm: RegNormalizer) -> Prop:
    if ts.accept("~") or ts.accept("not"):
        return PNot(_parse_unary(ts, norm))
    if ts.accept("("):
        p = parse_prop(ts, norm)
        ts.expect(")")
        return p
    if ts.accept("true"):
        return PTrue()
    if ts.accept("false"):
        return PFalse()
    obs = parse_observable(ts, norm)
    t = ts.peek()
    if ts.accept("=") or ts.accept("=="):
        return Atom(obs, parse_value(ts))
    if ts.accept("!="):
        return PNot(Atom(obs, parse_value(ts)))
    raise ts.error(t, f"expected '=' after {obs}, found {t.text or 'end of input'!r}")


@dataclass(frozen=True)
class Tail:
    condition: Condition
    observed: tuple[Observable, ...]
    filter: Prop | None


TAIL_KEYWORDS = ("locations", "filter", "exists", "~exists", "forall", "~")


def find_tail(text: str, start: int) -> int:
    """Offset of the first tail keyword at the start of a line at or after `start`,
    or len(text) when there is none."""
    m = re.compile(r"^[ \t]*(locations\b|filter\b|exists\b|~\s*exists\b|forall\b)", re.M).search(
        text, start
    )
    return m.start(1) if m else len(text)


def parse_tail(
    text: str, start: int, path: str, norm: RegNormalizer = _identity_reg
) -> Tail:
    """Parse `locations [...]`, `filter P`, and the final condition from `start` to the end."""
    ts = TokenStream(text, tokenize(text, start, len(text), path), path)
    observed: list[Observable] = []
    filt: Prop | None = None
    cond: Condition | None = None
    while ts.peek().kind != "eof":
        t = ts.peek()
        if ts.accept("locations"):
            ts.expect("[", "'[' after 'locations'")
            while not ts.accept("]"):
                if ts.peek().kind == "eof":
                    raise ts.error(ts.peek(), "unterminated 'locations [...]'")
                observed.append(parse_observable(ts, norm))
                if not ts.at("]"):
                    ts.expect(";", "';' between locations")
        elif ts.accept("filter"):
            filt = parse_prop(ts, norm)
            ts.accept(";")  # herd tolerates a ';' after the filter and the condition
        elif t.text in ("exists", "~exists", "forall", "~"):
            if cond is not None:
                raise ts.error(t, "a second final condition")
            ts.next()
            kind = t.text
            if kind == "~":
                ts.expect("exists", "'exists' after '~'")
                kind = "~exists"
            prop = parse_prop(ts, norm)
            cond = Condition(kind, prop)  # type: ignore[arg-type]
            ts.accept(";")
        else:
            raise ts.error(t, f"unexpected {t.text!r}: expected 'locations', 'filter', 'exists', '~exists' or 'forall'")
    if cond is None:
        raise InputError(pos_of(text, len(text), path), "missing final condition ('exists', '~exists' or 'forall')")
    return Tail(cond, tuple(observed), filt)


# --------------------------------------------------------------------------- init block


@dataclass(frozen=True)
class InitBlock:
    """The init block: shared locations (name, initial value, C type if declared) in order
    of appearance, and initial register values per thread."""

    memory: tuple[tuple[str, Expr, str | None], ...]
    registers: tuple[tuple[int, str, Expr], ...]
    end: int  # offset just after the closing '}'


_TYPE_WORDS = frozenset(
    {"int", "long", "short", "char", "unsigned", "signed", "atomic_t", "atomic64_t",
     "spinlock_t", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t",
     "uint32_t", "uint64_t", "intptr_t", "uintptr_t", "void", "const", "volatile"}
)


def parse_init(text: str, start: int, path: str, norm: RegNormalizer = _identity_reg) -> InitBlock:
    """Parse `{ ... }` starting at the first '{' at or after `start`.

    Accepted items, separated by ';': `x=1`, `x=y` (pointer), `[x]=1`, `0:r=1`, `0:r=x`,
    `int x`, `int x=1`, `int *p=x`, `atomic_t v = ATOMIC_INIT(1)`, `uint64_t x`,
    `int 0:r` (a typed register).  Arrays are named as unsupported.
    """
    i = text.find("{", start)
    if i < 0:
        raise InputError(pos_of(text, start, path), "missing init block '{ ... }'")
    depth = 0
    j = i
    while j < len(text):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                break
        j += 1
    if depth != 0:
        raise InputError(pos_of(text, i, path), "unterminated init block '{'")
    ts = TokenStream(text, tokenize(text, i + 1, j, path), path)
    memory: dict[str, tuple[Expr, str | None]] = {}
    order: list[str] = []
    registers: list[tuple[int, str, Expr]] = []
    arrays: set[str] = set()
    while ts.peek().kind != "eof":
        if ts.accept(";"):
            continue
        ctype_words: list[str] = []
        while ts.peek().text in _TYPE_WORDS and ts.peek(1).text not in ("=", ";"):
            ctype_words.append(ts.next().text)
        pointer = False
        while ts.accept("*"):
            pointer = True
        ctype = " ".join(ctype_words) + ("*" if pointer else "") if ctype_words or pointer else None
        t = ts.peek()
        if t.kind == "num" and ts.peek(1).text == ":":
            ts.next()
            ts.next()
            r = ts.next()
            if r.kind != "id":
                raise ts.error(r, "expected a register name in the init block")
            tid = thread_id(ts, t)
            reg = norm(tid, r.text, ts.pos(r))
            value: Expr = Const(0)
            if ts.accept("="):
                value = _init_value(ts)
            registers.append((tid, reg, value))
        else:
            bracket = ts.accept("[")
            n = ts.next()
            if n.kind != "id":
                raise ts.error(n, f"expected a location name in the init block, found {n.text!r}")
            if bracket:
                ts.expect("]")
            if ts.at("["):
                for cell, v in _array(ts, n, ctype):
                    if cell not in memory:
                        order.append(cell)
                    memory[cell] = (v, ctype)
                    arrays.add(n.text)
                if ts.peek().kind != "eof":
                    ts.expect(";", "';' between init items")
                continue
            value = Const(0)
            if ts.accept("="):
                value = _init_value(ts)
            if n.text not in memory:
                order.append(n.text)
            memory[n.text] = (value, ctype)
        if ts.peek().kind != "eof":
            ts.expect(";", "';' between init items")
    def cell0(v: Expr) -> Expr:
        # An array's name as a value is the address of its first cell.
        return LocAddr(f"{v.name}[0]") if isinstance(v, LocAddr) and v.name in arrays else v

    return InitBlock(
        tuple((n, cell0(memory[n][0]), memory[n][1]) for n in order),
        tuple((t, r, cell0(v)) for t, r, v in registers),
        j + 1,
    )


def _array(ts: TokenStream, name: Token, ctype: str | None) -> list[tuple[str, Expr]]:
    """`t[N]` or `t[N] = {v0, v1, ...}`: one location per cell, named `t[i]`."""
    ts.expect("[")
    size = ts.next()
    if size.kind != "num" or not size.text.isdigit() or not 0 < int(size.text) <= 64:
        raise ts.error(size, f"expected an array size from 1 to 64 for '{name.text}'")
    ts.expect("]")
    if ctype is None:
        raise ts.error(name, f"array '{name.text}' needs an element type (e.g. int64_t)")
    values: list[Expr] = [Const(0)] * int(size.text)
    if ts.accept("="):
        ts.expect("{")
        k = 0
        while not ts.accept("}"):
            if k >= len(values):
                raise ts.error(ts.peek(), f"too many initial values for '{name.text}[{size.text}]'")
            values[k] = _init_value(ts)
            k += 1
            if not ts.at("}"):
                ts.expect(",", "',' between array values")
    return [(f"{name.text}[{i}]", v) for i, v in enumerate(values)]


def _init_value(ts: TokenStream) -> Expr:
    t = ts.peek()
    if ts.accept("ATOMIC_INIT"):
        ts.expect("(")
        v = _init_value(ts)
        ts.expect(")")
        return v
    if ts.accept("&"):
        n = ts.next()
        if n.kind != "id":
            raise ts.error(n, "expected a location name after '&'")
        return LocAddr(n.text)
    if ts.accept("-"):
        n = ts.next()
        if n.kind != "num":
            raise ts.error(n, "expected a number after '-'")
        return Const(-number(n.text))
    ts.next()
    if t.kind == "num":
        return Const(number(t.text))
    if t.kind == "id":
        return LocAddr(t.text)
    raise ts.error(t, f"expected an initial value, found {t.text or 'end of input'!r}")


_KEY_LINE = re.compile(r"[ \t]*[A-Za-z][\w-]*[ \t]*=[^\n]*")


def skip_preamble(text: str, start: int, path: str) -> int:
    """Offset of the init block's '{' after the header line: skips the optional doc string
    (`"PodWR Fre ..."`, which may contain braces) and `Key=value` lines (`Stable=X2`,
    `Hash=...`, `Generator=diy7 (version 7.57)`), which herd reads as metadata.  Comments
    must already be blanked."""
    i = start
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text[i] == '"':
            close = text.find('"', i + 1)
            if close < 0:
                raise InputError(pos_of(text, i, path), "unterminated doc string '\"'")
            i = close + 1
        elif text[i] == "{":
            return i
        else:
            m = _KEY_LINE.match(text, i)
            if not m:
                raise InputError(pos_of(text, i, path), "expected the init block '{ ... }'")
            i = m.end()
    raise InputError(pos_of(text, len(text), path), "missing init block '{ ... }'")


def header(text: str, path: str) -> tuple[str, str, int]:
    """The first line `ARCH NAME`: returns (arch, name, offset after the line)."""
    m = re.compile(r"\s*(\S+)[ \t]+(\S[^\n]*?)[ \t]*(?:\n|$)").match(text)
    if not m:
        raise InputError(Pos(path, 1, 1), "expected a header line 'ARCH NAME' (e.g. 'C MP+poonceonces')")
    return m.group(1), m.group(2), m.end()
