"""A verdict as one JSON object: the row `check --json` prints and `batch --json` streams.

Rows are the one data type that crosses process boundaries in a batch and that `--resume`
reads back, so every other rendering (text, JUnit, herd's format, Graphviz) works on them.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from verifier.analyses.check import Verdict, Witness
from verifier.analyses.proof import Proof
from verifier.reports.state_order import herd_states

Row = dict[str, Any]

# How a row ends: a judged verdict (`analyses.judge`), or no verdict: `unsupported` (a construct
# refused by name), `error` (bad input, a crashed worker), `skipped` (the model does not apply
# to the test's dialect: x86-tso and an AArch64 test).
RowOutcome = Literal["pass", "forgiven", "fail", "unjudged", "unknown", "unsupported", "error", "skipped"]
OUTCOMES: tuple[RowOutcome, ...] = get_args(RowOutcome)


def witness_json(w: Witness) -> dict[str, Any]:
    return {
        "events": [
            {"id": e.eid, "thread": e.tid, "kind": e.kind, "loc": e.loc, "value": e.value,
             "tags": list(e.tags), "class": e.cls, "line": e.line, "source": e.source}
            for e in w.events
        ],
        "rf": [list(p) for p in w.rf],
        "co": {loc: list(order) for loc, order in w.co},
        "rmw": [list(p) for p in w.rmw],
        "final": dict(w.final),
    }


def proof_json(pr: Proof) -> dict[str, Any]:
    """A proof of a Never (analyses/proof.py) as plain data for rows and reports."""
    return {
        "status": pr.status,
        "axioms": list(pr.axioms),
        "needed": list(pr.alone),
        "smallest": None if pr.smallest is None else list(pr.smallest),
        "violations": [{"axiom": v.axiom, "kind": v.kind, "relation": v.relation,
                        "steps": [[s.src, s.label, s.dst] for s in v.steps]} for v in pr.violations],
        "witness": None if pr.witness is None else witness_json(pr.witness),
        "seconds": round(pr.seconds, 4),
    }


def verdict_json(v: Verdict) -> Row:
    outcome, note = v.judgement
    out: Row = {
        "file": v.file,
        "test": v.test,
        "model": v.model,
        "arch": v.arch,
        "condition": v.condition,
        "observation": v.observation,
        "result": v.result,
        "expected": v.expected,
        "expected_from": None if v.expectation is None else v.expectation.source,
        "matches": v.matches,
        "outcome": outcome,
        "note": note,
        "executions": v.executions,
        "seconds": round(v.seconds, 4),
        # herd7's `Flag` lines: the flags some allowed execution raises.
        "flags": list(v.flags),
    }
    if v.flags_unknown:
        out["flags_unknown"] = list(v.flags_unknown)
    if v.states is not None:
        out["states"] = herd_states([dict(s) for s in v.states], v.arch)
        # herd's Positive/Negative count executions; ours count final states (herd's counts
        # are an enumeration artefact; the observation is what the two agree on).
        out["positive"], out["negative"] = v.positive, v.negative
    if v.unroll is not None:
        # The test has loops: paths past the bound were not explored (herd7 says `Loop`).
        out["unroll"] = v.unroll
        out["cut"] = v.cut
    if v.witness is not None:
        out["witness"] = witness_json(v.witness)
    return out


def problem_row(file: str, model: str, outcome: RowOutcome, message: str, *, test: str | None = None,
                seconds: float = 0.0, reason: str | None = None) -> Row:
    """A row without a verdict: an `error` (bad input, a crashed worker), an `unsupported`
    construct, a `skipped` model, or an `unknown` that never reached the solver's answer
    (timeout, memory)."""
    row: Row = {
        "file": file,
        "test": test,
        "model": model,
        "observation": "Unknown" if outcome == "unknown" else None,
        "result": "Unknown" if outcome == "unknown" else None,
        "expected": None,
        "matches": None,
        "outcome": outcome,
        "note": message,
        "seconds": round(seconds, 4),
    }
    if reason is not None:
        row["reason"] = reason
    return row


# What `--resume` needs of a row it reads back, with the type each field must have.
_RESUMED_FIELDS: tuple[tuple[str, type | tuple[type, ...], bool], ...] = (
    ("file", str, True), ("model", str, True), ("outcome", str, True),
    ("note", (str, type(None)), False), ("seconds", (int, float), False),
)


def row_problem(row: object) -> str | None:
    """Why `row` (a JSON value read back by `--resume`) is not a row, or None: a row with a
    wrong type would otherwise be counted, summarised and judged as if it were one."""
    if not isinstance(row, dict):
        return "a row is a JSON object"
    for name, kind, required in _RESUMED_FIELDS:
        if name not in row:
            if required:
                return f"a row needs {name!r}"
            continue
        value = row[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"the row's {name!r} is {json_type(value)}"
    if row["outcome"] not in OUTCOMES:
        return f"the row's outcome {row['outcome']!r} is none of {', '.join(OUTCOMES)}"
    return None


def json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
