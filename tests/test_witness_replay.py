"""The witness self-check: every `Sometimes`/`Always` witness the engine gives on the
conformance set (tests/litmus/) and the classic shapes, replayed through the oracle
(tests/oracle/replay.py): its events are a run of each thread, its rf and co a candidate
execution the model allows when evaluated concretely, its final state the one the condition
was judged on.  A witness the oracle cannot run (a construct it does not execute) is counted,
not failed; one it runs and rejects is an engine bug.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.oracle.cat_eval import Unsupported
from tests.oracle.replay import Mismatch, replay
from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.errors import InputError
from verifier.frontends import parse_file

ROOT = Path(__file__).resolve().parent
SET = ROOT / "litmus"
RECORDS = [json.loads(x) for x in (SET / "herd7.jsonl").read_text().splitlines() if x.strip()]
CLASSIC = sorted((ROOT.parent / "litmus").rglob("*.litmus"))


def _cases() -> list[tuple[Path, str]]:
    out = [(SET / r["file"], r["model"]) for r in RECORDS if "observation" in r]
    for f in CLASSIC:
        first = f.read_text().lstrip().split(None, 1)[0]
        models = {"C": ("sc", "x86-tso", "armv8"), "AArch64": ("sc", "armv8"),
                  "X86": ("sc", "x86-tso"), "X86_64": ("sc", "x86-tso")}.get(first, ())
        out += [(f, m) for m in models]
    return out


def test_every_witness_replays() -> None:
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for path, model in _cases():
        try:
            test = parse_file(str(path))
        except InputError:
            continue  # refused tests are the conformance tests' business
        spec = resolve_model(model)
        verdict = check(test, spec)
        if verdict.observation not in ("Sometimes", "Always"):
            continue
        try:
            r = replay(test, spec, verdict, path.read_text())
        except Unsupported as e:
            counts["oracle cannot run"] += 1
            counts[f"  {str(e)[:60]}"] += 1
            continue
        except Mismatch as e:
            failures.append(f"{path.relative_to(ROOT.parent)} [{model}]: {e}")
            continue
        counts["replayed without dependencies" if r.without_dependencies else "replayed"] += 1
    print("witness replay:", dict(counts))
    assert not failures, "\n".join(failures)
    assert counts["replayed"] + counts["replayed without dependencies"] >= 1
