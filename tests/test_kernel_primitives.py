"""The kernel C primitives of the one table (`encodings/lkmm/kernel.def`): SRCU, bit
operations, try_cmpxchg, against herd7's recorded answers (tests/data/prims/herd.jsonl,
made by its record.sh; a test whose primitives herd7 lacks was recorded through a
`.herd.litmus` rewrite that means the same), and the table's own consistency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier.analyses.check import check
from verifier.analyses.registry import encodings_dir, resolve_model
from verifier.errors import InputError, Unsupported
from verifier.events.mapping import load_table
from verifier.frontends import parse_file, parse_text
from verifier.program.ast import Assign, Rmw
from verifier.program.primitives import RMW_FORMS, primitives

DATA = Path(__file__).resolve().parent / "data" / "prims"
RECORDED = [json.loads(line) for line in (DATA / "herd.jsonl").read_text().splitlines()]
KERNEL_CFG = Path(__file__).resolve().parents[2] / "shared" / "reference" / "models" / "linux-kernel" / "linux-kernel.cfg"


def _answer(file: Path, model: str) -> tuple[str, list[str], list[str]]:
    v = check(parse_file(str(file)), resolve_model(model), want_states=True)
    return v.observation, sorted(_state(" ".join(f"{k}={x};" for k, x in s)) for s in v.states or ()), sorted(v.flags)


def _state(text: str) -> str:
    """A final state with its columns sorted (herd7 sorts them; we keep the condition's order)."""
    return " ".join(sorted(p.strip() + ";" for p in text.split(";") if p.strip()))


@pytest.mark.parametrize("rec", RECORDED, ids=lambda r: r["file"])
def test_lkmm_gives_herd7s_answer(rec: dict) -> None:
    want = (rec["observation"], sorted(_state(s) for s in rec["states"]), sorted(rec["flags"]))
    assert _answer(DATA / rec["file"], "lkmm") == want


@pytest.mark.skipif(not KERNEL_CFG.is_file(), reason="../shared/reference is not present")
@pytest.mark.parametrize("rec", [r for r in RECORDED if r["herd7_ran"] == r["file"]], ids=lambda r: r["file"])
def test_the_kernels_files_give_herd7s_answer(rec: dict) -> None:
    want = (rec["observation"], sorted(_state(s) for s in rec["states"]), sorted(rec["flags"]))
    assert _answer(DATA / rec["file"], str(KERNEL_CFG)) == want


@pytest.mark.parametrize("model", ["sc", "x86-tso", "armv8", "lkmm"])
@pytest.mark.parametrize("rewrite", sorted(DATA.glob("*.herd.litmus")), ids=lambda f: f.name)
def test_a_rewrite_means_the_same_on_every_model(rewrite: Path, model: str) -> None:
    """bit operations and try_cmpxchg compile as the herd7 primitives they are made of."""
    original = rewrite.with_name(rewrite.name.replace(".herd.litmus", ".litmus"))
    assert _answer(original, model) == _answer(rewrite, model)


def _thread(body: str, params: str = "int *x, int *y") -> tuple:
    text = f"C t\n{{}}\nP0({params})\n{{\n{body}\n}}\nexists (0:r0=0)\n"
    return parse_text(text, "t.litmus").threads[0].body


def test_try_cmpxchg_writes_back_what_it_read() -> None:
    body = _thread("int r0 = 0;\nint r1;\nr1 = atomic_try_cmpxchg(y, &r0, 1);")
    rmw, ok, back, value = body[-4:]
    assert isinstance(rmw, Rmw) and rmw.cls == "mb" and rmw.cond is not None
    assert isinstance(ok, Assign) and isinstance(back, Assign) and back.dst == "r0"
    assert isinstance(value, Assign) and value.dst == "r1"


def test_try_cmpxchg_needs_a_register_reference() -> None:
    with pytest.raises(InputError) as e:
        _thread("int r0 = 0;\nint r1;\nr1 = atomic_try_cmpxchg(y, r0, 1);")
    assert "must be '&r' for a register r" in str(e.value)
    with pytest.raises(InputError) as e:
        _thread("int r1;\nr1 = atomic_try_cmpxchg(y, &r9, 1);")
    assert "'&' in 'atomic_try_cmpxchg' must take a register declared earlier" in str(e.value)


def test_bit_operations_are_the_atomic_rmws_they_name() -> None:
    body = _thread("int r0;\nr0 = test_and_set_bit_lock(3, y);\nclear_bit_unlock(3, y);", "int *x, unsigned long *y")
    lock, unlock = body
    assert isinstance(lock, Rmw) and lock.cls == "acquire" and lock.cond is not None  # a failed one only reads
    assert isinstance(unlock, Rmw) and unlock.cls == "release" and unlock.dst is None


def test_srcu_is_refused_by_name_under_the_hardware_models() -> None:
    test = parse_file(str(DATA / "srcu-gp.litmus"))
    for model in ("sc", "x86-tso", "armv8"):
        with pytest.raises(Unsupported) as e:
            check(test, resolve_model(model))
        assert "unsupported: 'srcu_read_lock'" in str(e.value)


def test_every_primitive_of_the_table_compiles_on_every_hardware_column() -> None:
    """Each column of kernel-c.tbl (C, x86-64, arm64) has a row for every class the table
    uses, SRCU's aside (meaningful in the kernel's models only)."""
    columns = load_table(encodings_dir() / "kernel-c.tbl")
    missing = []
    for name, p in primitives().items():
        for a in p.accesses:
            kind = {"__load": "R", "__islocked": "R", "__fence": "F"}.get(a.form, "W")
            if a.form in RMW_FORMS or a.form in ("__lock", "__trylock"):
                kind = "RMW"
            if "srcu" in a.cls:
                continue
            for column, mapping in columns.items():
                if mapping.recipe(f"{kind}.{a.cls}") is None:
                    missing.append(f"{name}: {kind}.{a.cls} in {column}")
    assert not missing


def test_readme_primitive_list_is_generated_from_the_table() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "docs/make_primitives.py", "--check"], cwd=root, capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0, r.stderr


def test_the_fence_menu_names_primitives_of_the_table() -> None:
    """encodings/fences.yaml's kernel C options are primitives of the one table, each of the
    class the table gives it (so what `fences` inserts is what the front end would parse)."""
    import yaml

    menu = yaml.safe_load((encodings_dir() / "fences.yaml").read_text())["C"]
    table = primitives()
    for name, option in menu["fences"].items():
        p = table[name]
        assert [(a.form, a.cls) for a in p.accesses] == [("__fence", option["class"])], name
    for name, option in menu["upgrades"].items():
        if name == "fully-ordered":
            continue
        kind = {"__load": "R", "__store": "W"}[table[name].single.form]
        assert f"{kind}.{table[name].single.cls}" == option["to"], name
