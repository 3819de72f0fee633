"""The one rule of the generated documents (docs/make_*.py): `--check` says whether the file
is what the generator makes (exit 1 and the command to run if not); otherwise write it."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(target: Path, new: str, *, check: bool, what: str, command: str) -> int:
    if check:
        if not target.is_file() or target.read_text() != new:
            print(f"{what} is stale: run {command}", file=sys.stderr)
            return 1
        return 0
    target.write_text(new)
    return 0
