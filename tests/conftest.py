"""Shared test settings: the agreement counter printed at the end of the run, and the
`slow` marker (tests that take minutes run with `--slow`; CI's default run stays lean)."""

from __future__ import annotations

from collections import Counter

import pytest

# Filled by tests/test_conformance.py; reported by the terminal summary below.
AGREEMENT: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if AGREEMENT["total"]:
        terminalreporter.write_line(
            f"herd7 conformance: {AGREEMENT['agree']}/{AGREEMENT['total']} (test, model) pairs agree "
            "(observation, final states and flags; herd7's output line for line)"
        )
    if AGREEMENT["set-total"]:
        terminalreporter.write_line(
            f"tests/litmus conformance set: {AGREEMENT['set-agree']}/{AGREEMENT['set-total']} agree with herd7, "
            f"{AGREEMENT['set-divergent']} documented herd7 divergences"
        )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False, help="also run the tests marked slow")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes minutes; runs with --slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
