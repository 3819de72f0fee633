"""Writes the README's list of supported kernel C primitives from the one table,
`encodings/lkmm/kernel.def` (run after changing the table; `--check` says whether the README
is current, for the tests).

    python docs/make_primitives.py [--check]

Each section of the table (a comment block's first line) is one bullet; a primitive's
ordering variants are folded into one entry (`xchg{,_relaxed,_acquire,_release}`), and the
`atomic_long_*`/`atomic64_*` rows, which repeat the `atomic_*` ones, are summarised.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from generated import write_or_check  # docs/generated.py (this script's own folder)

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BEGIN = "<!-- primitives: generated from encodings/lkmm/kernel.def by docs/make_primitives.py -->"
END = "<!-- end of primitives -->"
_VARIANTS = ("_relaxed", "_acquire", "_release")


def sections(text: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    fresh = True  # the next comment line starts a section
    for line in text.splitlines():
        s = line.strip()
        if not s:
            fresh = True
            continue
        if s.startswith("//"):
            if fresh:
                title = re.split(r"[:;]", s.lstrip("/ "), maxsplit=1)[0].strip()
                out.append((title, []))
            fresh = False
            continue
        fresh = False
        name = re.match(r"[A-Za-z_]\w*", s)
        if name and out:
            out[-1][1].append(name.group())
    return [(title, names) for title, names in out if names]


def fold(names: list[str]) -> list[str]:
    """`x`, `x_relaxed`, `x_acquire`, `x_release` as one entry."""
    have = set(names)
    out: list[str] = []
    for n in names:
        if any(n.endswith(v) and n[: -len(v)] in have for v in _VARIANTS):
            continue
        variants = [v for v in _VARIANTS if n + v in have]
        out.append(f"`{n}{{,{','.join(variants)}}}`" if variants else f"`{n}`")
    return out


def render() -> str:
    text = (ROOT / "encodings" / "lkmm" / "kernel.def").read_text()
    lines = []
    total = 0
    for title, names in sections(text):
        total += len(names)
        base = [n for n in names if not n.startswith(("atomic_long_", "atomic64_"))]
        wide = len(names) - len(base)
        entry = ", ".join(fold(base)) if base else ""
        if wide:
            entry = (entry + "; " if entry else "") + (
                f"`atomic_long_*` and `atomic64_*` ({wide} primitives): each as the `atomic_*` one of the same name")
        lines.append(f"- *{title}:* {entry}")
    head = f"The table has {total} primitives (`encodings/lkmm/kernel.def`, one line each):"
    return "\n".join([BEGIN, head, "", *lines, END])


def main() -> int:
    readme = README.read_text()
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < 0:
        print(f"README.md lacks the markers {BEGIN} ... {END}", file=sys.stderr)
        return 2
    new = readme[:start] + render() + readme[end + len(END):]
    return write_or_check(README, new, check="--check" in sys.argv[1:], what="README.md's primitive list",
                          command="python docs/make_primitives.py")


if __name__ == "__main__":
    sys.exit(main())
