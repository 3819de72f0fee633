"""`reports.fenced.fenced_text`: the chosen knobs written into the test's own text.

Each case renders knobs from `knobs.candidates`, re-parses the new text with the front end
and checks (a) the program shape: the fence right after the anchor in the right thread, the
upgraded access with its new class, nothing else changed; (b) that it is the program the
engine itself makes with `knobs.apply` (classes and kinds per thread, positions ignored).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from verifier.analyses.knobs import Knob, apply, candidates, instructions, load_menu
from verifier.frontends import parse_file, parse_text
from verifier.frontends.yaml_format import read_yaml
from verifier.program.ast import Fence, Litmus, Load, Rmw, Store
from verifier.reports.fenced import fenced_text

ROOT = Path(__file__).resolve().parents[1]
Shape = list[list[tuple[str, str]]]


def shape(test: Litmus) -> Shape:
    """Per thread: each instruction's kind and class (positions and operands left out)."""
    return [[(type(i).__name__, getattr(i, "cls", "")) for i in instructions(t)]
            for t in sorted(test.threads, key=lambda t: t.tid)]


def expected_shape(test: Litmus, knobs: Sequence[Knob]) -> Shape:
    """The original shape with the knobs made by hand: fences (in knob order) right after
    their anchor, upgraded classes changed."""
    out: Shape = []
    for t in sorted(test.threads, key=lambda t: t.tid):
        row: list[tuple[str, str]] = []
        for i in instructions(t):
            here = [k for k in knobs if k.tid == t.tid and k.anchor == getattr(i, "pos", None)]
            cls = next((k.cls.split(".", 1)[1] for k in here if k.kind == "upgrade"), getattr(i, "cls", ""))
            row.append((type(i).__name__, cls))
            # A fence knob is a fence, or (x86's LOCK ADD) a locked RMW of a private location.
            row += [("Rmw" if k.cls.startswith("RMW.") else "Fence", k.cls.split(".", 1)[1])
                    for k in here if k.kind == "fence"]
        out.append(row)
    return out


def render(path: str | Path, pick: Callable[[tuple[Knob, ...]], Sequence[Knob]], text: str | None = None
           ) -> tuple[Litmus, Sequence[Knob], str, Litmus]:
    path = str(path)
    text = Path(path).read_text() if text is None else text
    test = parse_text(text, path)
    knobs = pick(candidates(test, load_menu(test.arch)))
    assert knobs, "the case picked no knob"
    out = fenced_text(text, test, knobs)
    new = parse_text(out, path)
    assert shape(new) == expected_shape(test, knobs)
    assert shape(new) == shape(apply(test, tuple(knobs), {k.index for k in knobs}))
    # The self-check the caller may ask for agrees (it compares operands too).
    assert fenced_text(text, test, knobs, reparse=lambda s: parse_text(s, path)) == out
    return test, knobs, out, new


def lit(name: str) -> Path:
    return ROOT / "litmus" / name


def one(name: str, kind: str = "fence", tid: int | None = None, nth: int = 0) -> Callable[[tuple[Knob, ...]], list[Knob]]:
    def pick(ks: tuple[Knob, ...]) -> list[Knob]:
        return [[k for k in ks if k.name == name and k.kind == kind and (tid is None or k.tid == tid)][nth]]
    return pick


# --------------------------------------------------------------------------- kernel C


@pytest.mark.parametrize("name", ["classic/C-MP.litmus", "classic/C-SB.litmus"])
def test_every_knob_of_a_c_test(name: str) -> None:
    test = parse_file(str(lit(name)))
    for k in candidates(test, load_menu(test.arch)):
        _, _, out, _ = render(lit(name), lambda ks, k=k: [ks[k.index]])
        if k.kind == "fence":
            anchor_line = out.splitlines()[k.line - 1]
            fence_line = out.splitlines()[k.line]
            assert fence_line == anchor_line[: len(anchor_line) - len(anchor_line.lstrip())] + f"{k.name}();"


def test_c_upgrades_rewrite_the_calls() -> None:
    _, _, out, new = render(lit("classic/C-MP.litmus"), lambda ks: [k for k in ks if k.kind == "upgrade"])
    assert "\tsmp_store_release(x, 1);\n\tsmp_store_release(y, 1);\n" in out
    assert "\tr0 = smp_load_acquire(y);\n\tr1 = smp_load_acquire(x);\n" in out
    loads = [i for t in new.threads for i in instructions(t) if isinstance(i, Load)]
    stores = [i for t in new.threads for i in instructions(t) if isinstance(i, Store)]
    assert {i.cls for i in loads} == {"acquire"} and {i.cls for i in stores} == {"release"}


def test_several_fences_after_one_anchor_in_knob_order() -> None:
    pick = lambda ks: [k for k in ks if k.kind == "fence" and k.tid == 0][::-1]  # noqa: E731
    _, knobs, out, _ = render(lit("classic/C-MP.litmus"), pick)
    assert "\tWRITE_ONCE(*x, 1);\n\tsmp_wmb();\n\tsmp_rmb();\n\tsmp_mb();\n\tWRITE_ONCE(*y, 1);" in out


def test_rmw_relaxed_becomes_fully_ordered() -> None:
    pick = lambda ks: [k for k in ks if k.name in ("fully-ordered", "smp_mb__after_atomic") and k.tid == 1]  # noqa: E731
    _, _, out, new = render(lit("classic/C-SB+xchg_relaxeds.litmus"), pick)
    assert "\tr1 = xchg(y, 1);\n\tsmp_mb__after_atomic();\n" in out and "xchg_relaxed(x, 1)" in out
    rmws = [i for i in instructions(new.threads[1]) if isinstance(i, Rmw)]
    assert [r.cls for r in rmws] == ["mb"]


def test_nested_parentheses_and_a_second_statement_on_the_line(tmp_path: Path) -> None:
    text = ("C T\n{}\nP0(int *x, int *y, int *z)\n{\n  int r0;\n"
            "  WRITE_ONCE(*x, (READ_ONCE(*y) + (1)) * 2); r0 = READ_ONCE(*(z));\n"
            "  WRITE_ONCE(*y,\n             2);\n}\nexists (0:r0=0)\n")
    path = tmp_path / "T.litmus"

    def pick(ks: tuple[Knob, ...]) -> list[Knob]:
        stores = [k for k in ks if k.name == "smp_store_release"]
        loads = [k for k in ks if k.name == "smp_load_acquire" and k.line == 6 and k.anchor.col > 40]
        # Inline after the store, then a new line after the load (not after the inner READ_ONCE).
        fences = [k for k in ks if k.name == "smp_mb" and k.line == 6 and not 5 < k.anchor.col < 40]
        return stores + loads + fences

    _, _, out, _ = render(path, pick, text)
    assert ("  smp_store_release(x, (READ_ONCE(*y) + (1)) * 2); smp_mb(); r0 = smp_load_acquire((z));\n"
            "  smp_mb();\n  smp_store_release(y,\n             2);\n") in out


# --------------------------------------------------------------------------- assembly


def table_rows(out: str) -> list[str]:
    return [line for line in out.splitlines() if "|" in line and line.rstrip().endswith(";")]


def test_aarch64_fences_and_upgrades_keep_the_table_aligned() -> None:
    def pick(ks: tuple[Knob, ...]) -> list[Knob]:
        return [ks[0], next(k for k in ks if k.name == "DMB ISHLD" and k.tid == 1),
                next(k for k in ks if k.name == "LDAR" and k.line == 13), next(k for k in ks if k.name == "STLR")]

    _, _, out, new = render(lit("classic/AArch64-MP.litmus"), pick)
    rows = table_rows(out)
    assert rows[1:4] == [" MOV W0,#1    | LDAR W0,[X3] ;", "              | DMB ISHLD    ;", " STLR W0,[X1] | LDR W2,[X1]  ;"]
    assert rows[4] == " DMB ISH      |              ;"
    assert len({row.index("|") for row in rows}) == 1 and len({len(row) for row in rows}) == 1
    assert [i.cls for i in instructions(new.threads[1]) if isinstance(i, Load)] == ["acquire", "plain"]


def test_x86_mfence_in_each_thread() -> None:
    _, _, out, _ = render(lit("classic/X86-SB.litmus"), lambda ks: [k for k in ks if k.name == "MFENCE"])
    assert table_rows(out)[1:5] == [" MOV [x],$1  | MOV [y],$1  ;", " MFENCE      |             ;",
                                    "             | MFENCE      ;", " MOV EAX,[y] | MOV EAX,[x] ;"]


# --------------------------------------------------------------------------- the YAML format


def test_yaml_program_and_its_fence_sites() -> None:
    path = lit("examples/MP+poonceonces.litmus.yaml")
    pick = lambda ks: [one("smp_wmb", tid=0)(ks)[0], one("smp_load_acquire", "upgrade", 1, 1)(ks)[0]]  # noqa: E731
    _, _, out, _ = render(path, pick)
    assert "          WRITE_ONCE(*data, 1);\n          smp_wmb();\n" in out
    assert "r1 = smp_load_acquire(data);" in out
    before, after = read_yaml(path.read_text(), str(path)), read_yaml(out, str(path))
    # Each named site still follows the same statement (the second moved down one line).
    assert [f.after_line for f in after.fences] == [5, 15]
    lines, new_lines = path.read_text().splitlines(), out.splitlines()
    for f, g in zip(before.fences, after.fences, strict=True):
        assert lines[f.file_line - 1] == new_lines[g.file_line - 1]


def test_yaml_test_block() -> None:
    path = lit("examples/AArch64-SB+dmb.st.litmus.yaml")
    _, _, out, _ = render(path, lambda ks: [one("DMB ISH", tid=1)(ks)[0], one("STLR", "upgrade", 0)(ks)[0]])
    assert "   STLR W0,[X1] | STR W0,[X1] ;\n                | DMB ISH     ;\n   DMB ST       | DMB ST      ;\n" in out


@pytest.mark.parametrize("name", ["gup/mkclean-pinflag-vs-gup+wmb-relaxed-clear.litmus.yaml",
                                  "gup/anonexcl-share-vs-gup.litmus.yaml",
                                  "gup/fork-wrprotect-vs-gup-pin.litmus.yaml"])
def test_gup_files_a_fence_and_an_upgrade(name: str) -> None:
    def pick(ks: tuple[Knob, ...]) -> list[Knob]:
        relaxed = [k for k in ks if k.name == "fully-ordered"]
        return [next(k for k in ks if k.kind == "fence" and k.name == "smp_mb"), (relaxed or [k for k in ks if k.kind == "upgrade"])[-1]]

    render(lit(name), pick)


# --------------------------------------------------------------------------- refusals


def test_what_cannot_be_written_is_refused(tmp_path: Path) -> None:
    path = lit("classic/C-MP.litmus")
    text, test = path.read_text(), parse_file(str(path))
    ks = candidates(test, load_menu(test.arch))
    with pytest.raises(ValueError, match="no kernel C barrier 'smp_foo'"):
        fenced_text(text, test, [dataclasses.replace(ks[0], name="smp_foo")])
    load_up = next(k for k in ks if k.name == "smp_load_acquire")
    with pytest.raises(ValueError, match="expected a call of class R.once at line 24, found .r0."):  # the anchor moved
        fenced_text(text, test, [dataclasses.replace(load_up, anchor=dataclasses.replace(load_up.anchor, col=2))])
    with pytest.raises(ValueError, match="overlap"):
        fenced_text(text, test, [load_up, dataclasses.replace(load_up, index=99)])
    with pytest.raises(ValueError, match="not a change"):
        fenced_text(text, test, [dataclasses.replace(ks[0], kind="keep")])
    # A fence after a statement that is an if's body without braces.
    nolock = lit("gup/seqcount-fork-vs-gup-nolock.litmus.yaml")
    t2 = parse_file(str(nolock))
    inside = next(k for k in candidates(t2, load_menu("C")) if k.kind == "fence" and k.line == 48)
    with pytest.raises(ValueError, match="without braces"):
        fenced_text(nolock.read_text(), t2, [inside])
    # A fence after an access inside an expression.
    text3 = "C T\n{}\nP0(int *x, int *y)\n{\n\tWRITE_ONCE(*x, READ_ONCE(*y));\n}\nexists (x=0)\n"
    t3 = parse_text(text3, str(tmp_path / "T.litmus"))
    inner = next(k for k in candidates(t3, load_menu("C")) if k.kind == "fence")
    with pytest.raises(ValueError, match="inside a condition or expression"):
        fenced_text(text3, t3, [inner])
    # An AArch64 upgrade whose anchor is not the expected mnemonic.
    a64 = lit("classic/AArch64-MP.litmus")
    t4 = parse_file(str(a64))
    stlr = next(k for k in candidates(t4, load_menu("AArch64")) if k.name == "STLR")
    with pytest.raises(ValueError, match="expected STR"):
        fenced_text(a64.read_text(), t4, [dataclasses.replace(stlr, anchor=dataclasses.replace(stlr.anchor, line=13))])
    assert not any(isinstance(i, Fence) for i in instructions(t4.threads[0]))
