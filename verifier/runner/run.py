"""A batch: every (file, model) pair checked on worker processes, each ending as one row.

The rows are `reports.rows` objects, the same as `check --json` prints, with an `outcome`
(pass, forgiven, fail, unjudged, unknown, unsupported, error, skipped).  Nothing here prints:
the CLI streams the rows to its sinks (JSON lines, progress, herd's format, pictures) as they
come.

The parent never parses a test: each pair's worker parses the file with `check`'s parser, and
decides there whether the model applies to its dialect (a `skipped` row if not).  So a file
that would crash, hang or exhaust a parser does so under the worker's timeout and memory cap,
as that pair's row, and `batch` and `check` cannot read one file two ways.  (To order the
work, the parent counts threads and statements in the first megabyte of a regular file's
bytes, `cost.predicted_cost`: a regular expression, never a parse.)
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import IO

import z3

from verifier.analyses.check import check
from verifier.analyses.registry import AUTO, ModelSpec, dialect_model, resolve_model
from verifier.errors import InputError, Unsupported, UsageError
from verifier.frontends import parse_file
from verifier.reports.rows import Row, RowOutcome, problem_row, row_problem, verdict_json
from verifier.runner.cost import predicted_cost
from verifier.runner.discover import Discovered
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
    """The complete rows a JSON-lines file holds (see `iter_rows`)."""
    return list(iter_rows(path, repair=repair, option=option))


def iter_rows(path: str, *, repair: bool, option: str = "--resume") -> Iterator[Row]:
    """The complete rows a JSON-lines file holds, one at a time (a file of 100,000 rows is
    never all in memory).  A batch killed mid-write can leave a last line without its
    newline: it is ignored, and with `repair` cut off so appending continues on a clean line."""
    try:
        f = open(path, "r+b" if repair else "rb")
    except FileNotFoundError:
        return
    except OSError as e:
        raise UsageError(f"cannot read {path} ({option}): {e.strerror}") from None
    with f:
        if repair:
            _cut_partial_line(f)
        for n, raw in enumerate(f, 1):
            if not raw.endswith(b"\n"):
                return  # the partial last line
            line = raw.decode(errors="replace")
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise UsageError(f"{path}:{n}:1: not a JSON row (is this a `batch --json` file?)") from None
            problem = row_problem(row)
            if problem is not None:
                raise UsageError(f"{path}:{n}:1: {problem} (is this a `batch --json` file?)")
            yield row


def _cut_partial_line(f: IO[bytes]) -> None:
    """Truncate the file after its last newline (nothing if it ends with one), then rewind."""
    end = f.seek(0, os.SEEK_END)
    at, chunk = end, 1 << 16
    while at > 0:
        start = max(0, at - chunk)
        f.seek(start)
        newline = f.read(at - start).rfind(b"\n")
        if newline >= 0:
            cut = start + newline + 1
            break
        at = start
    else:
        cut = 0
    if cut < end:
        f.truncate(cut)
    f.seek(0)


def key_of(row: Row) -> Key:
    return (str(row["file"]), str(row["model"]))


# --------------------------------------------------------------------------- plan and run


# How many files the longest-first order looks at together: a batch of up to this many files
# runs in exactly that order; a bigger one decides within a window this size sliding over
# the files (a long file moves up to this many ahead of its place, short ones wait, and the
# last window drains longest first, so the batch still ends on the short tests).  Bounded
# memory: the window's paths, not the corpus's.
WINDOW = 2_000


@dataclass(frozen=True)
class Plan:
    """The pairs to check: every file under every model, minus those `done` (already in the
    resumed file), drawn lazily (a batch of 100,000 files never holds 100,000 tasks).
    `auto`: each file once, under its dialect's model (the worker reads the dialect), done
    when any of `models` has its row.  A file's pairs come together, the files in the order
    given, or longest first (`longest_first`)."""

    files: Sequence[str] | Discovered
    models: Sequence[tuple[str, ModelSpec]]
    target: str | None
    states: bool
    timeout: float | None
    memory_mb: int | None
    done: frozenset[Key]
    unroll: int | None = None
    auto: bool = False
    longest: bool = False
    recorded: Mapping[str, float] = field(default_factory=dict)  # a file's seconds in --history
    scale: float = 1.0  # seconds per unit of predicted cost

    def tasks_of(self, f: str) -> Iterator[Task]:
        if self.auto:
            if not any((f, spec.name) in self.done for _, spec in self.models):
                yield Task(f, AUTO, AUTO, self.target, self.states, self.timeout, self.memory_mb, self.unroll)
            return
        for given, spec in self.models:
            if (f, spec.name) not in self.done:
                yield Task(f, given, spec.name, self.target, self.states, self.timeout, self.memory_mb, self.unroll)

    def cost(self, f: str) -> float:
        return self.recorded[f] if f in self.recorded else predicted_cost(f) * self.scale

    def ordered(self) -> Iterator[str]:
        if not self.longest:
            yield from self.files
            return
        window: list[tuple[float, int, str]] = []  # a heap: the costliest first, then the order given
        for n, f in enumerate(self.files):
            heapq.heappush(window, (-self.cost(f), n, f))
            if len(window) > WINDOW:
                yield heapq.heappop(window)[2]
        while window:
            yield heapq.heappop(window)[2]

    def __iter__(self) -> Iterator[Task]:
        for f in self.ordered():
            yield from self.tasks_of(f)

    def __len__(self) -> int:
        if not self.done:
            return len(self.files) * (1 if self.auto else len(self.models))
        return sum(1 for f in self.files for _ in self.tasks_of(f))


def plan(
    files: Sequence[str] | Discovered,
    models: Sequence[tuple[str, ModelSpec]],
    *,
    target: str | None,
    states: bool,
    timeout: float | None,
    memory_mb: int | None,
    done: set[Key],
    unroll: int | None = None,
    auto: bool = False,
) -> Plan:
    return Plan(files, models, target, states, timeout, memory_mb, frozenset(done), unroll, auto)


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


@dataclass(frozen=True)
class Ran:
    """A pair's row, and where it ran: for the summary's per-worker lines, not the row's
    (rows are the same whichever worker or executor ran them)."""

    row: Row
    # "1", "2", ... locally (a replaced worker's successor keeps the number); Dask: the worker's
    # address; None when no worker answered (a Dask task given up on or lost)
    worker: str | None
    seconds: float  # the worker's time on it, from hand-out to answer
    rss_mb: float  # the worker's resident memory after it (0.0: unknown)


def execute(tasks: Iterable[Task], *, workers: int, timeout: float | None, memory_mb: int | None,
            recycle_mb: float | None = RECYCLE_MB) -> Iterator[Ran]:
    """The tasks' rows, each as soon as it is known."""
    grace = 0.0 if timeout is None else max(2.0, timeout / 4)
    limits = Limits(timeout, grace, memory_mb, recycle_mb)
    for end in run_pool(tasks, run_task, workers=workers, limits=limits):
        yield Ran(_row_of(end), str(end.slot + 1), end.seconds, end.rss_mb)


_SCALE_SAMPLE = 1_000  # recorded files whose predictions set the seconds per unit of predicted cost


def longest_first(work: Plan, history: Iterable[Row] | None = None) -> Plan:
    """`work` with the longest files first (within `WINDOW` files), so that the workers
    finish together instead of one finishing the longest test alone at the end.  A file's
    cost is the time its pairs took in `history` (rows of an earlier batch) or, for a file
    not there, its predicted cost (`cost.predicted_cost`, events x threads) scaled to seconds
    by the recorded files (the median ratio, over up to 1,000 of them); without history, the
    prediction alone."""
    recorded: dict[str, float] = {}
    for r in history or ():
        s = r.get("seconds")
        if isinstance(s, (int, float)):
            recorded[str(r["file"])] = recorded.get(str(r["file"]), 0.0) + float(s)
    # the scale from a sample (reading every recorded file first would delay a 100,000-file start)
    sample = itertools.islice(recorded.items(), _SCALE_SAMPLE)
    ratios = sorted(t / c for f, t in sample if (c := predicted_cost(f)) > 0)
    return replace(work, longest=True, recorded=recorded, scale=ratios[len(ratios) // 2] if ratios else 1.0)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
