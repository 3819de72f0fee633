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
