"""Discovery (runner/discover.py): lazy, and still each real file once under its first name.

The walk remembers directories and links, not files; these tests hold it to what a walk that
remembered every file would give (`_reference` below: the old list-based discovery, each file
by its device and inode, first name wins) on random trees of files, subfolders, symbolic links
to files and folders, hard links and overlapping arguments."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from verifier.runner.discover import SUFFIXES, _Walk, discover


def _reference(paths: list[str]) -> list[str]:
    names: list[str] = []
    for p in paths:
        if os.path.exists(p) and not os.path.isdir(p):
            names.append(p)
        elif os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                names.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(SUFFIXES))
    once: dict[object, str] = {}
    for n in names:
        try:
            st = os.stat(n)
            key: object = (st.st_dev, st.st_ino)
        except OSError:
            key = n
        once.setdefault(key, os.path.normpath(n))
    return list(once.values())


def _tree(root: Path, rng: random.Random) -> list[str]:
    """A random tree under root; the paths one might name (folders and files)."""
    folders = [root]
    for i in range(rng.randint(1, 4)):
        d = rng.choice(folders) / rng.choice(["a", "b", ".hid", "c"]) / str(i)
        d.mkdir(parents=True, exist_ok=True)
        folders.append(d)
    files: list[Path] = []
    for i in range(rng.randint(1, 8)):
        f = rng.choice(folders) / f"{rng.choice('0amz')}{i}.litmus"
        f.write_text("C t\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (x=1)\n")
        files.append(f)
    for i in range(rng.randint(0, 4)):
        link = rng.choice(folders) / f"{rng.choice('0amz')}l{i}.litmus"
        kind = rng.random()
        if kind < 0.5:
            link.symlink_to(rng.choice(files))
        elif kind < 0.8:
            os.link(rng.choice(files), link)
        else:
            (rng.choice(folders) / f"dl{i}").symlink_to(rng.choice(folders), target_is_directory=True)
    names = [str(d) for d in folders] + [str(f) for f in files]
    return [rng.choice(names) for _ in range(rng.randint(1, 4))]


def test_the_lazy_walk_takes_what_a_full_list_would(tmp_path: Path) -> None:
    rng = random.Random(17)
    for n in range(150):
        root = tmp_path / str(n)
        root.mkdir()
        paths = _tree(root, rng)
        found = discover(paths)
        assert list(found) == _reference(paths), paths
        assert len(found) == found.count == len(list(found))


def test_a_file_named_with_its_folder_is_taken_once_in_either_order(tmp_path: Path) -> None:
    (tmp_path / "SB.litmus").write_text("x")
    (tmp_path / "0.litmus").symlink_to("SB.litmus")  # met before its target in the listing
    one, two = str(tmp_path / "SB.litmus"), str(tmp_path)
    assert list(discover([one, two])) == [one]  # SB once, by the name that reached it first
    assert list(discover([two, one])) == [str(tmp_path / "0.litmus")]
    assert list(discover([two, two])) == [str(tmp_path / "0.litmus")] and not discover([two, two]).missing


def test_the_walk_remembers_folders_and_links_not_files(tmp_path: Path) -> None:
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        for i in range(500):
            (tmp_path / d / f"t{i}.litmus").write_text("x")
    (tmp_path / "a" / "alias.litmus").symlink_to(tmp_path / "b" / "t1.litmus")
    walk = _Walk([str(tmp_path)])
    assert sum(1 for _ in walk) == 1000
    assert len(walk.walked) == 3 and len(walk.linked) == 1


def test_a_dangling_link_met_twice_is_one_row(tmp_path: Path) -> None:
    (tmp_path / "SB.litmus").write_text("x")
    (tmp_path / "dangling.litmus").symlink_to("gone.litmus")
    found = discover([str(tmp_path / "*.litmus"), str(tmp_path)])
    assert sorted(Path(f).name for f in found) == ["SB.litmus", "dangling.litmus"] and found.count == 2


def test_the_subfolders_of_a_folder_that_cannot_be_searched_are_reported(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder we may read but not search (mode r--): its entries cannot be stat'ed, but the
    listing still says which are folders, and those are reported, not skipped quietly."""
    locked = tmp_path / "noexec"
    (locked / "inner").mkdir(parents=True)
    (locked / "a.litmus").write_text("x")
    (locked / "inner" / "b.litmus").write_text("x")
    for name in ("stat", "lstat"):  # faked: the tests may run as root, whom permissions do not stop
        real = getattr(os, name)

        def refusing(path: object, *args: object, real: object = real, **kw: object) -> object:
            if str(path).startswith(str(locked) + os.sep):
                raise PermissionError(13, "Permission denied", str(path))
            return real(path, *args, **kw)  # type: ignore[operator]

        monkeypatch.setattr(os, name, refusing)
    found = discover([str(tmp_path)])
    assert list(found) == [str(locked / "a.litmus")]  # its row will say it cannot be read
    assert found.unlisted == [(str(locked / "inner"), "Permission denied")]
