"""A batch: every (file, model) pair checked on worker processes, each ending as one row.

The rows are `reports.rows` objects, the same as `check --json` prints, with an `outcome`
(pass, forgiven, fail, unjudged, unknown, unsupported, error).  Nothing here prints: the CLI
streams the rows to its sinks (JSON lines, progress, herd's format, pictures) as they come.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import z3

from verifier.analyses.check import check
from verifier.analyses.registry import ModelSpec, resolve_model
from verifier.batch.pool import Finished, Limits, run_pool
from verifier.errors import InputError, Unsupported, UsageError
from verifier.frontends import dialect_of, parse_file
from verifier.reports.rows import Row, problem_row, verdict_json

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

    def problem(outcome: str, message: str, reason: str | None = None) -> Row:
        return problem_row(task.file, task.model_name, outcome, message,
                           seconds=time.monotonic() - start, reason=reason)

    if task.memory_mb is not None:
        # Z3 gives up cleanly (Unknown) below the worker's hard address-space cap.
        z3.set_param("memory_max_size", max(64, task.memory_mb * 3 // 4))
    try:
        spec = resolve_model(task.model, task.target)
        test = parse_file(task.file)
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


def read_rows(path: str, *, repair: bool) -> list[Row]:
    """The complete rows a JSON-lines file holds.  A batch killed mid-write can leave a last
    line without its newline: it is ignored, and with `repair` cut off so appending continues
    on a clean line."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
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
        if not isinstance(row, dict) or "file" not in row or "model" not in row:
            raise UsageError(f"{path}:{n}:1: a row needs 'file' and 'model' (is this a `batch --json` file?)")
        rows.append(row)
    return rows


def key_of(row: Row) -> Key:
    return (str(row["file"]), str(row["model"]))


# --------------------------------------------------------------------------- plan and run


@dataclass(frozen=True)
class Plan:
    tasks: tuple[Task, ...]
    rows: tuple[Row, ...]  # decided without a worker: files whose header cannot be read
    skipped: int  # pairs whose dialect the model does not compile


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
) -> Plan:
    """The pairs to check: every file under every model that compiles its dialect, minus
    those `done` (already in the resumed file)."""
    tasks: list[Task] = []
    rows: list[Row] = []
    skipped = 0
    for f in files:
        try:
            arch = dialect_of(f)
        except (InputError, OSError) as e:
            msg = str(e) if isinstance(e, InputError) else f"{f}: cannot read: {e.strerror}"
            outcome = "unsupported" if isinstance(e, Unsupported) else "error"
            rows.extend(problem_row(f, spec.name, outcome, msg) for _, spec in models if (f, spec.name) not in done)
            continue
        for given, spec in models:
            if not spec.applies_to(arch):
                skipped += 1
            elif (f, spec.name) not in done:
                tasks.append(Task(f, given, spec.name, target, states, timeout, memory_mb, unroll))
    return Plan(tuple(tasks), tuple(rows), skipped)


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


def execute(p: Plan, *, workers: int, timeout: float | None, memory_mb: int | None) -> Iterator[Row]:
    """The plan's rows, each as soon as it is known."""
    yield from p.rows
    grace = 0.0 if timeout is None else max(2.0, timeout / 4)
    limits = Limits(timeout, grace, memory_mb)
    for end in run_pool(p.tasks, run_task, workers=workers, limits=limits):
        yield _row_of(end)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
