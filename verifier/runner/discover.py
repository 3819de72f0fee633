"""Which files a batch checks: files, directories (recursively) and globs, in a stable order,
walked lazily: a folder of 100,000 tests is never a list of 100,000 paths in the parent.

Discovery cannot hang: directories are walked without following symbolic links (a link
loop is not entered; glob's own `**`, which follows them, is not used), each real file is
taken once however many links reach it (its first name in the walk's order), and a FIFO,
socket or device is listed like a file so that it gets its `cannot read` row
(`frontends.read_text` never opens one).  A folder that cannot be listed (permissions, a
folder removed mid-walk) is reported with the reason, never skipped quietly: its tests would
vanish from a CI run that still passes.

Taking each real file once without remembering every file: a file is known by its device
and inode.  A file met in a directory listing, not a symbolic link and with one name (one
hard link), can be met that way only once, because each directory is walked once (the
walked directories are remembered, by inode).  Only the other entries (symbolic links, files
with several hard links, files named directly or matched by a glob) are remembered, and a
file met both ways is recognised from either side: a listed file whose inode an earlier
entry took, or an entry whose one real name a finished listing (or the listing under way,
earlier in its order) took already.  So the memory is the directories and the links, not
the tests.  (A glob is the exception: its matches are listed, and remembered as files named
directly; for a corpus of 100,000 tests, name the folder.)
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

# What a directory contributes: herd-format litmus tests and the project's own YAML format
# (a `.yaml` file named directly is read too, but a directory's other YAML files are not tests).
SUFFIXES = (".litmus", ".litmus.yaml", ".litmus.yml")

Inode = tuple[int, int]  # (device, inode)


def _inode(st: os.stat_result) -> Inode:
    return (st.st_dev, st.st_ino)


class _Walk:
    """One walk over the paths, yielding each real file's first name; what it could not list
    and what named nothing are collected as it goes."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = paths
        self.missing: list[str] = []
        self.unlisted: list[tuple[str, str]] = []
        self.walked: set[Inode] = set()  # directories entered
        self.listed: set[Inode] = set()  # directories whose files have all been met
        self.linked: set[Inode] = set()  # files met as "other" entries (see the module's doc)
        self.listing: tuple[Inode, str] | None = None  # the directory being listed, the name met last

    def __iter__(self) -> Iterator[str]:
        for p in self.paths:
            met = False
            if os.path.exists(p) and not os.path.isdir(p):
                found: Iterator[tuple[str | None, Inode | None]] = iter([(p, None)])  # named directly
            elif os.path.isdir(p):
                found = self._in_dir(p)
            elif glob.has_magic(p):
                found = self._globbed(p)
            else:
                found = iter(())
            for f, key in found:
                met = True
                if f is not None and self._first(f, key):
                    yield os.path.normpath(f)
            if not met and not (self.unlisted and os.path.isdir(p)):
                self.missing.append(p)

    def _globbed(self, pattern: str) -> Iterator[tuple[str | None, Inode | None]]:
        for m in _glob(pattern, self._note):
            if os.path.isdir(m):
                yield from self._in_dir(m)
            elif m.endswith(SUFFIXES):
                yield m, None

    def _note(self, e: OSError) -> None:
        self.unlisted.append((str(e.filename), e.strerror or str(e)))

    def _in_dir(self, top: str) -> Iterator[tuple[str | None, Inode | None]]:
        """The litmus files under `top`, each with its inode if it is a one-name file (None
        otherwise); directories in name order, files before subdirectories; hidden
        directories and symbolic links to directories are not entered, nor a directory
        entered before (it yields (None, None) then: the path named something)."""
        try:
            key = _inode(os.stat(top))
        except OSError as e:
            self._note(e)
            return
        if key in self.walked:
            yield None, None
            return
        self.walked.add(key)
        names: list[str] = []  # the litmus-named entries; names only: 100,000 tests are 100,000 short strings
        subdirs: list[str] = []
        try:
            with os.scandir(top) as it:
                for entry in it:
                    try:  # the entry's type from the listing itself (no stat: a folder we may read
                        # but not search still shows its subfolders, which are then reported unlisted)
                        real_dir = entry.is_dir(follow_symlinks=False)
                    except OSError:
                        real_dir = False
                    if real_dir:
                        if not entry.name.startswith("."):
                            subdirs.append(entry.name)
                    elif entry.name.endswith(SUFFIXES):
                        names.append(entry.name)
        except OSError as e:
            self._note(e)
            return
        names.sort()
        subdirs.sort()
        for name in names:
            path = os.path.join(top, name)
            try:
                st: os.stat_result | None = os.lstat(path)
            except OSError:
                st = None  # gone meanwhile, or not searchable: a file, whose row will say so
            if st is not None and stat.S_ISLNK(st.st_mode) and os.path.isdir(path):
                continue  # a link to a folder is not entered
            self.listing = (key, name)
            one_name = st is not None and not stat.S_ISLNK(st.st_mode) and st.st_nlink == 1
            yield path, _inode(st) if st is not None and one_name else None
        self.listing = None
        self.listed.add(key)
        for d in subdirs:
            yield from self._in_dir(os.path.join(top, d))

    def _first(self, path: str, listed: Inode | None) -> bool:
        """Whether this is the first time the walk meets the file (`listed`: the inode of a
        one-name file met in a listing)."""
        if listed is not None:
            return listed not in self.linked
        try:
            st = os.stat(path)
        except OSError:
            try:  # a dangling link (or a loop): known by the link itself, its row says why
                st = os.lstat(path)
            except OSError:
                return True  # gone: its row says so
        key = _inode(st)
        if key in self.linked:
            return False
        self.linked.add(key)
        return not self._listed_already(path, st)

    def _listed_already(self, path: str, st: os.stat_result) -> bool:
        """Whether a listing met this file, by its one real name, before now."""
        if st.st_nlink != 1 or stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode):
            return False  # several names (each an "other" entry, caught by `linked`), or a dangling link
        real = os.path.realpath(path)
        folder, name = os.path.split(real)
        if not name.endswith(SUFFIXES):
            return False
        try:
            where = _inode(os.stat(folder))
        except OSError:
            return False
        if where in self.listed:
            return True
        return self.listing is not None and self.listing[0] == where and name < self.listing[1]


def _glob(pattern: str, note: Callable[[OSError], None]) -> list[str]:
    """glob's matches, with `**` matched by our own walk (glob follows symbolic links to
    directories under `**`, and a link loop never ends)."""
    if "**" not in pattern:
        return sorted(glob.glob(pattern))
    parts = pattern.split("/")
    fixed = next(i for i, x in enumerate(parts) if glob.has_magic(x))
    base = "/".join(parts[:fixed]) or ("/" if pattern.startswith("/") else ".")
    rx = re.compile(_translate(pattern))
    out: list[str] = []
    for root, dirs, files in os.walk(base, onerror=note):
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


@dataclass(frozen=True)
class Discovered:
    """The files `paths` name, walked again each time it is iterated (lazily, in the same
    stable order).  `count`, `missing` and `unlisted` come from the first walk, made when it
    was discovered; a tree that changes meanwhile is walked as it is then."""

    paths: tuple[str, ...]
    count: int  # how many files
    missing: list[str]  # the paths that name nothing
    unlisted: list[tuple[str, str]] = field(default_factory=list)  # (folder, why it cannot be listed)

    def __iter__(self) -> Iterator[str]:
        return iter(_Walk(self.paths))

    def __len__(self) -> int:
        return self.count

    @property
    def files(self) -> list[str]:
        """All the files, as a list (for the jobs that keep a row per file anyway)."""
        return list(self)


def discover(paths: Sequence[str]) -> Discovered:
    """The files named by `paths`, each once, the paths that name nothing, and the folders
    that cannot be listed.

    A file named directly is taken whatever its suffix (it was asked for); directories and
    globs contribute only litmus files."""
    walk = _Walk(tuple(paths))
    count = sum(1 for _ in walk)
    return Discovered(tuple(paths), count, walk.missing, list(dict.fromkeys(walk.unlisted)))
