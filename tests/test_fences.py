"""Fence synthesis and explanations: textbook answers per model, the GUP library's buggy
variants fixed at no more than the kernel's cost, and `explain` naming the kernel's barriers."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from verifier.analyses.explain import Explanation, explain
from verifier.analyses.knobs import load_menu, sources
from verifier.analyses.registry import resolve_model
from verifier.analyses.synth import Synthesis, synthesize, unreachable
from verifier.cli.main import main
from verifier.frontends import parse_file
from verifier.reports.synthesis import explanation_text

ROOT = Path(__file__).resolve().parents[1]
CLASSIC = ROOT / "litmus" / "classic"
GUP = ROOT / "litmus" / "gup"


@cache
def _synth(path: str, model: str, costs: tuple[tuple[str, int], ...] = (), all_: bool = False) -> Synthesis:
    test = parse_file(path)
    return synthesize(test, resolve_model(model), load_menu(test.arch, dict(costs)), all_solutions=all_)


def _names(s: Synthesis) -> list[tuple[int, str]]:
    return sorted((k.tid, k.name) for k in s.chosen_knobs())


# --------------------------------------------------------------------------- textbook shapes


def test_sb_on_x86_is_one_mfence_per_thread() -> None:
    s = _synth(str(CLASSIC / "X86-SB.litmus"), "x86-tso")
    assert s.status == "fixed" and _names(s) == [(0, "MFENCE"), (1, "MFENCE")] and s.cost == 20
    assert s.recheck is not None and s.recheck.observation == "Never"


def test_sb_in_kernel_c_on_x86_is_one_smp_mb_per_thread() -> None:
    s = _synth(str(CLASSIC / "C-SB.litmus"), "x86-tso", all_=True)
    # smp_rmb/smp_wmb and acquire/release compile to nothing that orders store->load on x86.
    assert _names(s) == [(0, "smp_mb"), (1, "smp_mb")]
    assert len(s.alternatives) == 1


def test_mp_on_armv8_takes_release_acquire_at_default_costs() -> None:
    s = _synth(str(CLASSIC / "AArch64-MP.litmus"), "armv8")
    assert _names(s) == [(0, "STLR"), (1, "LDAR")] and s.cost == 6


def test_mp_on_armv8_takes_dmb_ishst_and_ishld_when_acquire_release_cost_more() -> None:
    s = _synth(str(CLASSIC / "AArch64-MP.litmus"), "armv8", (("LDAR", 7), ("STLR", 7)))
    assert _names(s) == [(0, "DMB ISHST"), (1, "DMB ISHLD")] and s.cost == 12


def test_mp_in_kernel_c_on_armv8_follows_the_costs() -> None:
    assert _names(_synth(str(CLASSIC / "C-MP.litmus"), "armv8")) == [(0, "smp_store_release"), (1, "smp_load_acquire")]
    dear = (("smp_load_acquire", 7), ("smp_store_release", 7))
    assert _names(_synth(str(CLASSIC / "C-MP.litmus"), "armv8", dear)) == [(0, "smp_wmb"), (1, "smp_rmb")]


def test_lb_on_armv8_has_four_cheapest_fixes() -> None:
    s = _synth(str(CLASSIC / "AArch64-LB.litmus"), "armv8", all_=True)
    # Either side of each thread's read->write pair: an acquire read or a release write.
    assert s.cost == 6 and len(s.alternatives) == 4
    for alt in s.alternatives:
        assert sorted(s.knobs[i].tid for i in alt) == [0, 1]


def test_an_unreachable_test_needs_nothing() -> None:
    s = _synth(str(CLASSIC / "C-MP.litmus"), "x86-tso")
    assert s.status == "already" and s.chosen == () and s.cost == 0


def test_an_outcome_reachable_under_sc_cannot_be_fenced() -> None:
    s = _synth(str(GUP / "thp-collapse-vs-gup.litmus.yaml"), "armv8")
    assert s.status == "sc-reachable" and s.witness is not None


def test_no_fix_among_restricted_sites() -> None:
    test = parse_file(str(CLASSIC / "C-SB.litmus"))
    # Fences only in P0 (and no upgrades in P1 help on x86): P1's store->load stays.
    s = synthesize(test, resolve_model("x86-tso"), load_menu("C"), sites=[(0, 17)])
    assert s.status == "no-fix" and s.witness is not None


def test_the_proof_cores_each_come_with_an_execution() -> None:
    s = _synth(str(CLASSIC / "C-SB.litmus"), "armv8")
    assert s.cores and all(c.witness is not None and c.knobs for c in s.cores)
    # Every core is hit by the answer, and every cheaper set misses one (the optimizer's job;
    # tests/test_fences_optimal.py checks that against brute force).
    chosen = set(s.chosen)
    assert all(chosen & set(c.knobs) for c in s.cores)


# --------------------------------------------------------------------------- the GUP library

# Buggy variant -> the fixed variant whose extra barriers are the kernel's (or the library's
# proposed) fix; None: no fixed counterpart in the library (the answer must still hold).
GUP_FIXES = {
    "fork-wrprotect-vs-gup-pin": "fork-wrprotect-vs-gup-pin+mbs",
    "fork-wrprotect-vs-gup-pin+mb-gup": "fork-wrprotect-vs-gup-pin+mbs",
    "seqcount-fork-vs-gup": "seqcount-fork-vs-gup+mb",
    "seqcount-fork-vs-gup-nolock": None,
    "anonexcl-share-vs-gup": "anonexcl-share-vs-gup+fix",
    "anonexcl-share-vs-gup+fix-no-mb": "anonexcl-share-vs-gup+fix",
    "anonexcl-share-vs-gup+fix-no-rmb": "anonexcl-share-vs-gup+fix",
    "anonexcl-share-vs-gup-pincount": None,
    "anonexcl-restore-vs-gup-recheck": None,
    "mkclean-pinflag-vs-gup": "mkclean-pinflag-vs-gup+wmb",
    "mkclean-pinflag-vs-gup+wmb-relaxed-clear": "mkclean-pinflag-vs-gup+wmb",
    "ptep-lockless-vs-set": "ptep-lockless-vs-set+barriers",
    "ptep-lockless-vs-set+wmb-only": "ptep-lockless-vs-set+barriers",
    "thp-collapse-vs-gup+pmd-recheck-noflush": "thp-collapse-vs-gup+pmd-recheck",
    "zap-vs-gup-speculative-ref+relaxed-get": "zap-vs-gup-speculative-ref",
}

# What each ordering source costs, in the menu's terms (the option that would create it).
SOURCE_COST = {"F.mb": "smp_mb", "F.rmb": "smp_rmb", "F.wmb": "smp_wmb", "F.after-atomic": "smp_mb__after_atomic",
               "R.acquire": "smp_load_acquire", "W.release": "smp_store_release", "RMW.mb": "fully-ordered"}


def _gup(name: str) -> str:
    return str(GUP / f"{name}.litmus.yaml")


def _barriers(name: str) -> Counter[tuple[int, str]]:
    test = parse_file(_gup(name))
    return Counter((k.tid, k.cls) for k in sources(test, load_menu("C")) if k.old != "weaker")


def _fix_cost(buggy: str, fixed: str) -> int:
    menu = load_menu("C")
    added = _barriers(fixed) - _barriers(buggy)
    return sum(n * menu.option(SOURCE_COST[cls]).cost for (_, cls), n in added.items())  # type: ignore[union-attr]


def test_every_buggy_gup_variant_reachable_on_armv8_is_listed() -> None:
    buggy = {p.name.removesuffix(".litmus.yaml") for p in GUP.glob("*.litmus.yaml")
             if dict(parse_file(str(p)).expected).get("armv8") == "Sometimes"
             and dict(parse_file(str(p)).expected).get("sc") == "Never"}
    assert buggy == set(GUP_FIXES)


@pytest.mark.parametrize("name", sorted(GUP_FIXES))
def test_gup_buggy_variant_is_fixed_on_armv8_at_no_more_than_the_kernel_cost(name: str) -> None:
    s = _synth(_gup(name), "armv8")
    assert s.status == "fixed"
    assert s.recheck is not None and unreachable(s.test, s.recheck)
    fixed = GUP_FIXES[name]
    if fixed is not None:
        assert s.cost <= _fix_cost(name, fixed), [k.describe() for k in s.chosen_knobs()]


# --------------------------------------------------------------------------- explain

# Fixed variant -> its buggy counterpart: the barriers the fix added must be among the needed
# sources, except those listed with the reason they are not.
EXPLAINED = {
    "fork-wrprotect-vs-gup-pin+mbs": "fork-wrprotect-vs-gup-pin",
    "seqcount-fork-vs-gup+mb": "seqcount-fork-vs-gup",
    "thp-collapse-vs-gup+pmd-recheck": "thp-collapse-vs-gup+pmd-recheck-noflush",
    "zap-vs-gup-speculative-ref": "zap-vs-gup-speculative-ref+relaxed-get",
    "anonexcl-share-vs-gup+fix": "anonexcl-share-vs-gup",
    "mkclean-pinflag-vs-gup+wmb": "mkclean-pinflag-vs-gup",
    "ptep-lockless-vs-set+barriers": "ptep-lockless-vs-set",
}
NOT_NEEDED = {
    # GUP's smp_mb() after the fully ordered pin adds nothing (docs/gup.md, family 1).
    ("fork-wrprotect-vs-gup-pin+mbs", 1, "F.mb"),
    # Likewise GUP's smp_mb__after_atomic() after the fully ordered page_ref_add_unless()
    # (docs/gup.md, family 4: the -no-... variants show which barriers carry the fix).
    ("anonexcl-share-vs-gup+fix", 1, "F.after-atomic"),
    # The second smp_rmb() orders the re-read of pte_low, which the condition does not need:
    # a re-read that sees the new low value is the retry, not the bad outcome.
    ("ptep-lockless-vs-set+barriers", 1, "F.rmb"),
}


@cache
def _explain(name: str) -> Explanation:
    test = parse_file(_gup(name))
    return explain(test, resolve_model("armv8"), load_menu(test.arch))


@pytest.mark.parametrize("fixed", sorted(EXPLAINED))
def test_explain_names_the_kernel_fix_among_the_needed_barriers(fixed: str) -> None:
    e = _explain(fixed)
    assert e.status == "explained"
    knobs = {k.index: k for k in e.knobs}
    needed = Counter((knobs[i].tid, knobs[i].cls) for i in e.needed)
    added = _barriers(fixed) - _barriers(EXPLAINED[fixed])
    assert added, "the fix adds no barrier?"
    for (tid, cls), n in added.items():
        if (fixed, tid, cls) in NOT_NEEDED:
            continue
        assert needed[(tid, cls)] >= n, f"P{tid} {cls} added by the fix is not needed"
    # Needed sources are in every sufficient set, so in the minimal one.
    assert set(e.needed) <= set(e.minimal)


def test_explain_finds_weaker_barriers() -> None:
    test = parse_file(str(CLASSIC / "C-MP+mbs.litmus"))
    e = explain(test, resolve_model("armv8"), load_menu("C"))
    knobs = {k.index: k for k in e.knobs}
    assert sorted((knobs[w.source].tid, w.to) for w in e.weakenings) == [(0, "F.wmb"), (1, "F.rmb")]
    assert len(e.needed) == 2 and not e.redundant


def test_explain_counts_dependencies_as_sources() -> None:
    test = parse_file(str(CLASSIC / "AArch64-ISA2+dmb.sy+addr+addr.litmus"))
    e = explain(test, resolve_model("armv8"), load_menu(test.arch))
    kinds = sorted(k.kind for k in e.knobs if k.index in e.needed)
    assert kinds == ["dep", "dep", "keep"]


def test_explain_on_a_reachable_test_says_so() -> None:
    test = parse_file(str(CLASSIC / "C-MP.litmus"))
    e = explain(test, resolve_model("armv8"), load_menu("C"))
    assert e.status == "reachable" and e.witness is not None


# --------------------------------------------------------------------------- command line


def test_cli_fences_prints_the_fix_and_writes_a_checked_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fences", str(CLASSIC / "C-MP.litmus"), "--model", "armv8", "--write", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "P0 line 16: WRITE_ONCE -> smp_store_release" in out and "checked again" in out
    written = (tmp_path / "C-MP.litmus").read_text()
    assert "smp_store_release(x, 1)" in written or "smp_store_release(y, 1)" in written
    assert "Result(armv8): Never" in written
    assert main(["check", str(tmp_path / "C-MP.litmus"), "--model", "armv8"]) == 0


def test_cli_fences_json_and_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fences", str(CLASSIC / "AArch64-LB.litmus"), "--model", "armv8", "--all", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["status"] == "fixed" and row["cost"] == 6 and len(row["alternatives"]) == 4
    assert row["recheck"]["observation"] == "Never" and row["proof"]["cores"]


def test_cli_fences_on_sc_reachable_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fences", str(GUP / "thp-collapse-vs-gup.litmus.yaml"), "--model", "armv8"]) == 1
    assert "no fence can help" in capsys.readouterr().out


def test_cli_fences_yaml_sites(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(ROOT / "litmus" / "examples" / "MP+poonceonces.litmus.yaml")
    costs = ["--costs", str(ROOT / "tests" / "data" / "dear-acquire.yaml")]
    assert main(["fences", path, "--model", "armv8", *costs]) == 0
    out = capsys.readouterr().out
    assert "smp_wmb" in out and "smp_rmb" in out


def test_cli_bad_cost_file_is_a_positioned_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "costs.yaml"
    bad.write_text("smp_mb: 10\nsmp_rbm: 3\n")
    assert main(["fences", str(CLASSIC / "C-MP.litmus"), "--model", "armv8", "--costs", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2:1: unknown option 'smp_rbm'" in err and "Traceback" not in err
    bad.write_text("smp_mb: -1\n")
    assert main(["fences", str(CLASSIC / "C-MP.litmus"), "--model", "armv8", "--costs", str(bad)]) == 2
    assert f"{bad}:1:9: the cost of 'smp_mb' must be a positive integer" in capsys.readouterr().err


def test_cli_bad_site_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fences", str(CLASSIC / "C-MP.litmus"), "--model", "armv8", "--sites", "P7:3"]) == 2
    assert "no thread P7" in capsys.readouterr().err


def test_cli_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(CLASSIC / "C-MP+mbs.litmus"), "--model", "armv8"]) == 0
    out = capsys.readouterr().out
    assert "needed" in out and "could be weaker: P0 line 16: smp_mb() -> smp_wmb()" in out
    assert main(["explain", str(CLASSIC / "C-MP+mbs.litmus"), "--model", "armv8", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in row["needed"]] == ["smp_mb()", "smp_mb()"]


def test_x86_locked_add_is_the_fence_when_cheaper(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Linux's smp_mb() on x86: `lock; addl $0` to a private location.  At equal cost MFENCE wins.
    assert _names(_synth(str(CLASSIC / "X86-SB.litmus"), "x86-tso", (("LOCK ADD", 8),))) == [
        (0, "LOCK ADD"), (1, "LOCK ADD")]
    costs = tmp_path / "costs.yaml"
    costs.write_text("LOCK ADD: 8\n")
    out = tmp_path / "out"
    assert main(["fences", str(CLASSIC / "X86-SB.litmus"), "--model", "x86-tso", "--costs", str(costs),
                 "--write", str(out)]) == 0
    assert "LOCK ADD [mb0],$0" in (out / "X86-SB.litmus").read_text()
    assert "checked again: Never" in capsys.readouterr().out


def test_knobs_tell_apart_instructions_at_one_position() -> None:
    # Generated programs (and some statements) give several instructions one position: a knob
    # names its instruction by its index in the thread, so an upgrade of one load changes
    # that load only.
    import dataclasses

    from verifier.errors import Pos

    test = parse_file(str(CLASSIC / "C-MP.litmus"))
    same = Pos(test.path, 1, 1)
    threads = tuple(
        dataclasses.replace(t, body=tuple(dataclasses.replace(i, pos=same) for i in t.body)) for t in test.threads
    )
    s = synthesize(dataclasses.replace(test, threads=threads), resolve_model("armv8"), load_menu("C"))
    assert s.status == "fixed" and s.cost == 6
    assert s.recheck is not None and s.recheck.observation == "Never"


def test_spinlocks_are_kept_as_written_under_lock_events() -> None:
    """Under lkmm a spinlock's events are lock events, with no weaker form: explain keeps
    them and says so, instead of calling a lock that is never released "redundant"."""
    test = parse_file(str(CLASSIC / "C-MP+locks.litmus"))
    e = explain(test, resolve_model("lkmm"), load_menu("C"))
    assert e.status == "explained" and not e.sources and len(e.kept) == 4
    assert "as written (this model has no weaker form of them)" in explanation_text(e)
    sc = explain(test, resolve_model("sc"), load_menu("C"))
    assert len(sc.sources) == 4 and not sc.kept
