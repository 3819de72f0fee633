"""Bad input that once escaped as a traceback (issue 13's reproducers): each is now a
positioned error, `file:line:col: what is wrong`, exit 2.

Depth: a condition nested past MAX_DEPTH levels (parentheses, negations) is refused at the
token that goes too deep, instead of a RecursionError.  Size: a literal past 128 bits is
refused at its position, before Python's int conversion limit (4,300 digits) meets it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from verifier.cli.main import main

DEEP = 1000
HUGE = "9" * 5000

CASES = {
    "x86-parentheses": ("X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists " + "(" * DEEP + "x=1" + ")" * DEEP + "\n",
                        r"5:\d+: the condition is nested too deeply"),
    "aarch64-negations": ("AArch64 T\n{ 0:X1=x; }\n P0 ;\n LDR W0,[X1] ;\nexists " + "~" * DEEP + "(0:X0=1)\n",
                          r"5:\d+: the condition is nested too deeply"),
    "condition-number": ("X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (x=" + HUGE + ")\n",
                         r"5:11: a number of 5000 digits"),
    "x86-immediate": ("X86 T\n{ x=0; }\n P0 ;\n MOV [x],$" + HUGE + " ;\nexists (x=1)\n",
                      r"4:11: a number of 5000 digits"),
    "thread-id": ("X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (" + HUGE + ":EAX=1)\n",
                  r"5:9: a number of 5000 digits"),
    "hex-init": ("AArch64 T\n{ x=0x" + "f" * 40 + "; }\n P0 ;\n NOP ;\nexists (x=1)\n",
                 r"2:5: a number of 40 digits"),
    # herd7 refuses these too ("initialized more than once"); the last one used to win
    "duplicate-location": ("AArch64 T\n{ x=1; x=2; 0:X1=x; }\n P0 ;\n LDR W0,[X1] ;\nexists (0:X0=1)\n",
                           r"2:8: location x is initialised more than once"),
    "duplicate-register": ("AArch64 T\n{ 0:X1=x; 0:X1=y; }\n P0 ;\n LDR W0,[X1] ;\nexists (0:X0=1)\n",
                           r"2:13: register 0:X1 is initialised more than once"),
    "duplicate-cell": ("AArch64 T\n{ int t[2]={1,2}; t=3; }\n P0 ;\n NOP ;\nexists (0:X0=1)\n",
                       r"2:\d+: location t\S* is initialised more than once"),
    # an immediate wider than its operand, as an assembler refuses it (herd7 kept $300 in %bl)
    "x86-immediate-8": ("X86_64 T\n{ }\n P0 ;\n movb $300,%bl ;\nexists (0:rbx=44)\n",
                        r"4:2: the immediate \$300 does not fit in 8 bits"),
    "x86-immediate-32": ("X86_64 T\n{ }\n P0 ;\n movl $4294967296,%eax ;\nexists (0:rax=0)\n",
                         r"4:2: the immediate \$4294967296 does not fit in 32 bits"),
    # C's undefined constant arithmetic (the solver would pick an arbitrary value)
    "c-division-by-zero": ("C T\n{ x=0; }\nP0(int *x) { WRITE_ONCE(*x, 1/0); }\nexists (x=1)\n",
                           r"3:30: '/' by zero is undefined in C"),
    "c-remainder-by-zero": ("C T\n{ x=0; }\nP0(int *x) { int r0 = 5; r0 %= 0; WRITE_ONCE(*x, r0); }\nexists (x=1)\n",
                            r"3:\d+: '%' by zero is undefined in C"),
    "c-wide-shift": ("C T\n{ x=0; }\nP0(int *x) { WRITE_ONCE(*x, 1 << 100); }\nexists (x=1)\n",
                     r"3:31: a shift by 100 is undefined in C"),
    # a divisor known only at run time may be 0 (the solver would pick a value, and it hung)
    "c-runtime-division": ("C T\n{ x=0; }\nP0(int *x) { int r0 = READ_ONCE(*x); int r1 = 5 / r0; }\nexists (0:r1=0)\n",
                           r"3:49: unsupported '/' by a value known only at run time"),
    "c-runtime-remainder": ("C T\n{ x=0; }\nP0(int *x) { int r0 = READ_ONCE(*x); r0 %= r0; }\nexists (0:r0=0)\n",
                            r"3:\d+: unsupported '%' by a value known only at run time"),
    # herd7: "Bad process P3"; the position used to be 1:1
    "x86-absent-thread": ("X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (3:EAX=1)\n",
                          r"5:11: no thread P3 in this test \(threads are P0..P0\)"),
    "aarch64-absent-thread": ("AArch64 T\n{ 0:X1=x; }\n P0 ;\n LDR W0,[X1] ;\nlocations [2:X0;]\nexists (0:X0=1)\n",
                              r"5:14: no thread P2 in this test"),
    "c-constant": ("C T\n{ x=0; }\nP0(int *x) { WRITE_ONCE(*x, " + HUGE + "); }\nexists (x=1)\n",
                   r"3:29: a number of 5000 digits"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_a_positioned_error(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, want = CASES[name]
    path = tmp_path / f"{name}.litmus"
    path.write_text(text)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert re.search(re.escape(str(path)) + ":" + want, err), err


def test_a_number_of_128_bits_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.litmus"
    path.write_text("X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (x=" + "9" * 39 + ")\n")
    assert main(["check", str(path)]) in (0, 1)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "abc"])
@pytest.mark.parametrize("command", ["check", "batch", "compare"])
def test_timeout_must_be_finite_and_non_negative(command: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([command, "litmus/classic/C-SB.litmus", "--timeout", value])
    assert e.value.code == 2
    assert "--timeout" in capsys.readouterr().err


def test_batch_reads_the_dialect_as_check_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt or NUL-prefixed header is an error row (exit 1), never a silent skip; a
    first-line comment past 4 KB does not hide the header from batch."""
    (tmp_path / "misspelt.litmus").write_text("X86_66 MP\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n")
    (tmp_path / "nul.litmus").write_text("\0X86 MP\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n")
    (tmp_path / "long.litmus").write_text("(* " + "c" * 5000 + " *) X86 L\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n")
    assert main(["batch", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "unknown litmus dialect 'X86_66'" in out
    assert "unknown litmus dialect '\\x00X86'" in out
    errors = out[out.index("errors:"):out.index("slowest:")]
    assert "long.litmus" not in errors and "skipped 0" in out


def test_discovery_cannot_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A FIFO named like a test is an error row (never opened: opening blocks); symbolic
    link loops are not followed, by a directory walk or by `**`; each real file is checked
    once however many links reach it."""
    import os

    d = tmp_path / "sl" / "a"
    d.mkdir(parents=True)
    (d / "SB.litmus").write_text(Path("litmus/classic/C-SB.litmus").read_text())
    (d / "loop").symlink_to("..")
    (d / "loop2").symlink_to("../a")
    (d / "alias.litmus").symlink_to("SB.litmus")
    os.mkfifo(d / "p.litmus")
    for target in (str(tmp_path / "sl"), str(tmp_path / "sl") + "/**/*.litmus"):
        assert main(["batch", target]) == 1
        out = capsys.readouterr().out
        assert "p.litmus:1:1: cannot read: not a regular file" in out
        assert "batch: 2 (file, model) pairs" in out, out  # SB once, and the FIFO


MODELS = {
    "invalid-utf8": (b"let a = po\n\xff\xfe acyclic a\n", r"2:1: not a text file \(invalid UTF-8\)"),
    "nested": (("let a = " + "(" * DEEP + "po" + ")" * DEEP + "\nacyclic a\n").encode(),
               r"1:\d+: the model is nested too deeply"),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("command", ["check", "batch", "compare"])
def test_bad_model_is_a_positioned_error(name: str, command: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    data, want = MODELS[name]
    cat = tmp_path / f"{name}.cat"
    cat.write_bytes(data)
    option = "--models" if command == "compare" else "--model"
    assert main([command, "litmus/classic/C-SB.litmus", option, str(cat)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and re.search(re.escape(str(cat)) + ":" + want, err), err


def test_invalid_utf8_in_a_test_is_reported_where_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "u.litmus"
    path.write_bytes(b"X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\n(* \xff *)\nexists (x=1)\n")
    assert main(["check", str(path)]) == 2
    assert f"{path}:5:4: not a text file (invalid UTF-8)" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check", "batch"])
def test_unbound_model_name_is_found_when_the_model_is_loaded(command: str, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Whichever test would reach it: batch says it once, exit 2, not a row per test."""
    cat = tmp_path / "m.cat"
    cat.write_text('"m"\nlet unused = po ; nosuch\nacyclic po\n')
    assert main([command, "litmus/classic/C-SB.litmus", "--model", str(cat)]) == 2
    assert f"{cat}:2:19: unbound name 'nosuch' in model" in capsys.readouterr().err


def test_an_access_through_an_integer_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`int r0 = 5; WRITE_ONCE(*r0, 1)` writes to no location: herd7 refuses it ("non-symbolic
    memory access"); the write used to vanish and the answer be Never."""
    path = tmp_path / "np.litmus"
    path.write_text("C T\n{ x=0; }\nP0(int *x) { int r0 = 5; WRITE_ONCE(*r0, 1); }\nexists (x=1)\n")
    assert main(["check", str(path)]) == 2
    assert f"{path}:3:26: unsupported: P0 accesses memory at the integer 5" in capsys.readouterr().err


def _blow_up(tmp_path: Path) -> Path:
    """The audit's 14 KB AArch64 test: 2 threads of 500 instructions (3.5 GB, unfinished)."""
    lines = ["AArch64 BIG", "{ 0:X1=x; 0:X3=y; 1:X1=y; 1:X3=x; }", " P0 | P1 ;"]
    for i in range(250):
        lines += [" STR W0,[X1] | STR W0,[X1] ;", f" LDR W{4 + i % 20},[X3] | LDR W{4 + i % 20},[X3] ;"]
    f = tmp_path / "big.litmus"
    f.write_text("\n".join([*lines, "exists (0:X4=0 /\\ 1:X4=0)", ""]))
    return f


def test_check_has_a_memory_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Past the cap the answer is Unknown (exit 3), and the caller's process gets its limits back."""
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    assert main(["check", str(_blow_up(tmp_path)), "--model", "armv8", "--memory", "300"]) == 3
    assert "Unknown: the memory cap was reached (--memory 300)" in capsys.readouterr().out
    assert resource.getrlimit(resource.RLIMIT_AS) == before


def test_batch_memory_cap_gives_an_unknown_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(_blow_up(tmp_path)), "--model", "armv8", "--memory", "300", "-j", "1"]) == 3
    assert "memory cap was reached" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["check", "batch"])
@pytest.mark.parametrize("value", ["-1", "1.5", "abc", "64"])
def test_memory_must_be_a_sane_number_of_megabytes(command: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([command, "x.litmus", "--memory", value])
    assert e.value.code == 2
    assert "megabytes" in capsys.readouterr().err
