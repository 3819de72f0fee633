"""Mutants of the project's own litmus tests and models, checked in-process (issue 13).

Each example takes a source (a test under litmus/ or tests/litmus/, in every dialect and
both formats, or a model under encodings/), applies one to three operators of
tests/mutants.py, and runs `verifier check` on the result.  Whatever the mutant, the answer
is one of the documented ones (docs/bad-input.md):

- exit status 0, 1, 2 or 3;
- exit 2 comes with `file:line:col: ...` naming the mutated file;
- never a traceback, never `internal error`;
- within a time bound (`--timeout 10`, and the call itself under 30 s).

derandomize=True: every run tries the same examples (CI is reproducible); a failure prints
the source and the steps, which `tests.mutants.apply` replays.  bench/fuzz.py runs the same
mutants by the thousand, `check` and `batch` in processes.
"""

from __future__ import annotations

import contextlib
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import mutants
from verifier.analyses.registry import resolve_model
from verifier.cli.main import main

ROOT = mutants.ROOT
MODEL_TESTS = mutants.MODEL_TESTS
MODELS = ("sc", "x86-tso", "armv8")
TIMEOUT = "10"
WALL = 30.0

TESTS = mutants.litmus_sources()
CATS = mutants.model_sources()

# Operators as often as mutants.WEIGHTS says (the token and number ones find the most).
operators = st.sampled_from([name for name in sorted(mutants.OPERATORS) for _ in range(mutants.WEIGHTS[name])])
steps = st.lists(st.tuples(operators, st.integers(0, 2**32 - 1)),
                 min_size=1, max_size=3)
TESTS_EXAMPLES, MODEL_EXAMPLES = 600, 300  # about 18 s on one core together
FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class _Hang(Exception):
    pass


@contextlib.contextmanager
def _wall(seconds: float) -> Iterator[None]:
    """A hang is a failure, not a stuck CI job (SIGALRM: Python code; Z3 keeps --timeout)."""
    def ring(*_: object) -> None:
        raise _Hang(f"no answer within {seconds:.0f}s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_check(argv: list[str], capfd: pytest.CaptureFixture[str], *blamed: Path) -> tuple[int, str]:
    """`verifier check ARGV` in-process, held to the rules above; (status, stderr)."""
    capfd.readouterr()
    start = time.monotonic()
    with _wall(WALL + 5):
        status = main(argv)
    took = time.monotonic() - start
    out, err = capfd.readouterr()
    assert took < WALL, f"took {took:.1f}s"
    for text in (out, err):
        assert "Traceback" not in text and "internal error" not in text, text[-3000:]
    assert status in (0, 1, 2, 3), status
    if status == 2:
        where = "|".join(re.escape(str(p)) for p in blamed)
        assert re.search(rf"(?:{where}):\d+:\d+: ", err), err[-3000:]
    return status, err


@given(source=st.sampled_from(TESTS), steps=steps, model=st.sampled_from(MODELS))
@settings(FUZZ, max_examples=TESTS_EXAMPLES)
def test_mutated_tests(source: Path, steps: list[tuple[str, int]], model: str, tmp_path: Path,
                       capfd: pytest.CaptureFixture[str]) -> None:
    data = mutants.apply(source.read_bytes(), steps)
    path = tmp_path / f"M{mutants.suffix(source)}"
    path.write_bytes(data)
    run_check(["check", "--timeout", TIMEOUT, "--model", model, str(path)], capfd, path)


_counter = iter(range(1 << 62))


@given(source=st.sampled_from(CATS), steps=steps, test=st.sampled_from(MODEL_TESTS))
@settings(FUZZ, max_examples=MODEL_EXAMPLES)
def test_mutated_models(source: Path, steps: list[tuple[str, int]], test: tuple[str, str | None],
                        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    data = mutants.apply(source.read_bytes(), steps)
    # A folder per example: resolve_model caches by path.
    folder = tmp_path / str(next(_counter))
    folder.mkdir()
    cat = folder / "X.cat"
    cat.write_bytes(data)
    litmus, target = test
    argv = ["check", "--timeout", TIMEOUT, "--model", str(cat), str(ROOT / litmus)]
    if target is not None:
        argv += ["--target", target]
    try:
        # an error may be in a model the mutant includes (a name it no longer defines)
        run_check(argv, capfd, cat, ROOT / litmus, *CATS)
    finally:
        resolve_model.cache_clear()


def test_the_sources_cover_every_dialect() -> None:
    heads = {p.read_text().split(None, 1)[0] for p in TESTS if p.suffix == ".litmus"}
    assert {"C", "X86", "X86_64", "AArch64"} <= heads
    assert any(p.name.endswith(".litmus.yaml") for p in TESTS)
    assert {p.name for p in CATS} >= {"sc.cat", "x86-tso.cat", "armv8.cat"}


def test_mutants_are_deterministic() -> None:
    data = (ROOT / "litmus/classic/C-SB.litmus").read_bytes()
    assert mutants.mutate(7, data) == mutants.mutate(7, data)
    assert len({mutants.mutate(s, data) for s in range(50)}) > 40
    for name in mutants.OPERATORS:
        assert mutants.apply(data, [(name, 3)]) == mutants.apply(data, [(name, 3)])
