"""Pieces of herd's litmus format shared by every dialect.

- comments `(* ... *)` (nested, as in OCaml) are blanked out, keeping line/column positions;
- the kernel's `Result: Never|Sometimes|Always` comment (and this project's per-model form
  `Result(x86-tso): Never`) is read before blanking;
- tokens with positions, and the register-name normalizer each dialect supplies;
- the preamble between the header line and the init block (doc string, `Key=value` lines).

A small hand-written tokenizer keeps exact positions for `file:line:col` messages.  The init
block is read by `frontends.init`, the tail (locations, filter, condition) by
`frontends.condition`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import InputError, Pos

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


_RACE = re.compile(r"Result\s*:\s*\w+[ \t]+DATARACE\b")


def predicts_data_race(text: str) -> bool:
    """The kernel's `Result: Sometimes DATARACE` (its plain form only, as judgelitmus.sh
    reads it): LKMM's data-race flag is expected."""
    return _RACE.search(text) is not None


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
  | (?P<op>/\\|\\/|->|=>|~exists|==|!=|<>|<=|>=|[][{}();:=,~*&<>+|^!-])
  | (?P<str>"[^"\n]*")
    """,
    re.VERBOSE,
)


# A literal past 128 bits (39 decimal digits, 32 hexadecimal) is refused at its position,
# before Python's int conversion limit (4300 digits) or the solver could meet it.
_HUGE_NUMBER = re.compile(r"0[xX][0-9a-fA-F]{33,}|\d{40,}")


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
            big = _HUGE_NUMBER.search(m.group())
            if big:
                digits = len(big.group()) - (2 if big.group()[:2] in ("0x", "0X") else 0)
                raise InputError(pos_of(text, i + big.start(), path),
                                 f"a number of {digits} digits: at most 128 bits are accepted")
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


def identity_reg(tid: int, name: str, pos: Pos) -> str:
    return name


def within_threads(norm: RegNormalizer, count: int) -> RegNormalizer:
    """`norm`, refusing a thread the test does not have where the condition names it (the
    check used to come after parsing, with no position left to report)."""

    def checked(tid: int, name: str, pos: Pos) -> str:
        if not 0 <= tid < count:
            raise InputError(pos, f"no thread P{tid} in this test (threads are P0..P{count - 1})")
        return norm(tid, name, pos)

    return checked


def number(text: str) -> int:
    """A literal as herd reads it: hexadecimal with 0x, otherwise decimal (so `08` is 8)."""
    neg = text.startswith("-")
    digits = text[1:] if neg else text
    value = int(digits, 16) if digits[:2] in ("0x", "0X") else int(digits, 10)
    return -value if neg else value


KEY_LINE = re.compile(r"[ \t]*[A-Za-z][\w-]*[ \t]*=[^\n]*")


def skip_preamble(text: str, start: int, path: str) -> tuple[int, dict[str, str]]:
    """Offset of the init block's '{' after the header line, and the `Key=value` lines
    before it (`Stable=X2`, `Hash=...`, `Unroll=3`), which herd reads as metadata.  The doc
    string (`"PodWR Fre ..."`, which may contain braces) is skipped, and so, as herd7 does,
    is any other text before the init block.  Comments must already be blanked."""
    i = start
    info: dict[str, str] = {}
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text[i] == '"':
            close = text.find('"', i + 1)
            if close < 0:
                raise InputError(pos_of(text, i, path), "unterminated doc string '\"'")
            i = close + 1
        elif text[i] == "{":
            return i, info
        else:
            m = KEY_LINE.match(text, i)
            if m:
                key, _, value = m.group().partition("=")
                info[key.strip()] = value.strip()
                i = m.end()
            else:
                nl = text.find("\n", i)
                i = len(text) if nl < 0 else nl
    raise InputError(pos_of(text, len(text), path), "missing init block '{ ... }'")


def header(text: str, path: str) -> tuple[str, str, int]:
    """The first line `ARCH NAME`: returns (arch, name, offset after the line)."""
    m = re.compile(r"\s*(\S+)[ \t]+(\S[^\n]*?)[ \t]*(?:\n|$)").match(text)
    if not m:
        raise InputError(Pos(path, 1, 1), "expected a header line 'ARCH NAME' (e.g. 'C MP+poonceonces')")
    return m.group(1), test_name(m.group(2), path), m.end()


def test_name(written: str, path: str) -> str:
    """herd7's name of a test from its header (lib/splitter.mll): the first word, without a
    `.litmus` suffix; `--` stands for the file's own name.  (A `(texname)` or a doc string
    may follow the name; they are not part of it.)"""
    word = written.split()[0] if written.split() else written
    word = re.split(r"[(\"]", word)[0] or word
    if word == "--":
        return Path(path).stem
    return word.removesuffix(".litmus") or word
