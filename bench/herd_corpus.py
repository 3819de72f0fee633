"""The verifier against herd7's recorded answers on whole corpora (a report, not a test).

    python bench/herd_corpus.py DIR ... [--json FILE] [--timeout S]

For every herd-format test under DIR that comes with herd7's answer, checks it under the model
herd7 used by default for its dialect (AArch64: `armv8`, X86/X86_64: `x86-tso`) and compares:

- `T.litmus.expected` beside the test (herdtools7's `herd/tests/instructions/*`): herd7's
  whole output, so the observation and every final state;
- a `kinds.txt` in a parent folder (herdtools7's `catalogue/*/tests`): herd7's kind per test
  (Allowed / Forbidden / Required), so the observation only.

With `--herd7 BIN`, herd7 is run on every test instead (its default model for the dialect,
as tests/litmus/record.py runs it), so folders with no recorded answers count too.  A folder
whose `ci.cfg` runs herd7 with `-variant mixed` records answers under the mixed-size model,
which the verifier does not model: those tests are counted apart unless `--herd7` is given.

Tests herd7 itself refuses (`.expected-failure`, or an output without a verdict) are counted
apart.  Prints the counts: agree, refused by the verifier (by reason), divergent (listed), and
exits 0 (a report).  Divergences documented in docs/herd-divergences.md are marked.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.litmus.record import MODELS as RECORD_ARGS  # noqa: E402
from tests.litmus.record import herd as run_herd7  # noqa: E402
from verifier.analyses.check import check  # noqa: E402
from verifier.analyses.registry import resolve_model  # noqa: E402
from verifier.errors import InputError, Pos, Unsupported  # noqa: E402
from verifier.frontends import parse_file  # noqa: E402

MODEL = {"AArch64": "armv8", "X86": "x86-tso", "X86_64": "x86-tso"}


class _Timeout(Exception):
    pass


def _alarm(*_: object) -> None:
    raise _Timeout


def _state(line: str) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for part in line.split(";"):
        key, sep, value = part.strip().partition("=")
        if key.strip() and not sep:
            return None  # a fault or another item herd prints that is not a value
        if sep:
            out[key.strip()] = value.strip()
    return out


def _variant(folder: Path) -> str | None:
    cfg = folder / "ci.cfg"
    if cfg.is_file():
        for line in cfg.read_text().splitlines():
            if line.split()[:1] == ["variant"]:
                return " ".join(line.split()[1:])
    return None


def expected(lit: Path, kinds: dict[str, str], herd7: str | None = None, timeout: float = 60) -> dict[str, Any] | None:
    """herd7's answer for `lit`: {"observation", "states"} or {"kind"}, or
    {"herd_refuses": msg}; None when nothing is recorded (and herd7 is not run)."""
    if herd7 is not None:
        arch = lit.read_text(errors="replace").lstrip().split(None, 1)[:1]
        args = RECORD_ARGS.get(arch[0] if arch else "", {}).get(MODEL.get(arch[0] if arch else "", ""))
        if args is None:
            return None
        os.environ["HERD7"] = herd7
        got = run_herd7(lit, args, [], timeout)
        if "herd_error" in got:
            return {"herd_refuses": str(got["herd_error"])}
        return got
    exp = Path(str(lit) + ".expected")
    variant = _variant(lit.parent)
    if variant is not None and "mixed" in variant and exp.is_file():
        return {"variant": variant}
    if exp.is_file():
        lines = exp.read_text().splitlines()
        obs = next((m.group(1) for m in (re.match(r"^Observation \S+ (\w+)", x) for x in lines) if m), None)
        head = next((i for i, x in enumerate(lines) if x.startswith("States ")), None)
        if obs is None or head is None:
            return {"herd_refuses": "no verdict in herd7's output"}
        states = [_state(x) for x in lines[head + 1 : head + 1 + int(lines[head].split()[1])]]
        if any(s is None for s in states):
            return {"herd_refuses": "faults in herd7's states (not modelled)"}
        return {"observation": obs, "states": states}
    if Path(str(lit) + ".expected-failure").is_file():
        return {"herd_refuses": "herd7 refuses it (.expected-failure)"}
    kind = kinds.get(lit.stem) or kinds.get(lit.name)
    if kind is not None:
        return {"kind": kind}
    return None


_KIND = {"Allow": "Allowed", "Forbid": "Forbidden", "Require": "Required"}


def _kinds(folder: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in (folder, *folder.parents):
        k = d / "kinds.txt"
        if k.is_file():
            for line in k.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 2:
                    # some catalogues spell the kinds Allow / Forbid / Require
                    out[parts[0]] = _KIND.get(parts[1], parts[1])
            break
    return out


def kind_of(observation: str, quantifier: str) -> str:
    """herd7's kind of a result: Forbidden (never reached), Required (a `forall` that always
    holds), Allowed (otherwise)."""
    if observation == "Never":
        return "Forbidden"
    return "Required" if quantifier == "forall" and observation == "Always" else "Allowed"


def _agrees(verdict: Any, herd: dict[str, Any], quantifier: str) -> bool:
    if "kind" in herd:
        return kind_of(verdict.observation, quantifier) == herd["kind"]
    ours = sorted(tuple(sorted(s)) for s in (verdict.states or ()))
    theirs = sorted(tuple(sorted(s.items())) for s in herd["states"])
    return verdict.observation == herd["observation"] and ours == theirs


def _xchg_bug(test: Any, verdict: Any, herd: dict[str, Any]) -> bool:
    """herd7's X86 XCHG may read a write coherence-after its own (docs/herd-divergences.md,
    tests/litmus/divergences/xchg-atomic.litmus): on an X86 test with XCHG, herd7 then has
    states the verifier does not, and none the other way round."""
    if test.arch not in ("X86", "X86_64") or "states" not in herd or "xchg" not in Path(test.path).read_text().lower():
        return False
    ours = {tuple(sorted(s)) for s in (verdict.states or ())}
    theirs = {tuple(sorted(s.items())) for s in herd["states"]}
    return ours < theirs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--json", type=Path, help="write one row per test")
    ap.add_argument("--timeout", type=int, default=60, help="seconds per test (default 60)")
    ap.add_argument("--herd7", metavar="BIN", help="run this herd7 for the answers instead of reading them")
    args = ap.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    documented = (ROOT / "docs" / "herd-divergences.md").read_text()
    counts: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    rows: list[dict[str, Any]] = []
    for d in args.dirs:
        for lit in sorted(d.rglob("*.litmus")):
            herd = expected(lit, _kinds(lit.parent), args.herd7, args.timeout)
            if herd is None:
                continue
            row: dict[str, Any] = {"file": str(lit)}
            if "variant" in herd:
                counts["herd7 -variant mixed"] += 1
                rows.append({**row, "outcome": "herd7 -variant mixed", "why": herd["variant"]})
                continue
            if "herd_refuses" in herd:
                counts["herd7 refuses"] += 1
                rows.append({**row, "outcome": "herd7 refuses", "why": herd["herd_refuses"]})
                continue
            try:
                signal.alarm(args.timeout)
                test = parse_file(str(lit))
                model = MODEL.get(test.arch)
                if model is None:
                    raise Unsupported(Pos(str(lit), 1, 1), f"no default model for {test.arch}")
                verdict = check(test, resolve_model(model), want_states="kind" not in herd)
                outcome = "agree" if _agrees(verdict, herd, test.condition.kind) else "DIVERGENT"
                if outcome == "DIVERGENT" and (lit.name in documented or _xchg_bug(test, verdict, herd)):
                    outcome = "divergent (documented)"
                row.update(outcome=outcome, ours=verdict.observation, herd=herd.get("observation", herd.get("kind")))
            except Unsupported as e:
                reason = re.sub(r"'[^']*'", "'…'", e.message)
                outcome, row["why"] = "refused", e.message
                reasons[reason[:100]] += 1
            except InputError as e:
                outcome, row["why"] = "error", e.message
                reasons["error: " + re.sub(r"'[^']*'", "'…'", e.message)[:100]] += 1
            except _Timeout:
                outcome = "timeout"
            finally:
                signal.alarm(0)
            counts[outcome] += 1
            row["outcome"] = outcome
            rows.append(row)
    total = sum(counts.values())
    print(f"{total} tests with a recorded herd7 answer")
    for k in ("agree", "refused", "error", "DIVERGENT", "divergent (documented)", "timeout", "herd7 refuses",
              "herd7 -variant mixed"):
        print(f"  {k:<24} {counts[k]}")
    if reasons:
        print("refused or rejected, by reason:")
        for r, n in reasons.most_common():
            print(f"  {n:4}  {r}")
    for row in rows:
        if row["outcome"] == "DIVERGENT":
            print(f"DIVERGENT {row['file']}: ours {row.get('ours')}, herd7 {row.get('herd')}")
    if args.json:
        args.json.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
