"""The verifier as a library: the four jobs of the command line, as typed functions that return
the frozen results the command line prints (docs/api.md).

    import verifier
    v = verifier.check("litmus/classic/C-SB.litmus")            # under its dialect's model
    v.observation, v.states, v.witness                          # 'Sometimes', ..., the execution
    for row in verifier.runner(["litmus/gup"], models="lkmm,x86-tso", jobs=2):
        print(row["file"], row["model"], row["outcome"])

A test is a path, the text of a test (anything with a newline: herd's format, or the
project's YAML when `name` ends in `.yaml`), or an already parsed `Litmus`.  A model is a
name (`lkmm`, `sc`, `x86-tso`, `armv8`), a `.cat` or `.cfg` file, or "auto": each test
under its dialect's model.  Bad input raises `InputError` (its `str` is `file:line:col:
what`), a construct the engine does not model `Unsupported`, a bad model name `UsageError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from verifier.analyses.check import Verdict
from verifier.analyses.check import check as _check
from verifier.analyses.explain import Explanation
from verifier.analyses.explain import explain as _explain
from verifier.analyses.knobs import load_menu
from verifier.analyses.proof import Proof
from verifier.analyses.proof import prove as _prove
from verifier.analyses.registry import AUTO, ModelSpec, dialect_model, resolve_model
from verifier.analyses.synth import Synthesis, synthesize
from verifier.cli.batch import models_of, unlisted_rows
from verifier.errors import InputError, Pos, Unsupported, UsageError
from verifier.frontends import parse_file, parse_text
from verifier.program.ast import Litmus
from verifier.reports.rows import Row
from verifier.runner.discover import discover
from verifier.runner.run import default_workers, execute, plan

__all__ = ["Explanation", "InputError", "Litmus", "Proof", "Row", "Synthesis", "Unsupported", "UsageError",
           "Verdict", "batch", "check", "explain", "fences", "load", "prove"]

TestInput = str | Path | Litmus


def load(test: TestInput, *, name: str = "<text>.litmus") -> Litmus:
    """A parsed test: from a path, from a test's text (`name` says its format and is the
    file name errors give), or as given."""
    if isinstance(test, Litmus):
        return test
    if isinstance(test, str) and "\n" in test:
        return parse_text(test, name)
    return parse_file(str(test))


def _model(model: str | ModelSpec, test: Litmus) -> ModelSpec:
    spec = model if isinstance(model, ModelSpec) else resolve_model(
        dialect_model(test.arch) if model == AUTO else model)
    if not spec.applies_to(test.arch):
        raise InputError(Pos(test.path, 1, 1), f"model '{spec.name}' does not apply to {test.arch} tests")
    return spec


def check(test: TestInput, model: str | ModelSpec = AUTO, *, states: bool = False, timeout: float | None = 120.0,
          unroll: int | None = None) -> Verdict:
    """`verifier check`: the test's observation under `model` (Never with a proof: Z3 found no
    execution; else the witness), every reachable final state with `states`.  Past `timeout`
    seconds the observation is Unknown."""
    t = load(test)
    return _check(t, _model(model, t), want_states=states, timeout=timeout, unroll=unroll)


def prove(test: TestInput, model: str | ModelSpec = AUTO, *, timeout: float | None = 30.0,
          unroll: int | None = None) -> Proof:
    """Why a Never holds: the model's axioms it rests on (each whose removal alone makes the
    outcome reachable), a smallest set whose removal does, and for it the cycle (or pair)
    each of its axioms forbids in the execution the others allow.  `check --no-proof`
    leaves it out; `check` prints it under every Never."""
    t = load(test)
    return _prove(t, _model(model, t), timeout=timeout, unroll=unroll)


def fences(test: TestInput, model: str | ModelSpec = AUTO, *, all_solutions: bool = False,
           timeout: float | None = 120.0) -> Synthesis:
    """`verifier fences`: the cheapest set of fences and access upgrades from the dialect's menu
    (encodings/fences.yaml) that makes the test's bad outcome unreachable, proved optimal."""
    t = load(test)
    return synthesize(t, _model(model, t), load_menu(t.arch), all_solutions=all_solutions, timeout=timeout)


def explain(test: TestInput, model: str | ModelSpec = AUTO, *, timeout: float | None = 120.0) -> Explanation:
    """`verifier explain`: which of the test's ordering sources (barriers, annotations,
    dependencies) its Never rests on, and which are redundant."""
    t = load(test)
    return _explain(t, _model(model, t), load_menu(t.arch), timeout=timeout)


def batch(paths: Iterable[str | Path], models: str = AUTO, *, jobs: int | None = None, states: bool = False,
          timeout: float | None = 120.0, memory_mb: int | None = 2048, unroll: int | None = None) -> Iterator[Row]:
    """`verifier batch`: a row (the JSON object of `batch --json`) per (file, model), as each
    finishes, from worker processes that keep Z3 and the models loaded.  `paths` are files,
    folders (recursively) and globs; `models` a comma-separated list or "auto"."""
    given = models_of(models, None)
    found = discover([str(p) for p in paths])
    yield from unlisted_rows(found, given, set())
    tasks = plan(found, given, target=None, states=states, timeout=timeout, memory_mb=memory_mb, done=set(),
                 unroll=unroll, auto=models == AUTO)
    yield from (ran.row for ran in execute(tasks, workers=jobs or default_workers(), timeout=timeout,
                                           memory_mb=memory_mb))
