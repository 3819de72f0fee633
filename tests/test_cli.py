"""The command line: answers, JSON, exit statuses, and bad input as `file:line:col: message`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from verifier.cli.main import main
from verifier.frontends import parse_file

ROOT = Path(__file__).resolve().parents[1]

SB = """C SB
{}
P0(int *x, int *y)
{
	int r0;
	WRITE_ONCE(*x, 1);
	r0 = READ_ONCE(*y);
}
P1(int *x, int *y)
{
	int r0;
	WRITE_ONCE(*y, 1);
	r0 = READ_ONCE(*x);
}
exists (0:r0=0 /\\ 1:r0=0)
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_litmus_library_matches_its_expectations(capsys: pytest.CaptureFixture[str]) -> None:
    """Every file under litmus/ records its answer per model (`Result(model): ...`); check
    each file under every model it names."""
    files = sorted([*(ROOT / "litmus").rglob("*.litmus"), *(ROOT / "litmus").rglob("*.litmus.yaml")])
    assert len(files) >= 36
    by_models: dict[tuple[str, ...], list[str]] = {}
    for f in files:
        models = tuple(sorted(m for m, _ in parse_file(str(f)).expected if m))
        assert models, f"{f}: no Result(model) line"
        by_models.setdefault(models, []).append(str(f))
    for models, group in by_models.items():
        code, out, err = run(["check", *group, "--model", ",".join(models), "--json"], capsys)
        rows = [json.loads(line) for line in out.splitlines()]
        assert len(rows) == len(models) * len(group)
        assert all(r["matches"] for r in rows), [(r["file"], r["model"]) for r in rows if not r["matches"]]
        assert code == 0, err


def test_sb_text_answer_has_witness(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "SB.litmus", SB)
    code, out, _ = run(["check", f, "--model", "x86-tso"], capsys)
    assert "Observation: Sometimes" in out and "Result: Ok" in out
    assert "from init y" in out and "co x:" in out and "final:" in out
    # events are named by the instruction as written, with its line (the model's view: --events)
    assert re.search(r"P0 e\d+: WRITE_ONCE\(\*x, 1\)\s+line \d+\s+writes x=1", out), out
    assert "W[Once]" not in out
    assert code == 1  # no expectation recorded and the exists condition is reachable
    _, out, _ = run(["check", f, "--model", "x86-tso", "--events"], capsys)
    assert re.search(r"writes x=1\s+\{W x=1 W\.once\}", out), out


def test_sb_never_under_sc_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "SB.litmus", SB)
    code, out, _ = run(["check", f, "--model", "sc", "--states"], capsys)
    assert "Observation: Never" in out and "Proof:" in out
    assert "0:r0=0; 1:r0=1;" in out
    assert code == 0


def test_json_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "SB.litmus", SB)
    _, out, _ = run(["check", f, "--model", "x86-tso", "--json", "--states"], capsys)
    row = json.loads(out)
    for key in ("file", "test", "model", "observation", "result", "states", "witness", "seconds"):
        assert key in row
    assert row["observation"] == "Sometimes" and row["result"] == "Ok"
    assert {"0:r0": "0", "1:r0": "0"} in row["states"]
    w = row["witness"]
    assert w["rf"] and w["co"] and w["events"]


def test_expectation_mismatch_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "SB.litmus", SB.replace("{}", "(* Result: Never *)\n{}", 1))
    code, out, _ = run(["check", f, "--model", "x86-tso"], capsys)
    assert "MISMATCH" in out and code == 1


def test_zero_timeout_gives_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "SB.litmus", SB)
    code, out, _ = run(["check", f, "--model", "x86-tso", "--timeout", "0"], capsys)
    assert "Observation: Unknown" in out and code == 3


BAD = {
    "truncated": (SB[: SB.index("r0 = READ_ONCE(*x)")], r"unexpected end|expected|unterminated|missing"),
    "unknown primitive": (SB.replace("WRITE_ONCE(*x, 1);", "frobnicate(x);"), r"unsupported primitive 'frobnicate'"),
    "bad condition": (SB.replace("exists (0:r0=0 /\\ 1:r0=0)", "exists (0:r0=)"), r"expected a value"),
    "undefined register": (SB.replace("WRITE_ONCE(*x, 1);", "WRITE_ONCE(*x, r7);"), r"undefined name 'r7'"),
    "smp_cond_load_acquire is named": (SB.replace("r0 = READ_ONCE(*x);", "r0 = smp_cond_load_acquire(x, VAL);"),
                                       r"unsupported primitive 'smp_cond_load_acquire' \(a spin-wait"),
    "misspelt primitive": (SB.replace("r0 = READ_ONCE(*x);", "r0 = READ_ONC(*x);"),
                           r"unknown primitive 'READ_ONC' \(did you mean 'READ_ONCE'\?\)"),
    "call_rcu is named": (SB.replace("WRITE_ONCE(*x, 1);", "call_rcu(x);"), r"unsupported primitive 'call_rcu'"),
    "x86 unknown instruction": ("X86 T\n{ }\n P0 ;\n FROB [x],$1 ;\nexists ([x]=1)\n", r"unsupported X86 instruction"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_file_line_col_exit_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, pattern = BAD[case]
    f = write(tmp_path, "bad.litmus", text)
    code, out, err = run(["check", f], capsys)
    assert code == 2
    assert re.search(re.escape(f) + r":\d+:\d+: ", err), err
    assert re.search(pattern, err), err
    assert "Traceback" not in err


def test_unknown_model_is_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "SB.litmus", SB)
    code, _, err = run(["check", f, "--model", "nonsense"], capsys)
    assert code == 2 and "unknown model" in err


def test_bad_model_file_is_file_line_col(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "SB.litmus", SB)
    m = write(tmp_path, "m.cat", '"bad"\nlet a = po |\nacyclic a\n')
    code, _, err = run(["check", f, "--model", m], capsys)
    assert code == 2 and re.search(re.escape(m) + r":3:\d+: ", err), err


def test_user_model_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "SB.litmus", SB)
    m = write(tmp_path, "tso.cat", '"my tso"\nlet ppo = po \\ (W * R)\nacyclic ppo | rfe | co | fr as tso\n'
              "acyclic po-loc | com as coherence\n")
    code, out, _ = run(["check", f, "--model", m], capsys)
    assert "Observation: Sometimes" in out


def test_module_entry_point_runs() -> None:
    sb = str(ROOT / "litmus" / "classic" / "C-SB.litmus")
    r = subprocess.run([sys.executable, "-m", "verifier", "check", sb, "--model", "sc"],
                       capture_output=True, text=True, cwd=ROOT, check=False)
    assert r.returncode == 0, r.stderr
    assert "Observation: Never" in r.stdout


def test_several_models_skip_the_ones_that_do_not_apply(capsys: pytest.CaptureFixture[str]) -> None:
    a64 = str(ROOT / "litmus" / "classic" / "AArch64-SB.litmus")
    x86 = str(ROOT / "litmus" / "classic" / "X86-SB.litmus")
    code, out, _ = run(["check", a64, x86, "--model", "x86-tso,armv8", "--json"], capsys)
    rows = {(json.loads(line)["file"], json.loads(line)["model"]) for line in out.splitlines()}
    assert rows == {(a64, "armv8"), (x86, "x86-tso")}
    assert code == 0


def test_the_default_model_is_each_dialects_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No --model: kernel C under lkmm, X86 under x86-tso, AArch64 under armv8 (as herd7
    picks a model by architecture), in check and in batch, and the rows say which."""
    files = {str(ROOT / "litmus" / "classic" / f): m for f, m in
             [("C-SB.litmus", "lkmm"), ("X86-SB.litmus", "x86-tso"), ("AArch64-SB.litmus", "armv8")]}
    code, out, _ = run(["check", *files, "--json"], capsys)
    assert {(json.loads(x)["file"], json.loads(x)["model"]) for x in out.splitlines()} == set(files.items())
    d = tmp_path / "d"
    d.mkdir()
    for f in files:
        (d / Path(f).name).write_text(Path(f).read_text())
    rows = tmp_path / "rows.jsonl"
    assert main(["batch", str(d), "-q", "--json", str(rows), "-j", "1"]) == 0
    got = {(Path(r["file"]).name, r["model"]) for r in map(json.loads, rows.read_text().splitlines())}
    assert got == {(Path(f).name, m) for f, m in files.items()}
    # resumed: nothing is checked twice
    assert main(["batch", str(d), "-q", "--resume", str(rows), "-j", "1"]) == 0
    assert len(rows.read_text().splitlines()) == 3
    code, _, err = run(["check", *files, "--model", "auto,sc"], capsys)
    assert code == 2 and "does not combine" in err


def test_a_model_that_does_not_apply_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    a64 = str(ROOT / "litmus" / "classic" / "AArch64-SB.litmus")
    code, _, err = run(["check", a64, "--model", "x86-tso"], capsys)
    assert code == 2 and "AArch64-SB.litmus:1:1: model 'x86-tso' does not apply to AArch64 tests" in err
    code, _, err = run(["check", a64, "--model", "x86-tso,x86-tso"], capsys)
    assert code == 2 and "none of the models" in err


def test_no_condition_is_herds_empty_constraint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """herd7 reads a test without a final condition as `forall (true)` (Always)."""
    f = write(tmp_path, "nocond.litmus", SB.replace("exists (0:r0=0 /\\ 1:r0=0)", ""))
    code, out, _ = run(["check", f], capsys)
    assert code == 0 and "Observation: Always" in out and "forall (true)" in out


def test_unroll_bound_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    """herd7's -unroll: the spin loop sees 1, 2 or 3 iterations with the default bound 2, one
    with --unroll 0; a test's own Unroll=N wins over the option; the answer says so."""
    spin = str(Path(__file__).parent / "litmus" / "loops" / "spin.litmus")
    code, out, _ = run(["check", spin, "--model", "sc", "--states", "--json"], capsys)
    row = json.loads(out)
    assert (row["unroll"], row["cut"]) == (2, True) and {s["1:X2"] for s in row["states"]} == {"1", "2", "3"}
    code, out, _ = run(["check", spin, "--model", "sc", "--states", "--json", "--unroll", "0"], capsys)
    assert {s["1:X2"] for s in json.loads(out)["states"]} == {"1"}
    four = str(Path(__file__).parent / "litmus" / "loops" / "spin-unroll4.litmus")
    code, out, _ = run(["check", four, "--model", "sc", "--states", "--json", "--unroll", "0"], capsys)
    assert {s["1:X2"] for s in json.loads(out)["states"]} == {"1", "2", "3", "4", "5"}
    code, out, _ = run(["check", spin, "--model", "sc"], capsys)
    assert "Loops unrolled 2 times" in out
    with pytest.raises(SystemExit) as e:
        main(["check", spin, "--unroll", "two"])
    assert e.value.code == 2 and "number of times" in capsys.readouterr().err


def test_check_has_batch_s_default_timeout() -> None:
    """Unattended `check` runs end: Unknown after 120 s per (file, model), as batch."""
    from verifier.cli.main import _parser

    assert _parser().parse_args(["check", "T.litmus"]).timeout == 120.0
    assert _parser().parse_args(["batch", "T.litmus"]).timeout == 120.0


def test_check_herd_prints_herds_block_naming_the_model_when_several(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "SB.litmus", SB)
    _, out, _ = run(["check", f, "--model", "x86-tso", "--herd"], capsys)
    assert out.startswith("Test SB Allowed\nStates 4\n") and "Observation SB Sometimes" in out and "Model" not in out
    _, out, _ = run(["check", f, "--model", "sc,x86-tso", "--herd"], capsys)
    assert out.startswith("Model sc\nTest SB Allowed") and "\nModel x86-tso\nTest SB Allowed" in out
