"""Shared test settings: the agreement counter printed at the end of the run."""

from __future__ import annotations

from collections import Counter

import pytest

# Filled by tests/test_conformance.py; reported by the terminal summary below.
AGREEMENT: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if AGREEMENT["total"]:
        terminalreporter.write_line(
            f"herd7 conformance: {AGREEMENT['agree']}/{AGREEMENT['total']} (test, model) pairs agree "
            "(observation, final states and flags)"
        )
    if AGREEMENT["set-total"]:
        terminalreporter.write_line(
            f"tests/litmus conformance set: {AGREEMENT['set-agree']}/{AGREEMENT['set-total']} agree with herd7, "
            f"{AGREEMENT['set-divergent']} documented herd7 divergences"
        )
