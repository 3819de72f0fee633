"""`--model lkmm`: the Linux-kernel memory model in our own text (encodings/lkmm/), against
the kernel's own files (test data in ../shared/reference/models/linux-kernel/, read through
the same engine) on every C test of `litmus/`: observation, final states and flags.  herd7's
recorded answers on the reference suites are checked in test_kernel_model.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.analyses.check import check
from verifier.analyses.registry import encodings_dir, resolve_model
from verifier.errors import InputError
from verifier.frontends import parse_file

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT.parent / "shared" / "reference" / "models" / "linux-kernel" / "linux-kernel.cfg"


def _c_tests() -> list[Path]:
    out = []
    for f in sorted((ROOT / "litmus").rglob("*")):
        if f.suffix in (".litmus", ".yaml") and f.is_file():
            if parse_file(str(f)).arch == "C":
                out.append(f)
    return out


def _answer(file: Path, model: str) -> tuple[str, list[tuple[tuple[str, str], ...]], tuple[str, ...]]:
    v = check(parse_file(str(file)), resolve_model(model), want_states=True)
    return v.observation, sorted(v.states or ()), v.flags


@pytest.mark.skipif(not CFG.is_file(), reason="../shared/reference is not present")
@pytest.mark.parametrize("file", _c_tests(), ids=lambda f: f.name)
def test_lkmm_agrees_with_the_kernels_files(file: Path) -> None:
    try:
        kernel = _answer(file, str(CFG))
    except InputError as e:  # a primitive linux-kernel.def lacks (atomic_inc_not_zero)
        assert "is not defined by linux-kernel.def" in str(e)
        return
    assert _answer(file, "lkmm") == kernel


def test_lkmm_is_our_own_text() -> None:
    """No line of the kernel's GPL files is copied: the project is MIT."""
    folder = encodings_dir() / "lkmm"
    assert {f.name for f in folder.iterdir()} >= {"lkmm.cfg", "lkmm.bell", "lkmm.cat", "lkmm-locks.cat", "kernel.def"}
    for f in folder.iterdir():
        assert "SPDX-License-Identifier: GPL" not in f.read_text()


def test_lkmm_applies_to_c_tests_only(tmp_path: Path) -> None:
    spec = resolve_model("lkmm")
    assert spec.applies_to("C") and not spec.applies_to("X86") and not spec.applies_to("AArch64")


NEW_PRIMITIVES = """C new-primitives
{ x=3; }
P0(atomic_long_t *x, int *y) { int r1; atomic_long_andnot(1, x); r1 = atomic64_fetch_andnot(2, x);
  barrier(); synchronize_rcu_expedited(); WRITE_ONCE(*y, r1); }
exists (0:r1=2 /\\ x=0 /\\ y=2)
"""


@pytest.mark.parametrize("model", ["lkmm", "sc", "x86-tso", "armv8"])
def test_barrier_expedited_andnot_and_wide_atomics(model: str, tmp_path: Path) -> None:
    """barrier(), synchronize_rcu_expedited(), *_andnot and the atomic_long_/atomic64_
    forms: 3 & ~1 = 2, then 2 & ~2 = 0, the fetch returning 2."""
    f = tmp_path / "T.litmus"
    f.write_text(NEW_PRIMITIVES)
    v = check(parse_file(str(f)), resolve_model(model), want_states=True)
    assert v.observation == "Always"


@pytest.mark.skipif(not CFG.is_file(), reason="../shared/reference is not present")
def test_the_kernels_def_file_lacks_the_wide_atomics(tmp_path: Path) -> None:
    f = tmp_path / "T.litmus"
    f.write_text(NEW_PRIMITIVES)
    with pytest.raises(InputError, match="'atomic_long_andnot' is not defined by linux-kernel.def"):
        check(parse_file(str(f)), resolve_model(str(CFG)))


IRQ_LOCKS = """C MP+irqlocks
{}
P0(spinlock_t *l, int *x, int *y) { unsigned long flags; spin_lock_irqsave(l, flags);
  WRITE_ONCE(*x, 1); WRITE_ONCE(*y, 1); spin_unlock_irqrestore(l, flags); }
P1(spinlock_t *l, int *x, int *y) { int r0; int r1; spin_lock_bh(l); r0 = READ_ONCE(*y);
  r1 = READ_ONCE(*x); spin_unlock_bh(l); }
exists (1:r0=1 /\\ 1:r1=0)
"""


@pytest.mark.parametrize("model", ["lkmm", "sc", "x86-tso", "armv8"])
def test_irq_and_bh_lock_forms_are_the_same_lock(model: str, tmp_path: Path) -> None:
    f = tmp_path / "T.litmus"
    f.write_text(IRQ_LOCKS)
    assert check(parse_file(str(f)), resolve_model(model)).observation == "Never"
    f.write_text(IRQ_LOCKS.replace("spin_lock_bh(l); ", "").replace(" spin_unlock_bh(l);", ""))
    assert check(parse_file(str(f)), resolve_model(model)).observation == ("Never" if model in ("sc", "x86-tso")
                                                                            else "Sometimes")


STORE_MB = """C SB+store_mbs
{}
P0(int *x, int *y) { int r0; smp_store_mb(*x, 1); r0 = READ_ONCE(*y); }
P1(int *x, int *y) { int r0; smp_store_mb(*y, 1); r0 = READ_ONCE(*x); }
exists (0:r0=0 /\\ 1:r0=0)
"""


@pytest.mark.parametrize("model", ["lkmm", "sc", "x86-tso", "armv8", str(CFG)])
def test_smp_store_mb_is_a_store_then_a_full_barrier(model: str, tmp_path: Path) -> None:
    if not Path(model).is_file() and model.endswith(".cfg"):
        pytest.skip("../shared/reference is not present")
    f = tmp_path / "T.litmus"
    f.write_text(STORE_MB)
    assert check(parse_file(str(f)), resolve_model(model)).observation == "Never"
    f.write_text(STORE_MB.replace("smp_store_mb", "WRITE_ONCE"))
    assert check(parse_file(str(f)), resolve_model(model)).observation == ("Never" if model == "sc" else "Sometimes")
