"""The Linux kernel's own memory-model files, read unmodified as herd7 reads them
(`--model .../linux-kernel.cfg`: the .cfg names linux-kernel.def, .bell and .cat, which
includes lock.cat and herd's library), give herd7's recorded answers on every C test of
../shared/reference (model `lkmm`): observation, final states and flags.

And the pieces: .cfg and .def files read, refused by name where the engine would not follow
them, and herd7's lock events (spin_lock as LKR/LKW, ...) under the model's lock.cat."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.errors import InputError, Unsupported, UsageError
from verifier.frontends import parse_file

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
KERNEL = REFERENCE / "models" / "linux-kernel"
CFG = KERNEL / "linux-kernel.cfg"
# Tests whose answer differs from herd7's, with the reason (the list only shrinks).
KNOWN_GAPS: dict[str, str] = {}


@cache
def _records() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (REFERENCE / "verdicts.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if r["model"] == "lkmm" and r.get("status", "ok") == "ok"]


@pytest.mark.skipif(not CFG.is_file(), reason="../shared/reference is not present")
def test_the_kernels_model_files_agree_with_herd() -> None:
    """(`--model lkmm`, our own text of the same model, is in test_conformance.py.)"""
    model = str(CFG)
    spec = resolve_model(model)
    problems, gaps = [], []
    for r in _records():
        v = check(parse_file(str(REFERENCE / r["file"])), spec, want_states=True)
        ours = sorted(tuple(sorted(s)) for s in (v.states or ()))
        herds = sorted(tuple(sorted(s.items())) for s in r["states"])
        if (v.observation, ours, list(v.flags)) == (r["observation"], herds, sorted(r["flags"])):
            if r["file"] in KNOWN_GAPS:
                problems.append(f"{r['file']}: agrees now; take it off KNOWN_GAPS")
            continue
        (gaps if r["file"] in KNOWN_GAPS else problems).append(
            f"{r['file']}: ours {v.observation} {v.flags} ({len(ours)} states), "
            f"herd7 {r['observation']} {r['flags']} ({len(herds)} states)")
    n = len(_records())
    print(f"{Path(model).name}: {n - len(problems) - len(gaps)}/{n} C tests agree with herd7's lkmm answers "
          f"(observation, final states and flags); known gaps: {len(gaps)}")
    assert n and not problems, "\n".join(problems)


def _kernel_copy(tmp_path: Path, **changes: str) -> Path:
    """The kernel's model files in tmp_path, with some files' texts replaced."""
    for f in KERNEL.iterdir():
        (tmp_path / f.name).write_text(changes.get(f.name, f.read_text()))
    return tmp_path / "linux-kernel.cfg"


needs_kernel = pytest.mark.skipif(not CFG.is_file(), reason="../shared/reference is not present")
MP = Path(__file__).resolve().parents[1] / "litmus" / "classic" / "C-MP.litmus"


@needs_kernel
@pytest.mark.parametrize(("cfg", "what"), [
    ("model linux-kernel.cat\nunroll 3\n", "unsupported: the herd7 option 'unroll'"),
    ("bell linux-kernel.bell\n", "must name its model"),
    ("model nothere.cat\n", "the model file 'nothere.cat' is not found"),
    ("macros linux-kernel.def\nbell linux-kernel.bell\nmodel linux-kernel.cat\n", "lkmmv1"),
])
def test_cfg_files_are_read_or_refused_by_name(tmp_path: Path, cfg: str, what: str) -> None:
    path = _kernel_copy(tmp_path, **{"linux-kernel.cfg": cfg})
    with pytest.raises(InputError) as e:
        resolve_model(str(path))
    assert what in str(e.value) and str(e.value).startswith(str(path))


@needs_kernel
def test_a_primitive_defined_otherwise_than_the_front_end_reads_it_is_refused(tmp_path: Path) -> None:
    text = (KERNEL / "linux-kernel.def").read_text().replace("xchg(X,V)  __xchg{MB}(X,V)", "xchg(X,V)  __cmpxchg{MB}(X,V,V)")
    path = _kernel_copy(tmp_path, **{"linux-kernel.def": text})
    with pytest.raises(Unsupported) as e:
        resolve_model(str(path))
    assert "defines xchg as '__cmpxchg($0,$1,$1)', the C front end reads it as '__xchg($0,$1)'" in str(e.value)


@needs_kernel
def test_annotations_come_from_the_def_file(tmp_path: Path) -> None:
    """READ_ONCE annotated as an acquire load and WRITE_ONCE as a release store (in a copy of
    the .def; the primitives the front end compiles alike changed alike) forbid MP."""
    spec = resolve_model(str(CFG))
    assert check(parse_file(str(MP)), spec).observation == "Sometimes"
    text = (KERNEL / "linux-kernel.def").read_text()
    text = text.replace("READ_ONCE(X) __load{ONCE}(X)", "READ_ONCE(X) __load{ACQUIRE}(X)")
    text = text.replace("WRITE_ONCE(X,V) { __store{ONCE}(X,V); }", "WRITE_ONCE(X,V) { __store{RELEASE}(X,V); }")
    text = text.replace("rcu_dereference(X) __load{ONCE}(X)", "rcu_dereference(X) __load{ACQUIRE}(X)")
    text = text.replace("atomic_read(X) READ_ONCE(*X)", "atomic_read(X) smp_load_acquire(X)")
    text = text.replace("atomic_set(X,V) { WRITE_ONCE(*X,V); }", "atomic_set(X,V) { smp_store_release(X,V); }")
    text = text.replace("smp_store_mb(X,V) { __store{ONCE}(X,V);", "smp_store_mb(X,V) { __store{RELEASE}(X,V);")
    path = _kernel_copy(tmp_path, **{"linux-kernel.def": text})
    assert check(parse_file(str(MP)), resolve_model(str(path))).observation == "Never"


@needs_kernel
def test_a_primitive_the_def_file_lacks_is_an_error(tmp_path: Path) -> None:
    test = tmp_path / "T.litmus"
    test.write_text("C T\n{}\nP0(atomic_t *x) { int r0 = atomic_inc_not_zero(x); }\nexists (0:r0=1)\n")
    with pytest.raises(InputError) as e:
        check(parse_file(str(test)), resolve_model(str(CFG)))
    assert "'atomic_inc_not_zero' is not defined by linux-kernel.def" in str(e.value)


LARGE = REFERENCE / "large.jsonl"


def _large() -> list[Any]:
    if not LARGE.is_file():
        return []
    return [json.loads(line) for line in LARGE.read_text().splitlines() if line.strip()]


# 0.02 to 0.3 s each, 2 s in all per model (herd7 itself does not finish 14 of the 25).
@pytest.mark.skipif(not LARGE.is_file(), reason="../shared/reference is not present")
@pytest.mark.parametrize("model", [str(CFG), "lkmm"], ids=["linux-kernel.cfg", "lkmm"])
@pytest.mark.parametrize("row", _large(), ids=lambda r: Path(r["file"]).name)
def test_the_kernels_model_files_on_the_large_tests(row: dict[str, Any], model: str) -> None:
    """The large kernel tests (5 to 19 threads), under the kernel's own files and under
    `lkmm`: herd7's answer where it has one, else Dartagnan's or the generator's
    (large.jsonl's `source`)."""
    v = check(parse_file(str(REFERENCE / row["file"])), resolve_model(model), timeout=600)
    assert (v.observation, list(v.flags)) == (row["observation"], sorted(row.get("flags") or []))


@needs_kernel
def test_a_model_with_c_macros_applies_to_c_tests_only() -> None:
    """herd7 refuses the kernel's model on an AArch64 test (lock.cat: `unbound var: LKR`)."""
    spec = resolve_model(str(CFG))
    assert spec.applies_to("C") and not spec.applies_to("AArch64") and not spec.applies_to("X86")


@needs_kernel
def test_target_does_not_apply_to_a_model_with_c_macros() -> None:
    with pytest.raises(UsageError) as e:
        resolve_model(str(CFG), "arm64")
    assert "its macro file compiles C tests" in str(e.value)


@needs_kernel
def test_the_cat_file_alone_says_to_read_it_through_its_cfg() -> None:
    with pytest.raises(InputError) as e:
        resolve_model(str(KERNEL / "linux-kernel.cat"))
    assert "unbound name" in str(e.value) and f"--model {CFG}" in str(e.value)
