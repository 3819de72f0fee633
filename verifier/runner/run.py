"""A batch: every (file, model) pair checked on worker processes, each ending as one row.

The rows are `reports.rows` objects, the same as `check --json` prints, with an `outcome`
(pass, forgiven, fail, unjudged, unknown, unsupported, error, skipped).  Nothing here prints:
the CLI streams the rows to its sinks (JSON lines, progress, herd's format, pictures) as they
come.

The parent never reads a test: each pair's worker parses the file with `check`'s parser, and
decides there whether the model applies to its dialect (a `skipped` row if not).  So a file
that would crash, hang or exhaust a parser does so under the worker's timeout and memory cap,
as that pair's row, and `batch` and `check` cannot read one file two ways.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import z3

from verifier.analyses.check import check
from verifier.analyses.registry import AUTO, ModelSpec, dialect_model, resolve_model
from verifier.errors import InputError, Unsupported, UsageError
from verifier.frontends import parse_file
from verifier.reports.rows import Row, RowOutcome, problem_row, row_problem, verdict_json
from verifier.runner.pool import Finished, Limits, run_pool

Key = tuple[str, str]  # (file, model name): one row each


@dataclass(frozen=True)
class Task:
    """One (file, model) pair, as a worker receives it (plain data: it crosses a pipe)."""

    file: str
    model: str  # as the user gave it: a model name or a .cat path (resolved in the worker)
    model_name: str  # the row's model name
    target: str | None
    states: bool
    timeout: float | None
    memory_mb: int | None
    unroll: int | None = None


def run_task(task: Task) -> Row:
    """Check one pair; runs in a worker.  Every way a check can end becomes a row."""
    start = time.monotonic()

    def problem(outcome: RowOutcome, message: str, reason: str | None = None) -> Row:
        return problem_row(task.file, task.model_name, outcome, message,
                           seconds=time.monotonic() - start, reason=reason)

    try:
        if task.model == AUTO:
            test = parse_file(task.file)
            spec = resolve_model(dialect_model(test.arch), task.target)
        else:
            spec = resolve_model(task.model, task.target)
            test = parse_file(task.file)
        if not spec.applies_to(test.arch):
            return problem("skipped", f"the model {spec.name} does not apply to {test.arch} tests")
        verdict = check(test, spec, want_states=task.states, timeout=task.timeout, unroll=task.unroll)
    except Unsupported as e:
        return problem("unsupported", str(e))
    except InputError as e:
        return problem("error", str(e))
    except OSError as e:
        return problem("error", f"{task.file}: cannot read: {e.strerror}")
    except UsageError as e:
        return problem("error", str(e))
    except MemoryError:
        return problem("unknown", "the worker's memory cap was reached (--memory)", "memory")
    except z3.Z3Exception as e:
        if "memory" in str(e).lower():
            return problem("unknown", "Z3 reached the memory cap (--memory)", "memory")
        return problem("error", f"internal error (Z3): {e} (please report; no verdict was given)")
    except Exception as e:  # noqa: BLE001 - a bug of ours: an error row, never a verdict
        return problem("error", f"internal error: {type(e).__name__}: {e} (please report; no verdict was given)")
    row = verdict_json(verdict)
    if verdict.observation == "Unknown":
        row["reason"] = verdict.unknown_reason or "timeout"
    return row


# --------------------------------------------------------------------------- resume


def read_rows(path: str, *, repair: bool, option: str = "--resume") -> list[Row]:
    """The complete rows a JSON-lines file holds.  A batch killed mid-write can leave a last
    line without its newline: it is ignored, and with `repair` cut off so appending continues
    on a clean line."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise UsageError(f"cannot read {path} ({option}): {e.strerror}") from None
    end = data.rfind(b"\n") + 1
    if repair and end < len(data):
        with open(path, "r+b") as f:
            f.truncate(end)
    rows: list[Row] = []
    for n, line in enumerate(data[:end].decode(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise UsageError(f"{path}:{n}:1: not a JSON row (is this a `batch --json` file?)") from None
        problem = row_problem(row)
        if problem is not None:
            raise UsageError(f"{path}:{n}:1: {problem} (is this a `batch --json` file?)")
        rows.append(row)
    return rows


def key_of(row: Row) -> Key:
    return (str(row["file"]), str(row["model"]))


# --------------------------------------------------------------------------- plan and run


def plan(
    files: Sequence[str],
    models: Sequence[tuple[str, ModelSpec]],
    *,
    target: str | None,
    states: bool,
    timeout: float | None,
    memory_mb: int | None,
    done: set[Key],
    unroll: int | None = None,
    auto: bool = False,
) -> tuple[Task, ...]:
    """The pairs to check: every file under every model, minus those `done` (already in the
    resumed file).  `auto`: each file once, under its dialect's model (the worker reads the
    dialect), done when any of `models` has its row."""
    if auto:
        return tuple(Task(f, AUTO, AUTO, target, states, timeout, memory_mb, unroll)
                     for f in files if not any((f, spec.name) in done for _, spec in models))
    return tuple(Task(f, given, spec.name, target, states, timeout, memory_mb, unroll)
                 for f in files for given, spec in models if (f, spec.name) not in done)


def _row_of(end: Finished[Task]) -> Row:
    t = end.payload
    if end.result is not None:
        return dict(end.result)
    if end.failure == "timeout":
        return problem_row(t.file, t.model_name, "unknown",
                           f"stopped after {end.seconds:.1f}s (--timeout {t.timeout}s)",
                           seconds=end.seconds, reason="timeout")
    if end.failure == "memory":
        return problem_row(t.file, t.model_name, "unknown", "the worker's memory cap was reached (--memory)",
                           seconds=end.seconds, reason="memory")
    return problem_row(t.file, t.model_name, "error", f"{end.failure}; the worker was replaced", seconds=end.seconds)


# A worker is replaced once its resident memory passes this (MB): see `Limits.recycle_mb`.
RECYCLE_MB = 400.0


def execute(tasks: Sequence[Task], *, workers: int, timeout: float | None, memory_mb: int | None,
            recycle_mb: float | None = RECYCLE_MB) -> Iterator[Row]:
    """The tasks' rows, each as soon as it is known."""
    grace = 0.0 if timeout is None else max(2.0, timeout / 4)
    limits = Limits(timeout, grace, memory_mb, recycle_mb)
    for end in run_pool(tasks, run_task, workers=workers, limits=limits):
        yield _row_of(end)


def longest_first(tasks: Sequence[Task], history: Sequence[Row]) -> tuple[Task, ...]:
    """`tasks` with the longest first, by the time each (file, model) took in `history` (rows
    of an earlier batch), so that the workers finish together instead of one finishing the
    longest test alone at the end.  A pair with no recorded time counts as the median one."""
    seconds: dict[tuple[str, str], float] = {}
    by_file: dict[str, float] = {}
    for r in history:
        s = r.get("seconds")
        if isinstance(s, (int, float)):
            seconds[(str(r["file"]), str(r["model"]))] = float(s)
            by_file[str(r["file"])] = max(by_file.get(str(r["file"]), 0.0), float(s))
    known = sorted(seconds.values())
    median = known[len(known) // 2] if known else 0.0

    def cost(t: Task) -> float:
        return seconds.get((t.file, t.model_name), by_file.get(t.file, median) if t.model == AUTO else median)

    return tuple(sorted(tasks, key=cost, reverse=True))  # stable: equal costs keep their order


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
