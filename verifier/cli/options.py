"""Command-line value types shared by the commands."""

from __future__ import annotations

import argparse
import math


def seconds(text: str) -> float:
    """A time limit: a finite, non-negative number of seconds (`nan`, `inf` and negative
    values would reach the solver as nonsense)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, found {text!r}") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"expected a finite, non-negative number of seconds, found {text!r}")
    return v


def megabytes(text: str) -> int:
    """A memory cap in megabytes: 0 for none, else at least 128 (below that Python and Z3
    cannot even start, and every test would end Unknown)."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of megabytes, found {text!r}")
    v = int(text)
    if 0 < v < 128:
        raise argparse.ArgumentTypeError(f"expected 0 (no cap) or at least 128 megabytes, found {text!r}")
    return v
