"""The project's own conformance set (tests/litmus/): small tests written for each construct
class, with herd7's answers recorded in tests/litmus/herd7.jsonl by tests/litmus/record.py.

Per (file, model): the same observation and the same final states as herd7; where herd7
refuses a test (`herd_error`), the verifier refuses it too (a positioned error, never an
answer).  Where herd7 is provably wrong, the verifier keeps the hardware's answer: each such
case is listed in KNOWN_DIVERGENCES with its reason (docs/herd-divergences.md has the
argument) and checked to stay divergent, so the list is honest in both directions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AGREEMENT
from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.errors import InputError
from verifier.frontends import parse_file

HERE = Path(__file__).resolve().parent / "litmus"
RECORDS = [json.loads(x) for x in (HERE / "herd7.jsonl").read_text().splitlines() if x.strip()]

# (file, model) -> why the verifier's answer is right and herd7's is not.
KNOWN_DIVERGENCES: dict[tuple[str, str], str] = {
    ("barriers/LB+dsb.oshld.litmus", "armv8"): (
        "herd7's aarch64fences.cat binds DSB.OSHLD to the events of DSB OSH, so a DSB OSHLD "
        "orders nothing; the Arm ARM's DSB with the LD option waits for earlier loads before "
        "any later instruction executes, as DSB LD does (docs/herd-divergences.md)"
    ),
    **{(f"divergences/{name}.litmus", model): why for name, why in {
        "asr-w": "herd7's ASR of a W register shifts the 64-bit value (no sign from bit 31); ASR is SBFM",
        "cset-ge": "herd7's inverse of GE is GT, so its CSET/CINC/CINV/CNEG with GE compute LE",
        "xchg-atomic": "herd7's x86 XCHG read may read a write coherence-after its own write",
        "x86-64-partial-registers": "herd7 clears the upper bits on 8- and 16-bit register writes",
        "x86-64-jl-equal": "herd7's X86_64 jlt jumps on equality and js tests 'greater'",
    }.items() for model in ("sc", "armv8" if name in ("asr-w", "cset-ge") else "x86-tso")},
}

# (file, model) -> why the verifier answers a test herd7 refuses (never the other way round).
ANSWERED_ALTHOUGH_HERD_REFUSES: dict[tuple[str, str], str] = {
    ("widths/mixed-size-pointer.litmus", model): (
        "two reads of different sizes (32 and 64 bits) of one location nobody writes: each reads "
        "the low bits of its initial value, exactly; herd7's AArch64 refuses any size mismatch"
    ) for model in ("sc", "armv8")
}


def _cases() -> list[Any]:
    return [pytest.param(r, id=f"{r['model']}:{r['file']}") for r in RECORDS]


def _states(verdict_states: Any) -> list[tuple[tuple[str, str], ...]]:
    return sorted(tuple(sorted(s)) for s in (verdict_states or ()))


@pytest.mark.parametrize("rec", _cases())
def test_agrees_with_herd(rec: dict[str, Any]) -> None:
    key = (rec["file"], rec["model"])
    AGREEMENT["set-total"] += 1
    path = str(HERE / rec["file"])
    if "herd_error" in rec:
        if key in ANSWERED_ALTHOUGH_HERD_REFUSES:
            check(parse_file(path), resolve_model(rec["model"]), want_states=True)
            AGREEMENT["set-divergent"] += 1
            return
        with pytest.raises(InputError):
            check(parse_file(path), resolve_model(rec["model"]), want_states=True)
        AGREEMENT["set-agree"] += 1
        return
    verdict = check(parse_file(path), resolve_model(rec["model"]), want_states=True)
    herds = sorted(tuple(sorted(s.items())) for s in rec["states"])
    same = verdict.observation == rec["observation"] and _states(verdict.states) == herds
    if key in KNOWN_DIVERGENCES:
        assert not same, f"{key} now agrees with herd7: remove it from KNOWN_DIVERGENCES"
        AGREEMENT["set-divergent"] += 1
        return
    assert verdict.observation == rec["observation"], f"{key}: observation {verdict.observation}, herd7 {rec['observation']}"
    assert _states(verdict.states) == herds, f"{key}: states differ\n ours: {_states(verdict.states)}\n herd7: {herds}"
    AGREEMENT["set-agree"] += 1
