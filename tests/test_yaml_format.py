"""The project's YAML litmus format: the examples, positions mapped back into the YAML file,
and every kind of bad input as `file:line:col: message` with exit status 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from verifier.cli.main import main
from verifier.frontends import parse_file
from verifier.frontends.yaml_format import read_yaml
from verifier.program.ast import Load, Store
from verifier.runner.discover import discover

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "litmus" / "examples"
MP = EXAMPLES / "MP+poonceonces.litmus.yaml"
SB = EXAMPLES / "AArch64-SB+dmb.st.litmus.yaml"

# Line numbers below are this text's lines (1-based); the test cases edit it.
GOOD = """\
name: MP
description: message passing
program: |
  {}

  P0(int *x, int *y)
  {
          WRITE_ONCE(*x, 1);
          WRITE_ONCE(*y, 1);
  }

  P1(int *x, int *y)
  {
          int r0;
          int r1;

          r0 = READ_ONCE(*y);
          r1 = READ_ONCE(*x);
  }
condition: exists (1:r0=1 /\\ 1:r1=0)
expected:
  sc: Never
  armv8: Sometimes
fences:
  - {name: w, thread: 0, after_line: 5}
  - {name: r, thread: 1, after_line: 14}
"""

EMBEDDED = """\
name: SB
description: store buffering
test: |
  X86 SB
  { x=0; y=0; }
   P0          | P1          ;
   MOV [x],$1  | MOV [y],$1  ;
   MOV EAX,[y] | MOV EAX,[x] ;
  exists (0:EAX=0 /\\ 1:EAX=0)
expected:
  sc: Never
  x86-tso: Sometimes
"""


def write(tmp_path: Path, text: str, name: str = "t.litmus.yaml") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def bad(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, col: int | None,
        pattern: str, name: str = "t.litmus.yaml") -> str:
    """Check the file: exit status 2, and one `file:line:col: message` naming the problem."""
    f = write(tmp_path, text, name)
    code = main(["check", f])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    where = rf"{line}:{col}" if col is not None else rf"{line}:\d+"
    assert re.search(re.escape(f) + ":" + where + ": ", err), err
    assert re.search(pattern, err), err
    assert "Traceback" not in err
    return err


# --------------------------------------------------------------------------- good files


@pytest.mark.parametrize("path", [MP, SB], ids=["program", "test"])
def test_examples_match_their_expectations(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(path), "--model", "sc,x86-tso,armv8"]) == 0, capsys.readouterr().err


def test_examples_parse_with_their_metadata() -> None:
    mp = read_yaml(MP.read_text(), str(MP))
    assert mp.style == "program" and mp.litmus.arch == "C" and mp.litmus.name == "MP+poonceonces"
    assert dict(mp.litmus.expected) == {"sc": "Never", "x86-tso": "Never", "armv8": "Sometimes"}
    assert mp.family == "message-passing" and "READ_ONCE" in mp.provenance.functions
    assert [(f.name, f.thread, f.after_line) for f in mp.fences] == [
        ("between-the-writes", 0, 5), ("between-the-reads", 1, 14)]
    sb = read_yaml(SB.read_text(), str(SB))
    assert sb.style == "test" and sb.litmus.arch == "AArch64" and sb.litmus.name == "SB+dmb.sts"
    assert dict(sb.litmus.expected) == {"sc": "Never", "armv8": "Sometimes"}
    assert parse_file(str(MP)).arch == "C" and parse_file(str(SB)).arch == "AArch64"


def test_instruction_positions_are_the_yaml_files(tmp_path: Path) -> None:
    f = write(tmp_path, GOOD)
    test = parse_file(f)
    store = test.threads[0].body[0]
    load = test.threads[1].body[1]
    assert isinstance(store, Store) and (store.pos.file, store.pos.line, store.pos.col) == (f, 8, 11)
    assert isinstance(load, Load) and (load.pos.line, load.pos.col) == (18, 16)
    assert [(m, p.line, p.col) for m, p in test.expected_at] == [("sc", 22, 3), ("armv8", 23, 3)]


def test_embedded_and_plain_yaml_suffixes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("sb.litmus.yaml", "sb.litmus.yml", "sb.yaml"):
        f = write(tmp_path, EMBEDDED, name)
        assert parse_file(f).arch == "X86"
        assert main(["check", f, "--model", "sc,x86-tso"]) == 0, capsys.readouterr().err


def test_directories_contribute_litmus_yaml_files_only(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.litmus.yaml")
    write(tmp_path, GOOD, "b.litmus.yml")
    write(tmp_path, "not: a test\n", "models.yaml")
    found = discover([str(tmp_path)])
    assert [Path(f).name for f in found.files] == ["a.litmus.yaml", "b.litmus.yml"] and not found.missing


def test_lkmm_expectation_is_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, GOOD.replace("  sc: Never", "  lkmm: Never\n  sc: Never"))
    assert main(["check", f, "--model", "sc"]) == 0, capsys.readouterr().err


def test_program_without_init_block_and_with_locations_filter(tmp_path: Path) -> None:
    text = GOOD.replace("  {}\n", "").replace("condition:", "locations: [x, '0:r9']\nfilter: 1:r0=1\ncondition:")
    text = text.replace("'0:r9'", "'1:r1'")
    test = parse_file(write(tmp_path, text))
    assert [str(o) for o in test.observed] == ["[x]", "1:r1"] and test.filter is not None


# --------------------------------------------------------------------------- positions of errors


def test_error_inside_the_program_points_into_the_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Line 9 of GOOD is `          WRITE_ONCE(*y, 1);`: 'r7' starts at column 11 + len("WRITE_ONCE(*y, ").
    bad(tmp_path, capsys, GOOD.replace("WRITE_ONCE(*y, 1);", "WRITE_ONCE(*y, r7);"), 9, 26, r"undefined name 'r7'")
    bad(tmp_path, capsys, GOOD.replace("WRITE_ONCE(*y, 1);", "frob(y);"), 9, 11, r"unsupported primitive 'frob'")


def test_error_in_a_program_with_tabs_and_crlf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("          WRITE_ONCE(*y, 1);", "  \tWRITE_ONCE(*y, r7);").replace("\n", "\r\n")
    bad(tmp_path, capsys, text, 9, 19, r"undefined name 'r7'")


def test_error_in_the_condition_points_into_the_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad(tmp_path, capsys, GOOD.replace("1:r1=0)", "1:r5=0)"), 20, 32, r"thread P1 has no register 'r5'")
    bad(tmp_path, capsys, GOOD.replace("condition: exists (1:r0=1 /\\ 1:r1=0)", "condition: 'exists (1:r0=)'"),
        20, 26, r"expected a value")


def test_line_numbers_inside_messages_are_the_yaml_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("          r1 = READ_ONCE(*x);\n  }\n", "          r1 = READ_ONCE(*x);\n")
    err = bad(tmp_path, capsys, text, 13, 3, r"'\{' in P1 is not closed")
    assert "(line 19)" in err  # the condition, on line 19 of the YAML file once '}' is gone


def test_error_inside_an_embedded_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad(tmp_path, capsys, EMBEDDED.replace("MOV EAX,[x]", "FROB EAX,[x]"), 8, 18, r"unsupported X86 instruction")
    bad(tmp_path, capsys, EMBEDDED.replace("X86 SB", "PPC SB"), 4, 3, r"unsupported litmus dialect 'PPC'")


# --------------------------------------------------------------------------- schema errors

SCHEMA = {
    "missing name": (GOOD.replace("name: MP\n", ""), 1, 1, r"missing required key 'name'"),
    "missing description": (GOOD.replace("description: message passing\n", ""), 1, 1,
                            r"missing required key 'description'"),
    "missing expected": (GOOD.split("expected:")[0], 1, 1, r"missing required key 'expected'"),
    "missing condition": (GOOD.replace("condition: exists (1:r0=1 /\\ 1:r1=0)\n", ""), 3, 1,
                          r"missing required key 'condition'"),
    "missing program": ("name: a\ndescription: b\nexpected: {sc: Never}\n", 1, 1, r"missing required key 'program'"),
    "expected is a list": (re.sub(r"expected:\n(  \w+: \w+\n)+", "expected: [Never]\n", GOOD), 21, 11,
                           r"'expected' must map model names to Never, Sometimes or Always"),
    "expected is empty": (re.sub(r"expected:\n(  \w+: \w+\n)+", "expected: {}\n", GOOD), 21, 11,
                          r"'expected' must map model names to Never, Sometimes or Always"),
    "expected word": (GOOD.replace("sc: Never", "sc: never"), 22, 7, r"'expected' must map .*found 'never' for 'sc'"),
    "name is a number": (GOOD.replace("name: MP", "name: 3"), 1, 7, r"'name' must be a string; found an integer"),
    "family is a list": (GOOD.replace("description:", "family: [1]\ndescription:"), 2, 9,
                         r"'family' must be a string or an integer"),
    "commits is a string": (GOOD.replace("description:", "provenance: {commits: abc123}\ndescription:"), 2, 23,
                            r"'provenance.commits' must be a list of strings"),
    "unknown key": (GOOD.replace("condition:", "conditon:"), 20, 1, r"unknown key 'conditon' \(did you mean 'condition'\?\)"),
    "unknown provenance key": (GOOD.replace("description:", "provenance:\n  comits: [a]\ndescription:"), 3, 3,
                               r"unknown key 'comits'"),
    "duplicate key": (GOOD + "name: again\n", 27, 1, r"duplicate key 'name'"),
    "unknown model": (GOOD.replace("  armv8: Sometimes", "  x86tso: Sometimes"), 23, 3,
                      r"unknown model 'x86tso' in 'expected' \(did you mean 'x86-tso'\?"),
    "program and test": (GOOD + "test: |\n  C MP\n", 27, 1, r"'program' and 'test' cannot both be given"),
    "condition with test": (EMBEDDED + "condition: exists (x=1)\n", 13, 1, r"'condition' is not allowed with 'test'"),
    "name differs from header": (EMBEDDED.replace("name: SB", "name: SB2"), 1, 7,
                                 r"'name' is 'SB2' but the embedded test's header says 'SB'"),
    "folded program": (GOOD.replace("program: |", "program: >"), 3, 10, r"'program' spans several lines: write it as a literal"),
    "condition not a quantifier": (GOOD.replace("condition: exists ", "condition: "), 20, 12,
                                   r"'condition' must start with 'exists', '~exists' or 'forall'"),
    "condition inside program": (GOOD.replace("  }\ncondition", "  }\n  exists (1:r0=1)\ncondition"), 20, 3,
                                 r"the program contains 'exists': put the final condition under 'condition'"),
    "unterminated comment": (GOOD.replace("WRITE_ONCE(*y, 1);", "WRITE_ONCE(*y, 1); /* oops"), 9, 30,
                             r"unterminated comment '/\*'"),
    "result comment inside": (GOOD.replace("  {}\n", "  (* Result: Never *)\n  {}\n", 1), 4, 6,
                              r"a 'Result' comment inside the program: record expectations under 'expected'"),
    "fence outside its thread": (GOOD.replace("after_line: 14", "after_line: 9"), 26, 38,
                                 r"fence 'r': line 9 of the program is not inside the body of P1 "
                                 r"\(after_line may be lines 10 to 15\)"),
    "fence after the closing brace": (GOOD.replace("after_line: 5", "after_line: 7"), 25, 38,
                                      r"fence 'w': line 7 of the program is not inside the body of P0"),
    "fence in a missing thread": (GOOD.replace("thread: 1", "thread: 2"), 26, 23, r"fence 'r': no thread P2"),
    "fence thread not an int": (GOOD.replace("thread: 1", "thread: one"), 26, 23,
                                r"'fences\[1\].thread' must be an integer; found a string"),
    "fence missing key": (GOOD.replace(", after_line: 14", ""), 26, 5, r"missing required key 'after_line' in fences\[1\]"),
    "fence unknown key": (GOOD.replace("after_line: 14", "after_line: 14, kind: mb"), 26, 42, r"unknown key 'kind'"),
    "fences with assembly": (EMBEDDED + "fences: []\n", 13, 9, r"'fences' need a kernel C program \(this test is X86\)"),
    "top level is a list": ("- name: a\n", 1, 1, r"the file must be a mapping .*found a list"),
    "empty file": ("", 1, 1, r"empty file"),
    "only a comment": ("# nothing here\n", 1, 1, r"empty file"),
    "yaml syntax error": (GOOD.replace("name: MP", "name: [MP"), 2, 12, r"invalid YAML: "),
    "tab indentation": (GOOD.replace("  sc: Never", "\tsc: Never"), 22, 1, r"invalid YAML: "),
    "two documents": (GOOD + "---\nname: x\n", 27, 1, r"invalid YAML: .*single document"),
    "bad explicit int": (GOOD.replace("description:", "family: !!int abc\ndescription:"), 2, 9, r"invalid YAML value"),
    "control character": ("name: a\x07\n", 1, 8, r"invalid YAML: unacceptable character #x0007"),
    "nested too deeply": ("a: " + "[" * 3000 + "]" * 3000 + "\n", 1, 1, r"invalid YAML: nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(SCHEMA))
def test_schema_errors(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, line, col, pattern = SCHEMA[case]
    bad(tmp_path, capsys, text, line, col, pattern)


def test_python_tags_are_refused_and_nothing_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "ran"
    bad(tmp_path, capsys, f'!!python/object/apply:os.system ["touch {marker}"]\n', 1, 1,
        r"invalid YAML: could not determine a constructor for the tag .*python/object/apply:os\.system")
    inner = GOOD.replace("description: message passing", f'description: !!python/object/apply:os.system ["touch {marker}"]')
    bad(tmp_path, capsys, inner, 2, 14, r"python/object/apply:os\.system")
    bad(tmp_path, capsys, GOOD.replace("name: MP", "name: !!python/name:os.system"), 1, 7, r"python/name:os\.system")
    assert not marker.exists()


def test_a_bad_yaml_file_is_an_error_row_in_a_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, GOOD.replace("conditon", "x").replace("condition:", "conditon:"), "bad.litmus.yaml")
    write(tmp_path, GOOD, "good.litmus.yaml")
    code = main(["batch", str(tmp_path), "--model", "sc", "-j", "1"])
    out, err = capsys.readouterr()
    assert code == 1, out + err  # a batch reports bad files as error rows (exit status 1)
    assert "bad.litmus.yaml:20:1: unknown key 'conditon'" in out + err
    assert "Traceback" not in out + err


def test_the_documented_examples_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/litmus-format.md's complete examples are valid and answer what they expect."""
    doc = (ROOT / "docs" / "litmus-format.md").read_text()
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "\nexpected:" in b]
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        f = write(tmp_path, block, f"doc{i}.litmus.yaml")
        assert main(["check", f, "--model", "sc,x86-tso,armv8"]) == 0, capsys.readouterr().err
