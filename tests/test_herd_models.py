"""herd7's own model files, read unmodified (../shared/reference/models/herd: sc.cat, x86tso.cat
and the library files they include: cos.cat, cross.cat, fences.cat, filters.cat...), give
herd7's recorded answers: observation, final states and flags."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.frontends import parse_file

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
VERDICTS = REFERENCE / "verdicts.jsonl"
HERD = REFERENCE / "models" / "herd"
# Our model name -> herd7's file that recorded it (../shared/reference/README.md).
FILES = {"sc": "sc.cat", "x86-tso": "x86tso.cat"}


@cache
def _records() -> list[dict[str, Any]]:
    if not VERDICTS.is_file():
        return []
    rows = [json.loads(line) for line in VERDICTS.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["model"] in FILES and r["arch"] != "C" and r.get("status", "ok") == "ok"]


AGREE: dict[str, int] = {}


@pytest.mark.skipif(not VERDICTS.is_file(), reason="../shared/reference is not present")
@pytest.mark.parametrize("model", sorted(FILES))
def test_herds_own_model_files_agree_with_herd(model: str) -> None:
    spec = resolve_model(str(HERD / FILES[model]))
    rows = [r for r in _records() if r["model"] == model]
    problems = []
    for r in rows:
        v = check(parse_file(str(REFERENCE / r["file"])), spec, want_states=True)
        ours = sorted(tuple(sorted(s)) for s in (v.states or ()))
        herds = sorted(tuple(sorted(s.items())) for s in r["states"])
        if (v.observation, ours, list(v.flags)) != (r["observation"], herds, sorted(r["flags"])):
            problems.append(f"{r['file']}: ours {v.observation} {v.flags}, herd7 {r['observation']} {r['flags']}")
    print(f"herd7's {FILES[model]}: {len(rows) - len(problems)}/{len(rows)} tests agree with herd7's recorded answers")
    assert rows and not problems, "\n".join(problems)
