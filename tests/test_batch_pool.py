"""The worker pool keeps going whatever one job does: overruns, crashes, memory."""

from __future__ import annotations

import os
import time

from verifier.runner.pool import Limits, run_pool


def _work(job: tuple[str, float]) -> str:
    what, arg = job
    if what == "sleep":
        time.sleep(arg)
    elif what == "die":
        os._exit(7)
    elif what == "kill":
        os.kill(os.getpid(), 9)
    elif what == "hog":
        _ = bytearray(int(arg) * 1024 * 1024)
    return f"{what} done in pid {os.getpid()}"


def _run(jobs: list[tuple[str, float]], **kw: object) -> dict[tuple[str, float], tuple[object, str | None]]:
    limits = Limits(kw.get("timeout"), 0.2, kw.get("memory_mb"))  # type: ignore[arg-type]
    out = {}
    for end in run_pool(jobs, _work, workers=int(kw.get("workers", 2)), limits=limits):  # type: ignore[call-overload]
        out[end.payload] = (end.result, end.failure)
    return out


def test_every_job_ends_once_in_a_row() -> None:
    jobs = [("ok", float(i)) for i in range(20)]
    out = _run(jobs, workers=3)
    assert set(out) == set(jobs)
    assert all(failure is None and str(result).startswith("ok done") for result, failure in out.values())


def test_workers_are_reused_not_one_process_per_job() -> None:
    out = _run([("ok", float(i)) for i in range(12)], workers=2)
    pids = {str(r).rsplit(" ", 1)[1] for r, _ in out.values()}
    assert len(pids) <= 2


def test_an_overrun_is_stopped_and_the_batch_goes_on() -> None:
    jobs = [("sleep", 30.0), ("ok", 1.0), ("ok", 2.0), ("ok", 3.0)]
    start = time.monotonic()
    out = _run(jobs, workers=1, timeout=0.5)
    assert time.monotonic() - start < 10
    assert out[("sleep", 30.0)] == (None, "timeout")
    assert all(out[j][1] is None for j in jobs[1:])


def test_a_dead_worker_is_replaced_and_its_job_reported() -> None:
    jobs = [("die", 0.0), ("kill", 0.0), ("ok", 1.0), ("ok", 2.0)]
    out = _run(jobs, workers=1, timeout=20.0)
    assert out[("die", 0.0)][1] == "died: worker exit status 7"
    failure = out[("kill", 0.0)][1]
    assert failure is not None and failure.startswith("died: worker killed by signal 9")
    assert all(out[j][1] is None for j in jobs[2:])


def test_the_memory_cap_turns_into_a_memory_failure() -> None:
    jobs = [("hog", 4096.0), ("ok", 1.0)]
    out = _run(jobs, workers=1, timeout=20.0, memory_mb=1024)
    assert out[("hog", 4096.0)] == (None, "memory")
    assert out[("ok", 1.0)][1] is None


_ORPHAN_PARENT = """
import os, sys, time
sys.path.insert(0, {root!r})
from verifier.runner.pool import Limits, run_pool

def work(job):
    open({pids!r}, "a").write(f"{{os.getpid()}}\\n")
    time.sleep(60)  # busy: the worker is inside a job when its parent dies
    return job

for _ in run_pool([1, 2], work, workers=2, limits=Limits(None, 0.2, None)):
    pass
"""


def test_workers_die_with_a_killed_parent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`kill -9` of a batch leaves no worker running (Linux: PR_SET_PDEATHSIG), even one in
    the middle of a job."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    pids = tmp_path / "pids"
    script = _ORPHAN_PARENT.format(root=str(Path(__file__).resolve().parents[1]), pids=str(pids))
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 20
        while (not pids.exists() or len(pids.read_text().split()) < 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = [int(x) for x in pids.read_text().split()]
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()

    def alive(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except FileNotFoundError:
            return False
        return state != "Z"

    deadline = time.monotonic() + 5
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in workers), "a worker outlived its killed parent"


_KEPT: list[bytearray] = []


def _grow(job: int) -> int:
    """Keeps 30 MB per job alive in the worker: memory that only a new process gives back."""
    _KEPT.append(bytearray(30 * 1024 * 1024))
    for k in range(0, len(_KEPT[-1]), 4096):
        _KEPT[-1][k] = 1  # touch the pages: resident, not only reserved
    return os.getpid()


def test_a_worker_past_its_memory_budget_is_replaced_and_memory_stays_flat() -> None:
    limits = Limits(None, 0.2, None, recycle_mb=100.0)
    ends = list(run_pool(range(12), _grow, workers=1, limits=limits))
    pids = [e.result for e in ends]
    assert len(set(pids)) >= 3  # replaced every few jobs
    assert max(e.rss_mb for e in ends) < 100.0 + 2 * 30.0 + 80.0  # never far past the budget


def test_payloads_are_drawn_lazily() -> None:
    drawn: list[int] = []

    def payloads():  # type: ignore[no-untyped-def]
        for i in range(1000):
            drawn.append(i)
            yield ("ok", float(i))

    gen = run_pool(payloads(), _work, workers=2, limits=Limits(None, 0.2, None))
    next(gen)
    assert len(drawn) < 10  # not all 1000 pulled to start
    rest = list(gen)
    assert len(rest) == 999 and len(drawn) == 1000
