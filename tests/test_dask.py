"""The Dask executor (runner/dask_exec.py): the same rows as the local workers, on a real
LocalCluster and on a scheduler with workers started here on 127.0.0.1; a worker killed
mid-run loses nothing and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.test_conformance import REFERENCE

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
SUITES = [str(REFERENCE / "litmus" / d) for d in ("kernel", "x86")]
needs_reference = pytest.mark.skipif(not (REFERENCE / "litmus").is_dir(), reason="../shared/reference is not present")


def _batch(tmp: Path, name: str, *extra: str) -> dict[tuple[str, str], Any]:
    rows = tmp / f"{name}.jsonl"
    r = subprocess.run([sys.executable, "-m", "verifier.cli", "batch", *SUITES, "--model", "sc,x86-tso", "-q",
                        "--json", str(rows), *extra], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    return _read(rows)


def _read(path: Path) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        key = (r["file"], r["model"])
        assert key not in out, f"duplicate row {key}"
        out[key] = (r["observation"], r["outcome"], r.get("states"))
    return out


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    return _batch(tmp_path_factory.mktemp("local"), "local", "-j", "2")


@needs_reference
def test_dask_local_gives_the_local_rows(local_rows: dict[tuple[str, str], Any], tmp_path: Path) -> None:
    assert _batch(tmp_path, "dask", "--executor", "dask-local", "-j", "2") == local_rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@needs_reference
def test_a_scheduler_on_localhost_and_a_worker_killed_mid_run(local_rows: dict[tuple[str, str], Any],
                                                              tmp_path: Path) -> None:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny",
              "--no-dashboard"]
    try:
        time.sleep(2.0)
        workers = [subprocess.Popen(worker, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True) for _ in range(2)]
        procs += workers
        time.sleep(3.0)
        rows = tmp_path / "dask.jsonl"
        run = subprocess.Popen([sys.executable, "-m", "verifier.cli", "batch", *SUITES, "--model", "sc,x86-tso",
                                "-q", "--json", str(rows), "--executor", "dask", "--scheduler", address],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and (not rows.is_file() or len(rows.read_text().splitlines()) < 30):
            time.sleep(0.1)
        os.killpg(workers[0].pid, signal.SIGKILL)  # one worker gone mid-run, its tasks with it
        out, err = run.communicate(timeout=600)
        assert run.returncode in (0, 1), out + err
        assert _read(rows) == local_rows  # nothing lost, nothing duplicated, the same answers
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def test_without_a_scheduler_it_is_a_usage_error(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "verifier.cli", "batch", "litmus/classic/C-SB.litmus",
                        "--executor", "dask"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--executor dask needs --scheduler" in r.stderr


class _Future:
    def __init__(self, result: Any = None, error: Exception | None = None, done: bool = True) -> None:
        self.value, self.error, self.is_done, self.cancelled = result, error, done, False

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value

    def cancel(self) -> None:
        self.cancelled = True


class _Client:
    """Runs a chunk at once: `poison` kills its workers (KilledWorker), `hang` never ends."""

    def __init__(self) -> None:
        self.chunks: list[tuple[str, ...]] = []

    def submit(self, fn: Any, chunk: Any, pure: bool) -> _Future:
        names = tuple(t.file for t in chunk)
        self.chunks.append(names)
        if "poison" in names:
            return _Future(error=RuntimeError("KilledWorker: the workers died running it"))
        if "hang" in names:
            return _Future(done=False)
        return _Future([({"file": n, "model": "sc", "outcome": "pass", "seconds": 0.001}, "w1", 0.001, 70.0)
                        for n in names])


def test_chunks_that_fail_are_split_so_only_the_guilty_pair_has_the_bad_row() -> None:
    from verifier.runner.dask_exec import _Flight
    from verifier.runner.run import Task

    def first_done(futures: list[Any], timeout: float | None) -> set[Any]:
        done = {f for f in futures if f.is_done}
        if not done:
            time.sleep(timeout or 0.0)
        return done

    names = ["a", "b", "c", "poison", "d", "hang", "e"]
    client = _Client()
    flight = _Flight(client, iter(Task(n, "sc", "sc", None, False, 0.05, None) for n in names), 2, 0.05,
                     first_done)
    flight.grace = 0.0
    rows = {r.row["file"]: r.row for r in flight.rows()}
    assert sorted(rows) == sorted(names)  # each pair once
    assert sorted(n for n, r in rows.items() if r["outcome"] == "pass") == ["a", "b", "c", "d", "e"]
    assert rows["poison"]["outcome"] == "error" and "were lost" in rows["poison"]["note"]
    assert rows["hang"]["outcome"] == "unknown" and rows["hang"]["reason"] == "timeout"
    assert ("c", "poison", "d", "hang", "e") in client.chunks  # one chunk once the pairs proved quick
    assert ("poison",) in client.chunks and ("hang",) in client.chunks  # then one by one


def test_a_chunk_waiting_behind_others_is_not_taken_for_a_hung_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dask cannot say when a task starts: a chunk's clock starts when every older chunk has
    ended.  One worker, --timeout 10, four pairs of 9 s: all within their limit, none unknown."""
    from verifier.runner import dask_exec
    from verifier.runner.run import Task

    class Clock:
        now = 0.0

        def monotonic(self) -> float:
            return self.now

    clock = Clock()
    monkeypatch.setattr(dask_exec, "time", clock)

    class Serial:  # one worker: each chunk starts when the one before it ends
        free = 0.0

        def submit(self, fn: Any, chunk: Any, pure: bool) -> _Future:
            self.free = max(clock.now, self.free) + 9.0 * len(chunk)
            f = _Future([({"file": t.file, "model": "sc", "outcome": "pass"}, "w1", 9.0, 70.0) for t in chunk])
            f.done_at = self.free  # type: ignore[attr-defined]
            return f

    def first_done(futures: list[Any], timeout: float | None) -> set[Any]:
        soonest = min(f.done_at for f in futures)
        clock.now = soonest if timeout is None or soonest <= clock.now + timeout else clock.now + timeout
        return {f for f in futures if f.done_at <= clock.now}

    tasks = iter(Task(f"f{i}", "sc", "sc", None, False, 10.0, None) for i in range(4))
    flight = dask_exec._Flight(Serial(), tasks, 4, 10.0, first_done)
    flight.grace = 0.0
    assert sorted((r.row["file"], r.row["outcome"]) for r in flight.rows()) == [(f"f{i}", "pass") for i in range(4)]
