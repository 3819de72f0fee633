"""Every command the README shows runs as written (issue 16): each line of each ```sh block.

Commands run in order (a later one may read what an earlier one wrote) in a scratch folder
that sees the repository's `litmus/`, `encodings/`, `bench/` and `docs/`, with `$LINUX` a kernel tree made of the reference's copies (the kernel's
tools/memory-model files and litmus tests).  A command "runs" when it exits 0 or 1 (1: a
test's outcome is reachable, or a batch has mismatches: an answer, not a failure to run) and
prints no traceback.  Not run here, and why:
- the two set-up lines (`pip install ...`): `.ci/run` is the second, and the fresh-clone
  check runs the first; running them inside the suite would reinstall the suite's own venv;
- `bench/` commands run with `--slow` (minutes on 2 cores);
- the one ```text block (bench/herd_corpus.py) needs a herdtools7 checkout and herd7.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_conformance import REFERENCE

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def commands() -> list[str]:
    """The README's shell commands, in order, comments cut off."""
    out: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", README.read_text(), re.M | re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line:
                out.append(line)
    return out


def _kind(cmd: str) -> str:
    if "pip install" in cmd:
        return "setup"
    return "bench" if cmd.startswith("python bench/") else "command"


def test_the_setup_lines_are_the_two_commands_and_ci_runs_the_second() -> None:
    setup = [c for c in commands() if _kind(c) == "setup"]
    assert setup[0].endswith("verifier batch litmus --model lkmm,sc,x86-tso,armv8")
    assert "pip install -e '.[test]' && python -m pytest" in setup[1]
    assert setup[1] in (ROOT / ".ci" / "run").read_text()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("readme")
    for name in ("litmus", "encodings", "bench", "docs", "tests"):
        (d / name).symlink_to(ROOT / name)
    mm = d / "linux" / "tools" / "memory-model"
    mm.mkdir(parents=True)
    for f in (REFERENCE / "models" / "linux-kernel").iterdir():
        (mm / f.name).symlink_to(f)
    (mm / "litmus-tests").symlink_to(REFERENCE / "litmus" / "kernel")
    return d


def _run(cmd: str, scratch: Path) -> None:
    env = {**os.environ, "LINUX": str(scratch / "linux"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    r = subprocess.run(["bash", "-c", cmd], cwd=scratch, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode in (0, 1), f"{cmd}\nexit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    assert "Traceback" not in r.stderr + r.stdout, f"{cmd}\n{r.stderr}"


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/reference is not present")
@pytest.mark.parametrize("cmd", [c for c in commands() if _kind(c) == "command"])
def test_readme_command_runs(cmd: str, scratch: Path) -> None:
    _run(cmd, scratch)


@pytest.mark.slow
@pytest.mark.parametrize("cmd", [c for c in commands() if _kind(c) == "bench"])
def test_readme_benchmark_runs(cmd: str, scratch: Path) -> None:
    _run(cmd, scratch)
