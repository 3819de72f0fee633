"""Errors that reach the user as `file:line:col: message` (exit status 2)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pos:
    """A position in a source file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


_LONGEST = 1000  # characters of a message before the middle is cut


class InputError(Exception):
    """Bad or unsupported input.  Always carries a position and names the problem."""

    def __init__(self, pos: Pos, message: str) -> None:
        if len(message) > _LONGEST:  # it quotes a huge token: keep both ends, say how long
            message = f"{message[:300]}...({len(message) - 400} characters)...{message[-100:]}"
        super().__init__(f"{pos}: {message}")
        self.pos = pos
        self.message = message


class UsageError(Exception):
    """A command-line mistake (unknown model name, missing file, ...)."""


class Unsupported(InputError):
    """Well-formed input that uses a construct the verifier does not handle (yet), named.

    Kept apart from malformed input so that batch runs can report "unsupported" rows, as the
    kernel's judgelitmus.sh does for macros its model does not know, rather than errors."""


def unsupported(e: InputError) -> Unsupported:
    """The same message and position, marked as an unsupported construct."""
    return Unsupported(e.pos, e.message)


def decode_utf8(data: bytes, path: str) -> str:
    """A file's bytes as text with universal newlines (as `Path.read_text` reads it);
    invalid UTF-8 is an error at the first bad byte's position."""
    try:
        return data.decode().replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise InputError(Pos(path, line, col), "not a text file (invalid UTF-8)") from None
