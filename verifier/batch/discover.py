"""Which files a batch checks: files, directories (recursively) and globs, in a stable order."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

# What a directory contributes: herd-format litmus tests and the project's own YAML format
# (a `.yaml` file named directly is read too, but a directory's other YAML files are not tests).
SUFFIXES = (".litmus", ".litmus.yaml", ".litmus.yml")


def _in_dir(d: Path) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(d):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(SUFFIXES))
    return found


def discover(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """The files named by `paths`, each once, and the paths that name nothing.

    A file named directly is taken whatever its suffix (it was asked for); directories and
    globs contribute only litmus files."""
    files: list[str] = []
    missing: list[str] = []
    for p in paths:
        if os.path.isfile(p):
            found = [p]
        elif os.path.isdir(p):
            found = _in_dir(Path(p))
        elif glob.has_magic(p):
            found = []
            for m in sorted(glob.glob(p, recursive=True)):
                if os.path.isdir(m):
                    found.extend(_in_dir(Path(m)))
                elif m.endswith(SUFFIXES):
                    found.append(m)
        else:
            found = []
        if not found:
            missing.append(p)
        files.extend(os.path.normpath(f) for f in found)
    return list(dict.fromkeys(files)), missing
