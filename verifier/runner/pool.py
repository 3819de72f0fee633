"""Long-lived worker processes that survive what a single test can do to them.

Why not `concurrent.futures.ProcessPoolExecutor`: one worker that dies (a solver crash, the
memory cap) breaks that whole pool, and it cannot stop one overrunning task.  Here each
worker owns a pipe; the parent waits on every pipe and every worker's sentinel with a
deadline, so it can

- hand out the next job as soon as a worker is free (workers keep Z3 and the parsed models
  loaded: no process per test),
- stop a worker past its job's deadline (SIGKILL) and replace it: the job is `timeout`,
- notice a worker that died and replace it: the job is `died`, never lost silently.

Workers poll for their parent so that a killed batch leaves no orphans behind.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.connection as mpc
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from verifier.runner.memory import cap_process, resident_mb

P = TypeVar("P")

_END = object()  # the end of the payloads

# How often an idle worker checks that its parent is still there (seconds).
_PARENT_POLL = 0.5


@dataclass(frozen=True)
class Finished(Generic[P]):
    """A job's end: the work function's result, or why there is none."""

    payload: P
    result: Any | None
    failure: str | None  # None, "timeout", "memory" or "died: ..."
    seconds: float
    # The worker's resident memory after the job (MB; 0 when unknown or the worker died).
    rss_mb: float = 0.0
    # Which worker slot ran it (0 .. workers-1; a replaced worker's successor keeps its slot).
    slot: int = 0


@dataclass(frozen=True)
class Limits:
    timeout: float | None  # wall-clock seconds per job, None: unlimited
    grace: float  # extra seconds the worker gets to answer Unknown itself before it is killed
    memory_mb: int | None  # address-space cap per worker, None: unlimited
    # A worker whose resident memory has grown past this (MB) is retired after its job and
    # replaced by a fresh one: Z3's context and Python's heap only grow over thousands of
    # tests, so this is what keeps a long batch's memory flat.  None: never.
    recycle_mb: float | None = None


def _context() -> Any:
    # fork starts a worker in milliseconds with everything already imported; spawn elsewhere.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _die_with_parent(parent: int) -> None:
    """On Linux, the kernel kills this worker when its parent dies (PR_SET_PDEATHSIG), even
    in the middle of a solver call: a `kill -9`ed batch leaves nothing running.  Elsewhere the
    worker notices between tasks (the poll below)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def _worker_main(conn: mpc.Connection, work: Callable[[Any], Any], memory_mb: int | None, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent(parent)
    cap_process(memory_mb)
    while True:
        while not conn.poll(_PARENT_POLL):
            if os.getppid() != parent:
                return
        try:
            payload = conn.recv()
        except EOFError:
            return
        if payload is None:
            return
        try:
            result = work(payload)
        except MemoryError:
            conn.send(("memory", None, resident_mb()))
            continue
        conn.send(("ok", result, resident_mb()))


class _Worker:
    def __init__(self, ctx: Any, work: Callable[[Any], Any], memory_mb: int | None) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, work, memory_mb, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.job: Any = None
        self.started = 0.0

    def retire(self) -> None:
        """Let an idle worker exit on its own (its memory goes back to the system)."""
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(timeout=2.0)
        self.stop()

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()


def run_pool(
    payloads: Iterable[P], work: Callable[[P], Any], *, workers: int, limits: Limits
) -> Iterator[Finished[P]]:
    """Run `work(payload)` for every payload on `workers` processes; yield each as it ends.
    Payloads are drawn as workers free up (a lazy iterable stays lazy: 100,000 tasks are
    never all in memory at once)."""
    ctx = _context()
    source = iter(payloads)
    # as many workers as there are first payloads, up to `workers`
    ahead = list(itertools.islice(source, max(1, workers)))
    queue = itertools.chain(ahead, source)
    pool = [_Worker(ctx, work, limits.memory_mb) for _ in range(max(1, min(workers, len(ahead))))]
    done = not ahead
    try:
        while True:
            for w in pool:
                if w.job is None and not done:
                    job = next(queue, _END)
                    if job is _END:
                        done = True
                        break
                    w.job, w.started = job, time.monotonic()
                    w.conn.send(w.job)
            busy = [w for w in pool if w.job is not None]
            if not busy:
                return
            wait_for: float | None = None
            if limits.timeout is not None:
                soonest = min(w.started for w in busy) + limits.timeout + limits.grace
                wait_for = max(0.0, soonest - time.monotonic())
            ready = set(mpc.wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], wait_for))
            now = time.monotonic()
            for i, w in enumerate(pool):
                if w.job is None:
                    continue
                job, spent = w.job, now - w.started
                if w.conn in ready or w.conn.poll():
                    try:
                        status, result, rss = w.conn.recv()
                    except (EOFError, OSError):
                        status, result, rss = "died", None, 0.0
                    if status != "died":
                        w.job = None
                        if limits.recycle_mb is not None and rss > limits.recycle_mb:
                            w.retire()
                            pool[i] = _Worker(ctx, work, limits.memory_mb)
                        yield Finished(job, result, None if status == "ok" else status, spent, rss, i)
                        continue
                elif w.proc.sentinel not in ready and not (
                    limits.timeout is not None and spent > limits.timeout + limits.grace
                ):
                    continue
                # The worker died or overran: replace it and report its job.
                w.stop()
                code = w.proc.exitcode
                if w.proc.sentinel in ready or (code is not None and code != -signal.SIGKILL):
                    why = f"died: worker exit status {code}" if code is None or code >= 0 else (
                        f"died: worker killed by signal {-code} ({signal.Signals(-code).name})"
                    )
                else:
                    why = "timeout"
                pool[i] = _Worker(ctx, work, limits.memory_mb)
                yield Finished(job, None, why, spent, 0.0, i)
    finally:
        for w in pool:
            try:
                if w.proc.is_alive() and w.job is None:
                    w.conn.send(None)
            except OSError:
                pass
        for w in pool:
            w.proc.join(timeout=1.0)
            w.stop()
