"""Deterministic mutation operators over the bytes of a source text (issue 13's fuzzing).

    mutate(seed, data) -> bytes            one to three operators chosen from the seed
    apply(data, [(name, seed), ...])       the named operators in order, each with its seed

Every operator is a function `(rng, data) -> bytes` registered in OPERATORS by name; the
same seed and data always give the same mutant (`random.Random(seed)`, no global state).
They work on bytes, so a mutant may be invalid UTF-8, hold a NUL or end mid-character.
Used by tests/test_fuzz.py (hypothesis draws the operator list, so it shrinks to fewer
steps) and bench/fuzz.py (thousands of seeds).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HUGE = b"9" * 5000
LONG_LINE = b"a" * 100_000

# Tokens that front ends and the model loader must meet with a positioned error (or a verdict).
NASTY: tuple[bytes, ...] = (
    b"(", b")", b"~", b"{", b"}", b";", b":", b"=", b"/\\", b"\\/", b"exists", b"0x", HUGE, b"1/0",
    b"<<", b"\0", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\n" + LONG_LINE + b"\n",
    LONG_LINE, b"P99", b"%", b"#", b"[", b"]",
    # a few more of the same kind: comments, strings, other separators, keywords
    b"(*", b"*)", b'"', b"|", b",", b"*", b"-", b"$", b"&", b"^", b"!", b"?", b"\t", b"\r", b"\n",
    b"forall", b"~exists", b"0:", b"99:", b"X99", b"$-1", b"-" + HUGE, b"0x" + b"f" * 40, b"1 >> 64",
    b"(" * 300, b"~" * 300, b"let", b"include", b"acyclic", b"P0", b"locations", b"filter", b"\xef\xbb\xbf",
)

NUMBERS: tuple[bytes, ...] = (
    HUGE, b"-" + HUGE, str(2**128).encode(), str(2**128 - 1).encode(), str(2**64).encode(),
    str(2**63).encode(), str(2**32).encode(), str(2**31).encode(), b"-1", b"-2147483649", b"0",
    b"99999", b"0x" + b"f" * 33, b"-0",
    # and small ones that keep a test well formed but change what it means
    b"1", b"2", b"3", b"7", b"8", b"31", b"32", b"63", b"64", b"65", b"127", b"128", b"255", b"256",
)

_NUMBER = re.compile(rb"\d+")
_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def delete_byte(rng: random.Random, data: bytes) -> bytes:
    """One byte gone (may split a UTF-8 character)."""
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + 1:]


def delete_span(rng: random.Random, data: bytes) -> bytes:
    """A run of up to 40 characters gone."""
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 40):]


def insert_printable(rng: random.Random, data: bytes) -> bytes:
    """One to eight random printable ASCII characters."""
    i = _pos(rng, data)
    junk = bytes(rng.randint(0x20, 0x7E) for _ in range(rng.randint(1, 8)))
    return data[:i] + junk + data[i:]


def insert_token(rng: random.Random, data: bytes) -> bytes:
    """A nasty token (NASTY), sometimes with a space on either side."""
    i = _pos(rng, data)
    tok = rng.choice(NASTY)
    if rng.random() < 0.3:
        tok = b" " + tok + b" "
    return data[:i] + tok + data[i:]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def duplicate_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    i = rng.randrange(len(lines))
    line = lines[i] if lines[i].endswith(b"\n") else lines[i] + b"\n"
    return b"".join(lines[:i] + [line] + lines[i:])


def delete_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    del lines[rng.randrange(len(lines))]
    return b"".join(lines)


def swap_lines(rng: random.Random, data: bytes) -> bytes:
    """Two lines (often neighbours) trade places."""
    lines = [x if x.endswith(b"\n") else x + b"\n" for x in _lines(data)]
    if len(lines) < 2:
        return data
    i = rng.randrange(len(lines))
    j = min(len(lines) - 1, i + 1) if rng.random() < 0.5 else rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:_pos(rng, data)]


def replace_number(rng: random.Random, data: bytes) -> bytes:
    """A number in the text becomes a huge, wide, negative or other small one (NUMBERS)."""
    found = list(_NUMBER.finditer(data))
    if not found:
        return insert_token(rng, data)
    m = rng.choice(found)
    return data[:m.start()] + rng.choice(NUMBERS) + data[m.end():]


def replace_identifier(rng: random.Random, data: bytes) -> bytes:
    """One identifier (or, a third of the time, each of its occurrences) becomes another
    identifier of the same text."""
    found = list(_IDENT.finditer(data))
    names = sorted({m.group() for m in found})
    if len(names) < 2:
        return delete_span(rng, data)
    m = rng.choice(found)
    other = rng.choice([n for n in names if n != m.group()])
    if rng.random() < 1 / 3:
        return re.sub(rb"\b" + re.escape(m.group()) + rb"\b", lambda _: other, data)
    return data[:m.start()] + other + data[m.end():]


OPERATORS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    f.__name__: f for f in (delete_byte, delete_span, insert_printable, insert_token, duplicate_line,
                             delete_line, swap_lines, truncate, replace_number, replace_identifier)
}
# How often mutate() picks each operator: the token and number operators find the most.
WEIGHTS: dict[str, int] = {"delete_byte": 2, "delete_span": 2, "insert_printable": 2, "insert_token": 5,
                           "duplicate_line": 1, "delete_line": 1, "swap_lines": 2, "truncate": 1,
                           "replace_number": 3, "replace_identifier": 3}


def apply(data: bytes, steps: Sequence[tuple[str, int]]) -> bytes:
    """The operators named in `steps`, in order, each with its own seed."""
    for name, seed in steps:
        data = OPERATORS[name](random.Random(seed), data)
    return data


def steps_of(seed: int, most: int = 3) -> list[tuple[str, int]]:
    """The (operator, seed) steps `mutate(seed, ...)` applies: one to `most`, fewer more often."""
    rng = random.Random(seed)
    names = sorted(OPERATORS)
    count = min(rng.choice((1, 1, 1, 2, 2, 3)), most) if most <= 3 else rng.randint(1, most)
    chosen = rng.choices(names, weights=[WEIGHTS[n] for n in names], k=count)
    return [(name, rng.getrandbits(32)) for name in chosen]


def mutate(seed: int, data: bytes, most: int = 3) -> bytes:
    """A mutant of `data`: the same for the same seed."""
    return apply(data, steps_of(seed, most))


def litmus_sources(root: Path = ROOT) -> list[Path]:
    """The litmus tests mutated: the project's library (litmus/: C, X86, AArch64, herd's
    format and YAML) and its conformance set (tests/litmus/: X86_64 too)."""
    found = [*root.glob("litmus/**/*.litmus"), *root.glob("litmus/**/*.litmus.yaml"),
             *root.glob("tests/litmus/**/*.litmus")]
    return sorted(p for p in found if p.is_file())


def model_sources(root: Path = ROOT) -> list[Path]:
    """The models mutated: every .cat under encodings/."""
    return sorted((root / "encodings").glob("*.cat"))


# Small tests a mutated model is checked on, one per dialect, and a C test under each
# kernel-c.tbl column (`--target`): (path from the root, target or None).
MODEL_TESTS: tuple[tuple[str, str | None], ...] = (
    ("litmus/classic/C-SB.litmus", None), ("litmus/classic/C-MP.litmus", "x86-64"),
    ("litmus/classic/C-MP.litmus", "arm64"), ("litmus/classic/X86-MP.litmus", None),
    ("litmus/classic/AArch64-MP.litmus", None))


def suffix(path: Path) -> str:
    """The suffix a mutant keeps so that it is read as its source is (`.litmus.yaml`)."""
    return ".litmus.yaml" if path.name.endswith(".litmus.yaml") else path.suffix
