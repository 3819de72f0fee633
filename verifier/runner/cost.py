"""A test's predicted cost, read from its text before any worker sees it, so that a batch
on several workers starts the long tests first and the workers finish together.

The cost of a check grows with the candidate executions, which grow with the events (each
read can read from every write to its location) and, steeply, with the threads (the
interleavings of their coherence choices).  The estimate is therefore events x threads,
counted on the text without parsing it: the thread headers (`P0(...)` in kernel C, the
`P0 | P1 | ...` row in assembly) and the statements (`;` in C, non-empty instruction cells
in assembly).  It only orders the work; a wrong estimate costs time, never a verdict.
Measured on the reference corpus in docs/scale.md.
"""

from __future__ import annotations

import os
import re
import stat

# How much of a file is read for its estimate: the thread bodies of any real test fit.
_READ = 1 << 20

_C_THREAD = re.compile(rb"^[ \t]*P\d+[ \t]*\(", re.M)
_ASM_HEADER = re.compile(rb"^[ \t]*P0[ \t]*\|.*$", re.M)
_ASM_ROW = re.compile(rb"^[^\n|]*\|[^\n]*;[ \t]*$", re.M)


def estimate(text: bytes) -> float:
    """events x threads, from a test's text (bytes: nothing is decoded)."""
    header = _ASM_HEADER.search(text)
    if header is not None:
        threads = len(re.findall(rb"P\d+", header.group()))
        rows = _ASM_ROW.findall(text, header.end())
        events = sum(1 for row in rows for cell in row.split(b"|") if cell.strip(b" \t;"))
    else:
        heads = list(_C_THREAD.finditer(text))
        threads = len(heads)
        events = text.count(b";", heads[0].start()) if heads else 0
    if threads == 0 or events == 0:  # the YAML format, or a text we cannot read this way
        threads, events = 2, max(1, len(text) // 40)
    return float(events * threads)


def predicted_cost(path: str) -> float:
    """The estimate for a file; 0.0 for what is not a readable regular file (its row, an
    error, comes at once)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return 0.0
        with open(path, "rb") as f:
            return estimate(f.read(_READ))
    except OSError:
        return 0.0
