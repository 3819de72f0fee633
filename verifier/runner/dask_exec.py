"""The batch on a Dask cluster: the same per-pair function (`run.run_task`) on Dask's
distributed workers, for when one machine is not enough.

    verifier batch litmus/ --executor dask --scheduler tcp://host:8786
    verifier batch litmus/ --executor dask-local -j 4        # a LocalCluster of 4 processes

Rows, judgements, `--json` streaming and `--resume` are the local executor's (the CLI does
not know which ran).  What differs, and how it is made the same:
- timeouts: a Dask worker cannot be killed per task, so the limit is the solver's own (each
  task's `check` has the batch's timeout as its deadline); the parent also gives up on a task
  past timeout + grace, counted from when every older task has ended (Dask does not say
  when a task starts; see `_Flight`), and writes its `unknown` row (the task is cancelled);
- memory: each task's solver has the batch's `--memory` as its limit (Z3's own, so a test
  that blows up is an `unknown` row with reason `memory`, as locally; the address-space cap
  a local worker gets would bound the whole Dask worker, threads and all, so it is not set);
  the worker's own limit is Dask's (`memory_limit` of the LocalCluster, or the cluster's
  own): a worker past it is restarted by its nanny and its task rescheduled;
- a worker lost mid-task: Dask reruns the task elsewhere (so nothing is lost and, since the
  parent writes one row per pair, nothing is duplicated); a task whose workers keep dying
  (`KilledWorker`) is an `error` row for that pair only and the batch goes on.
Pairs travel in chunks: a Dask task costs the scheduler a few milliseconds (measured in
docs/scale.md), as much as a small check, so each task runs as many pairs as take about a
quarter of a second (from the pairs' times so far; the first go one by one).  A chunk that
fails as a whole (its workers lost, or overdue) is split: its pairs are resubmitted one by
one, so the row that says `error` or `unknown` is the guilty pair's alone.
At most a few tasks per worker are in flight, so 100,000 pairs are never all submitted.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from verifier.errors import UsageError
from verifier.reports.rows import Row, problem_row
from verifier.runner.memory import resident_mb, solver_cap
from verifier.runner.run import Ran, Task, run_task

# Tasks in flight per worker: enough to keep a worker busy between round trips.
_PER_WORKER = 4
# A chunk's target duration (seconds) and its largest size.
_CHUNK_SECONDS = 0.25
_CHUNK_MAX = 64


def _client(scheduler: str | None, workers: int, memory_mb: int | None) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--executor dask needs Dask: pip install 'verifier[dask]'") from None
    if scheduler is not None:
        try:
            return Client(scheduler, timeout=30), None
        except OSError as e:
            raise UsageError(f"cannot reach the Dask scheduler {scheduler}: {e}") from None
    cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                           memory_limit=f"{memory_mb}MB" if memory_mb else "auto", dashboard_address=None)
    return Client(cluster), cluster


def on_worker(chunk: tuple[Task, ...]) -> list[tuple[Row, str, float, float]]:
    """`run_task` on a Dask worker for each pair of a chunk: its row, the worker's address,
    the seconds it took and the worker's resident memory after it."""
    from distributed import get_worker

    where = str(get_worker().address)
    out = []
    for task in chunk:
        start = time.monotonic()
        if task.memory_mb is not None:
            solver_cap(task.memory_mb)
        row = run_task(task)
        out.append((row, where, time.monotonic() - start, resident_mb()))
    return out


def execute_dask(tasks: Iterable[Task], *, scheduler: str | None, workers: int, timeout: float | None,
                 memory_mb: int | None) -> Iterator[Ran]:
    """The tasks' rows from Dask workers, each chunk's as soon as it is known."""
    client, cluster = _client(scheduler, workers, memory_mb)
    try:
        slots = max(1, len(client.scheduler_info().get("workers", {})) or workers) * _PER_WORKER
        yield from _Flight(client, iter(tasks), slots, timeout, _first_done).rows()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _first_done(futures: list[Any], timeout: float | None) -> set[Any]:
    """The futures done once one is (or the timeout passed: perhaps none)."""
    from distributed import TimeoutError as DaskTimeout
    from distributed import wait

    try:
        return set(wait(futures, timeout=timeout, return_when="FIRST_COMPLETED").done)
    except DaskTimeout:
        return set()


class _Flight:
    """The chunks in flight on a cluster, and those to resubmit one pair at a time.

    When is a chunk overdue?  Dask cannot say when a task starts, and a running task is not
    stopped (a worker busy with a pair past its solver's deadline stays busy), so a chunk's
    clock cannot start at its submission: it may be waiting.  The chunks run in the order
    they were submitted, so the oldest in flight (the head) is surely running once every
    older one has ended: its clock starts then, and only the head can be overdue.  A waiting
    chunk is never taken for one that hangs; a hung one is found after its own budget."""

    def __init__(self, client: Any, pending: Iterator[Task], slots: int, timeout: float | None,
                 first_done: Callable[[list[Any], float | None], set[Any]]) -> None:
        self.client, self.pending, self.slots, self.timeout = client, pending, slots, timeout
        self.first_done = first_done
        self.grace = 0.0 if timeout is None else max(10.0, timeout / 4)
        # each chunk in flight, in submission order: its pairs and when it was submitted
        self.started: dict[Any, tuple[tuple[Task, ...], float]] = {}
        self.head: Any = None  # the oldest chunk in flight, and since when it has been that
        self.head_since = 0.0
        self.singles: deque[Task] = deque()  # pairs of a failed chunk, to run alone
        self.pairs, self.seconds = 0, 0.0  # pairs finished and their time: the chunk size

    def chunk_size(self) -> int:
        if self.pairs < self.slots:
            return 1
        return max(1, min(_CHUNK_MAX, int(_CHUNK_SECONDS / max(self.seconds / self.pairs, 1e-3))))

    def submit(self) -> None:
        while len(self.started) < self.slots:
            if self.singles:
                chunk: tuple[Task, ...] = (self.singles.popleft(),)
            else:
                chunk = tuple(itertools.islice(self.pending, self.chunk_size()))
                if not chunk:
                    break
            self.started[self.client.submit(on_worker, chunk, pure=False)] = (chunk, time.monotonic())
        self.new_head()

    def new_head(self) -> None:
        first = next(iter(self.started), None)
        if first is not self.head:
            self.head, self.head_since = first, time.monotonic()

    def deadline(self) -> float:
        """When the head is overdue."""
        if self.timeout is None or self.head is None:
            return float("inf")
        return self.head_since + len(self.started[self.head][0]) * self.timeout + self.grace

    def rows(self) -> Iterator[Ran]:
        self.submit()
        while self.started:
            # block until a chunk finishes, or until the head is overdue
            until = None if self.timeout is None else max(0.05, self.deadline() - time.monotonic())
            for f in self.first_done(list(self.started), until):
                chunk, since = self.started.pop(f)
                yield from self.ended(f, chunk, time.monotonic() - since)
            self.new_head()
            yield from self.overdue()
            self.submit()

    def ended(self, f: Any, chunk: tuple[Task, ...], seconds: float) -> Iterator[Ran]:
        try:
            results = f.result()
        except Exception as e:  # noqa: BLE001 - KilledWorker, a lost connection: split, or this pair only
            if len(chunk) > 1:
                self.singles.extend(chunk)
                return
            t = chunk[0]
            yield Ran(problem_row(t.file, t.model_name, "error", f"the Dask workers running it were lost "
                                  f"({type(e).__name__}: {e})", seconds=seconds), None, seconds, 0.0)
            return
        for row, worker, busy, rss in results:
            self.pairs, self.seconds = self.pairs + 1, self.seconds + busy
            yield Ran(dict(row), worker, busy, rss)

    def overdue(self) -> Iterator[Ran]:
        now = time.monotonic()
        if self.head is None or now <= self.deadline():
            return
        f = self.head
        chunk, since = self.started.pop(f)
        f.cancel()
        self.new_head()
        if len(chunk) > 1:
            self.singles.extend(chunk)
            return
        t = chunk[0]
        row = problem_row(t.file, t.model_name, "unknown", f"stopped after {now - since:.1f}s (--timeout "
                          f"{t.timeout}s)", seconds=now - since, reason="timeout")
        yield Ran(row, None, now - since, 0.0)
