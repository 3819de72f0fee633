"""Bad input found by fuzzing (tests/test_fuzz.py, bench/fuzz.py) that once escaped as a
traceback or an internal error: each is now a positioned error, `file:line:col: ...`, exit 2
(`check`) or an error row (`batch`).  One test per bug, named after what the mutant did.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from verifier.cli.main import main

HUGE = "9" * 5000

CASES = {
    # bench/fuzz.py --seed 0: replace_number on litmus/classic/C-IRIW.litmus turned `P1(` into
    # `P<5000 digits>(`; the thread check's int() met Python's 4300-digit conversion limit.
    "c-thread-name-of-5000-digits": (
        "C.litmus",
        "C T\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nP" + HUGE + "(int *x) { WRITE_ONCE(*x, 2); }\nexists (x=1)\n",
        r"4:1: expected thread P1, found P9+"),
    # the same in a YAML test's program (litmus/gup/fork-wrprotect-vs-gup-pin+mb-fork.litmus.yaml)
    "yaml-thread-name-of-5000-digits": (
        "Y.litmus.yaml",
        "name: Y\ndescription: two writes\nprogram: |\n  {}\n  P0(int *x) { WRITE_ONCE(*x, 1); }\n  P" + HUGE
        + "(int *x) { WRITE_ONCE(*x, 2); }\ncondition: exists (x=1)\nexpected:\n  sc: Sometimes\n",
        r"6:3: expected thread P1, found P9+"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fuzzed_input_is_a_positioned_error(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file, text, want = CASES[name]
    path = tmp_path / file
    path.write_text(text)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert re.search(re.escape(str(path)) + ":" + want, err), err[:500]


def test_a_thread_name_with_leading_zeros_is_still_its_number(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The thread check compares text now; `P01` is still thread 1, as int() read it."""
    path = tmp_path / "z.litmus"
    path.write_text("C Z\n{}\nP00(int *x) { WRITE_ONCE(*x, 1); }\nP01(int *x) { WRITE_ONCE(*x, 2); }\nexists (x=1)\n")
    assert main(["check", str(path)]) in (0, 1)
    assert "Sometimes" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["c-thread-name-of-5000-digits"])
def test_batch_gives_the_same_error_row(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file, text, want = CASES[name]
    path = tmp_path / file
    path.write_text(text)
    assert main(["batch", "-j", "1", "-q", str(path)]) == 1
    out = capsys.readouterr().out
    assert "internal error" not in out and re.search(re.escape(str(path)) + ":" + want, out), out[:500]


# bench/fuzz.py --seed 7: insert_token put a 100,000-character line into encodings/sc.cat's
# `include "rcu.cat"` (and `~` * 300 into x86-tso.cat's include); looking for the file met
# ENAMETOOLONG, an OSError: a traceback in check, "cannot write ..." in batch.
LONG_INCLUDE = '"m"\ninclude "' + "a" * 100_000 + 'rcu.cat"\nacyclic po\n'


@pytest.mark.parametrize("command", ["check", "batch"])
def test_an_include_of_a_name_too_long_is_a_positioned_error(command: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    cat = tmp_path / "m.cat"
    cat.write_text(LONG_INCLUDE)
    argv = [command, "litmus/classic/C-SB.litmus", "--model", str(cat)] + (["-j", "1", "-q"] if command == "batch" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "cannot write" not in err
    assert re.search(re.escape(str(cat)) + r":2:1: cannot look for included model file 'a+\.\.\.\(\d+ characters\)\.\.\.a+rcu\.cat'", err), err[:500]


def test_a_model_path_the_file_system_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 300-character file name (ENAMETOOLONG): a usage error naming the model, in check
    and in batch (batch used to say `cannot write` about a file it was reading)."""
    model = f"/tmp/{'a' * 300}.cat"
    test = tmp_path / "t.litmus"
    test.write_text("X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n")
    for command in ("check", "batch"):
        assert main([command, str(test), "--model", model]) == 2
        err = capsys.readouterr().err
        assert "cannot read the model" in err and "File name too long" in err and "Traceback" not in err


def test_a_message_quoting_a_huge_token_keeps_both_ends(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    test = tmp_path / "t.litmus"
    test.write_text("X86 T\n{ x=0; }\n P0 ;\n " + "Z" * 100_000 + " [x],$1 ;\nexists (x=1)\n")
    assert main(["check", str(test)]) == 2
    err = capsys.readouterr().err
    assert len(err) < 2000 and "characters)" in err and str(test) in err
