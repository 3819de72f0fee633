"""`verifier-herd7`, herd7's command line on our engine (verifier/cli/herd7.py): its options,
its model lookup, and the kernel's memory-model scripts run with `HERD=verifier-herd7`.

The scripts are our own text of what the kernel's tools/memory-model/scripts do
(tests/kernel_scripts/, the originals are GPL-2.0): each test's judgement with
verifier-herd7 must be the judgement the same script gives on herd7's recorded output
(`../shared/reference/herd-out/lkmm/`).  Line-for-line agreement of the output with herd7's
on every reference test is checked in test_conformance.py (`herd_lines`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_conformance import HERD_OUT, REFERENCE
from verifier.cli.herd7 import HerdOptions, litmus_names, main, model_of, parse_options
from verifier.errors import UsageError

SCRIPTS = Path(__file__).resolve().parent / "kernel_scripts"
KERNEL_MODEL = REFERENCE / "models" / "linux-kernel"
KERNEL_TESTS = REFERENCE / "litmus" / "kernel"
needs_reference = pytest.mark.skipif(not KERNEL_TESTS.is_dir(), reason="../shared/reference is not present")

SB = """C SB
{}
P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*y); }
P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); r0 = READ_ONCE(*x); }
exists (0:r0=0 /\\ 1:r0=0)
"""


def herd_command() -> str:
    """How the scripts call us: the installed console script, else the module."""
    script = Path(sys.executable).with_name("verifier-herd7")
    return str(script) if script.is_file() else f"{sys.executable} -m verifier.cli.herd7"


def test_options_as_herd7_takes_them() -> None:
    o = parse_options(["-conf", "linux-kernel.cfg", "-variant=lkmmv2,foo", "-unroll", "3", "-timeout", "5.5",
                       "-q", "-show", "prop", "-gv", "-I", "a", "-I", "b", "T.litmus", "U.litmus"])
    assert o.conf == "linux-kernel.cfg" and o.variants == {"lkmmv2", "foo"} and o.unroll == 3
    assert o.timeout == 5.5 and o.quiet and o.includes == ("a", "b") and o.files == ("T.litmus", "U.litmus")
    assert parse_options(["-cat", "x86tso.cat"]).model == "x86tso.cat"


@pytest.mark.parametrize(("argv", "message"), [
    (["-through", "invalid"], "unsupported herd7 option '-through'"),
    (["-speedcheck", "true"], "unsupported herd7 option '-speedcheck'"),
    (["-frobnicate"], "unknown herd7 option '-frobnicate'"),
    (["-conf"], "option '-conf' needs a value"),
    (["-unroll", "many"], "needs a number"),
])
def test_options_it_cannot_honour_are_refused_by_name(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_options(argv)


def test_herd7_library_names_are_our_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name, ours in [("linux-kernel.cfg", "lkmm"), ("x86tso.cat", "x86-tso"), ("aarch64.cat", "armv8")]:
        opt = HerdOptions(conf=name) if name.endswith(".cfg") else HerdOptions(model=name)
        spec = model_of(opt)
        assert spec is not None and spec.name == ours
    assert model_of(HerdOptions()) is None  # each test under its dialect's model
    with pytest.raises(UsageError, match="cannot find the model file 'mine.cat'"):
        model_of(HerdOptions(model="mine.cat"))


@needs_reference
def test_kernel_cfg_found_is_the_kernels_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(KERNEL_MODEL)
    spec = model_of(HerdOptions(conf="linux-kernel.cfg"))
    assert spec is not None and spec.name == "linux-kernel" and spec.own  # the kernel's .def compiles C
    spec = model_of(HerdOptions(conf="linux-kernel.cfg", includes=(str(KERNEL_MODEL),)))
    assert spec is not None and spec.name == "linux-kernel"


def test_names_from_arguments_index_files_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "list").write_text("# tests\nA.litmus\n\nB.litmus\n")
    assert list(litmus_names([str(tmp_path / "sub" / "@list"), "C.litmus"], iter(()))) == [
        str(tmp_path / "sub" / "A.litmus"), str(tmp_path / "sub" / "B.litmus"), "C.litmus"]
    assert list(litmus_names([], iter(["X.litmus\n", "#no\n", "Y.litmus\n"]))) == ["X.litmus", "Y.litmus"]


def test_a_bad_test_warns_and_the_run_goes_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "SB.litmus", tmp_path / "bad.litmus"
    good.write_text(SB)
    bad.write_text(SB.replace("WRITE_ONCE(*x, 1);", "WRITE_ONC(*x, 1);"))
    assert main(["-conf", "linux-kernel.cfg", str(bad), str(good)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Test SB Allowed\nStates 4\n0:r0=0; 1:r0=0;\n") and "Observation SB Sometimes" in out
    assert f"{bad}:3:" in err and "(User error)" in err


@needs_reference
def test_kernel_scripts_judge_as_with_herd7(tmp_path: Path) -> None:
    """checkalllitmus.sh with HERD=verifier-herd7 over the kernel's tests, run where the
    kernel runs it (the memory model's folder), against judgelitmus.sh on herd7's output."""
    if shutil.which("sh") is None:
        pytest.skip("no POSIX shell")
    tests = sorted(KERNEL_TESTS.rglob("*.litmus"))
    ours_dest, herds_dest = tmp_path / "ours", tmp_path / "herd7"
    env = {**os.environ, "HERD": herd_command(), "LKMM_DESTDIR": str(ours_dest)}
    run = subprocess.run(["sh", str(SCRIPTS / "checkalllitmus.sh"), str(KERNEL_TESTS)], cwd=KERNEL_MODEL,
                         env=env, capture_output=True, text=True, timeout=900)
    assert run.stdout.strip().endswith(f"All {len(tests)} tests passed"), run.stdout + run.stderr
    for t in tests:
        recorded = HERD_OUT / "lkmm" / f"{t.relative_to(REFERENCE)}.out"
        target = herds_dest / f"{str(t).lstrip('/')}.out"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(recorded, target)
    for t in tests:
        judge = ["sh", str(SCRIPTS / "judgelitmus.sh"), str(t)]
        ours = subprocess.run(judge, env={**env, "LKMM_DESTDIR": str(ours_dest)}, capture_output=True, text=True)
        herds = subprocess.run(judge, env={**env, "LKMM_DESTDIR": str(herds_dest)}, capture_output=True, text=True)
        assert (ours.returncode, ours.stdout) == (herds.returncode, herds.stdout), t.name
