"""The GUP-fast library (litmus/gup/): per family, the fixed variant is Never on every model and
the buggy one is reachable where the kernel's history says it was; docs/gup.md is current."""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.frontends import parse_file

ROOT = Path(__file__).resolve().parents[1]
GUP = ROOT / "litmus" / "gup"
MODELS = ("sc", "x86-tso", "armv8", "lkmm")

# family -> the fixed variants (Never everywhere, LKMM included: each fix is portable)
FIXED = {
    1: ["fork-wrprotect-vs-gup-pin+mbs"],
    2: ["seqcount-fork-vs-gup+mb"],
    3: ["thp-collapse-vs-gup+pmd-recheck", "zap-vs-gup-speculative-ref", "rcu-table-free-vs-gup-walk"],
    4: ["anonexcl-share-vs-gup+fix"],
    5: ["mkclean-pinflag-vs-gup+wmb"],
    6: ["ptep-lockless-vs-set+barriers"],
    7: ["devexcl-vs-invalidate"],
}
# buggy variant -> the models on which its bad outcome is reachable, as the history says;
# LKMM, the portable model, allows each of them (it is weaker than both architectures)
BUGGY = {
    # 70e806e4e645: safe on x86 (both sides LOCK'd), racy on arm64 (relaxed wrprotect).
    "fork-wrprotect-vs-gup-pin": ("armv8", "lkmm"),
    # Without the sequence count the pin check precedes the write-protect: racy even under SC.
    "seqcount-fork-vs-gup-noseq": ("sc", "x86-tso", "armv8", "lkmm"),
    # The family-2 open question: smp_wmb() + the lock's acquire do not order store->load on arm64.
    "seqcount-fork-vs-gup": ("armv8", "lkmm"),
    # Before 70cbc3cc78a9 (no PMD re-check): racy everywhere.
    "thp-collapse-vs-gup": ("sc", "x86-tso", "armv8", "lkmm"),
    # The IRQs-off walk against table freeing with a barrier instead of the grace period.
    "rcu-table-free-vs-gup-walk-nogp": ("sc", "x86-tso", "armv8", "lkmm"),
    # 6c287605fd56 before 088b8aa537c2: arm64 only.
    "anonexcl-share-vs-gup": ("armv8", "lkmm"),
    # Glisse's proposal without smp_wmb(): arm64 only; the check-then-act: no barrier helps.
    "mkclean-pinflag-vs-gup": ("armv8", "lkmm"),
    "mkclean-check-vs-gup-pin+mbs": ("sc", "x86-tso", "armv8", "lkmm"),
    # Split PTEs without barriers: arm64 only; Jann Horn's ABA: with every barrier, everywhere.
    "ptep-lockless-vs-set": ("armv8", "lkmm"),
    "ptep-lockless-aba+barriers": ("sc", "x86-tso", "armv8", "lkmm"),
    # mmu_interval_check_retry without the driver lock: racy even under SC.
    "devexcl-vs-invalidate-nolock+mbs": ("sc", "x86-tso", "armv8", "lkmm"),
}


def _file(name: str) -> Path:
    for suffix in (".litmus.yaml", ".litmus"):
        if (GUP / f"{name}{suffix}").is_file():
            return GUP / f"{name}{suffix}"
    raise AssertionError(f"litmus/gup/{name} is missing")


@cache
def _observation(name: str, model: str) -> str:
    return check(parse_file(str(_file(name))), resolve_model(model)).observation


@pytest.mark.parametrize(("family", "name"), [(f, n) for f, names in FIXED.items() for n in names])
def test_fixed_variant_is_never_on_every_model(family: int, name: str) -> None:
    assert [_observation(name, m) for m in MODELS] == ["Never"] * len(MODELS), f"family {family}"


@pytest.mark.parametrize("name", sorted(BUGGY))
def test_buggy_variant_is_reachable_where_history_says(name: str) -> None:
    reachable = tuple(m for m in MODELS if _observation(name, m) != "Never")
    assert reachable == BUGGY[name]


def test_every_family_has_a_fixed_and_a_buggy_variant() -> None:
    assert set(FIXED) == set(range(1, 8))
    assert len(list(GUP.glob("*.litmus*"))) >= len(BUGGY) + sum(len(v) for v in FIXED.values())


def test_docs_gup_md_is_generated_from_the_library() -> None:
    r = subprocess.run([sys.executable, "docs/make_gup.py", "--check"], cwd=ROOT, capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0, r.stderr
