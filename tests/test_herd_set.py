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
