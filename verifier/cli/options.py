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
