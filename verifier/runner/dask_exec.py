"""The batch on a Dask cluster: the same per-pair function (`run.run_task`) on Dask's
distributed workers, for when one machine is not enough.

    verifier batch litmus/ --executor dask --scheduler tcp://host:8786
    verifier batch litmus/ --executor dask-local -j 4        # a LocalCluster of 4 processes

Rows, judgements, `--json` streaming and `--resume` are the local executor's (the CLI does
not know which ran).  What differs, and how it is made the same:
- timeouts: a Dask worker cannot be killed per task, so the limit is the solver's own (each
  task's `check` has the batch's timeout as its deadline); the parent also gives up on a task
  past timeout + grace and writes its `unknown` row (the task is cancelled);
- memory: each task's solver has the batch's `--memory` as its limit (Z3's own, so a test
  that blows up is an `unknown` row with reason `memory`, as locally; the address-space cap
  a local worker gets would bound the whole Dask worker, threads and all, so it is not set);
  the worker's own limit is Dask's (`memory_limit` of the LocalCluster, or the cluster's
  own): a worker past it is restarted by its nanny and its task rescheduled;
- a worker lost mid-task: Dask reruns the task elsewhere (so nothing is lost and, since the
  parent writes one row per task, nothing is duplicated); a task whose workers keep dying
  (`KilledWorker`) is an `error` row for that pair only and the batch goes on.
At most a few tasks per worker are in flight, so 100,000 pairs are never all submitted.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from verifier.errors import UsageError
from verifier.reports.rows import Row, problem_row
from verifier.runner.memory import solver_cap
from verifier.runner.pool import resident_mb
from verifier.runner.run import Ran, Task, run_task

# Tasks in flight per worker: enough to keep a worker busy between round trips.
_PER_WORKER = 4


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


def on_worker(task: Task) -> tuple[Row, str, float, float]:
    """`run_task` on a Dask worker: its row, the worker's address, the seconds it took and
    the worker's resident memory after it."""
    from distributed import get_worker

    start = time.monotonic()
    if task.memory_mb is not None:
        solver_cap(task.memory_mb)
    row = run_task(task)
    return row, str(get_worker().address), time.monotonic() - start, resident_mb()


def execute_dask(tasks: Iterable[Task], *, scheduler: str | None, workers: int, timeout: float | None,
                 memory_mb: int | None) -> Iterator[Ran]:
    """The tasks' rows from Dask workers, each as soon as it is known."""
    from distributed import as_completed

    client, cluster = _client(scheduler, workers, memory_mb)
    try:
        slots = max(1, len(client.scheduler_info().get("workers", {})) or workers) * _PER_WORKER
        grace = 0.0 if timeout is None else max(10.0, timeout / 4)
        pending = iter(tasks)
        started: dict[Any, tuple[Task, float]] = {}
        running = as_completed()

        def submit() -> bool:
            t = next(pending, None)
            if t is None:
                return False
            f = client.submit(on_worker, t, pure=False)
            started[f] = (t, time.monotonic())
            running.add(f)
            return True

        for _ in range(slots):
            if not submit():
                break
        while started:
            batch = running.next_batch(block=False) if timeout is not None else [next(running)]
            if not batch:
                time.sleep(0.05)
                yield from _overdue(started, timeout, grace, submit)
                continue
            for f in batch:
                if f not in started:
                    continue  # given up on already (overdue)
                t, since = started.pop(f)
                yield _row(f, t, time.monotonic() - since)
                submit()
            yield from _overdue(started, timeout, grace, submit)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _overdue(started: dict[Any, tuple[Task, float]], timeout: float | None, grace: float,
             submit: Any) -> Iterator[Ran]:
    if timeout is None:
        return
    now = time.monotonic()
    for f, (t, since) in list(started.items()):
        if now - since > timeout + grace:
            del started[f]
            f.cancel()
            row = problem_row(t.file, t.model_name, "unknown", f"stopped after {now - since:.1f}s (--timeout "
                              f"{t.timeout}s)", seconds=now - since, reason="timeout")
            yield Ran(row, None, now - since, 0.0)
            submit()


def _row(f: Any, t: Task, seconds: float) -> Ran:
    try:
        row, worker, busy, rss = f.result()
        return Ran(dict(row), worker, busy, rss)
    except Exception as e:  # noqa: BLE001 - KilledWorker, a lost connection: this pair only
        return Ran(problem_row(t.file, t.model_name, "error", f"the Dask workers running it were lost "
                               f"({type(e).__name__}: {e})", seconds=seconds), None, seconds, 0.0)
