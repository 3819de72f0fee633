"""Which files a batch checks: files, directories (recursively) and globs, in a stable order.

Discovery cannot hang: directories are walked without following symbolic links (a link
loop is not entered; glob's own `**`, which follows them, is not used), each real file is
taken once however many links reach it, and a FIFO, socket or device is listed like a file
so that it gets its `cannot read` row (`frontends.read_text` never opens one).  A folder that
cannot be listed (permissions, a folder removed mid-walk) is reported with the reason, never
skipped quietly: its tests would vanish from a CI run that still passes.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# What a directory contributes: herd-format litmus tests and the project's own YAML format
# (a `.yaml` file named directly is read too, but a directory's other YAML files are not tests).
SUFFIXES = (".litmus", ".litmus.yaml", ".litmus.yml")


@dataclass(frozen=True)
class Discovered:
    files: list[str]  # each real file once, in a stable order
    missing: list[str]  # the paths that name nothing
    unlisted: list[tuple[str, str]] = field(default_factory=list)  # (folder, why it cannot be listed)


def _unlisted(into: list[tuple[str, str]]) -> Callable[[OSError], None]:
    def note(e: OSError) -> None:
        into.append((str(e.filename), e.strerror or str(e)))

    return note


def _in_dir(d: Path, unlisted: list[tuple[str, str]]) -> list[str]:
    found: list[str] = []
    # Symbolic links to directories are not followed.
    for root, dirs, files in os.walk(d, onerror=_unlisted(unlisted)):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(SUFFIXES))
    return found


def _glob(pattern: str, unlisted: list[tuple[str, str]]) -> list[str]:
    """glob's matches, with `**` matched by our own walk (glob follows symbolic links to
    directories under `**`, and a link loop never ends)."""
    if "**" not in pattern:
        return sorted(glob.glob(pattern))
    parts = pattern.split("/")
    fixed = next(i for i, x in enumerate(parts) if glob.has_magic(x))
    base = "/".join(parts[:fixed]) or ("/" if pattern.startswith("/") else ".")
    rx = re.compile(_translate(pattern))
    out: list[str] = []
    for root, dirs, files in os.walk(base, onerror=_unlisted(unlisted)):
        dirs.sort()
        for name in [*dirs, *sorted(files)]:
            full = os.path.join(root, name)
            rel = full[2:] if base == "." and full.startswith("./") else full
            if rx.fullmatch(rel):
                out.append(rel)
    return out


def _translate(pattern: str) -> str:
    """A glob pattern as a regular expression: `**/` any number of folders, `*` and `?`
    within one path component, `[...]` as fnmatch reads it."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                out.append(re.escape(pattern[i]))
                i += 1
            else:
                out.append(fnmatch.translate(pattern[i : j + 1])[4:-3])  # fnmatch's (?s:...)\Z
                i = j + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def discover(paths: Sequence[str]) -> Discovered:
    """The files named by `paths`, each once, the paths that name nothing, and the folders
    that cannot be listed.

    A file named directly is taken whatever its suffix (it was asked for); directories and
    globs contribute only litmus files."""
    files: list[str] = []
    missing: list[str] = []
    unlisted: list[tuple[str, str]] = []
    for p in paths:
        if os.path.exists(p) and not os.path.isdir(p):
            found = [p]  # a file, or a FIFO or device named directly: its row says what it is
        elif os.path.isdir(p):
            found = _in_dir(Path(p), unlisted)
        elif glob.has_magic(p):
            found = []
            for m in _glob(p, unlisted):
                if os.path.isdir(m):
                    found.extend(_in_dir(Path(m), unlisted))
                elif m.endswith(SUFFIXES):
                    found.append(m)
        else:
            found = []
        if not found and not (unlisted and os.path.isdir(p)):
            missing.append(p)
        files.extend(os.path.normpath(f) for f in found)
    once: dict[str, str] = {}  # real path -> the first name that reached it
    for f in files:
        once.setdefault(os.path.realpath(f), f)
    return Discovered(list(once.values()), missing, list(dict.fromkeys(unlisted)))
