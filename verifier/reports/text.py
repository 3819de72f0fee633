"""Human-readable rendering of a row (see `rows.py`): the verdict, its proof or witness."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from verifier.reports.rows import Row


def state_line(state: Mapping[str, str]) -> str:
    """A final state as herd prints it: `0:r0=1; [x]=2;`."""
    return " ".join(f"{k}={v};" for k, v in state.items())


_TAGS = {"pass": "matches", "forgiven": "forgiven", "fail": "MISMATCH", "unjudged": "not judged"}


def row_text(row: Row, show_states: bool = False) -> str:
    outcome = row.get("outcome")
    if outcome in ("error", "unsupported") or (outcome == "unknown" and "condition" not in row):
        label = {"error": "ERROR", "unsupported": "UNSUPPORTED", "unknown": "Unknown"}[outcome]
        return f"{row['file']}: {row.get('test') or ''} under {row['model']}\n  {label}: {row['note']}"
    lines = [f"{row['file']}: {row['test']} under {row['model']}"]
    lines.append(f"  Observation: {row['observation']}   Result: {row['result']}   {row['condition']}"
                 f"   ({row['seconds']:.3f}s)")
    if row.get("cut"):
        lines.append(f"  Loops unrolled {row['unroll']} times (--unroll): the answer holds for the executions "
                     "within that bound, as herd7's")
    if row.get("flags"):
        lines.append("  Flags: " + ", ".join(row["flags"]) + "  (some allowed execution raises them)")
    if row.get("flags_unknown"):
        lines.append("  Flags undecided (the solver gave up): " + ", ".join(row["flags_unknown"]))
    if row["observation"] == "Never":
        lines.append("  Proof: no execution allowed by the model reaches the condition (Z3: unsat)")
    elif row["observation"] == "Unknown":
        lines.append("  Unknown: the solver ran out of time; no verdict")
    if row.get("expected") is not None:
        tag = _TAGS.get(str(outcome), str(outcome))
        lines.append(f"  Expected: {row['expected']} from {row.get('expected_from')} ({tag}: {row.get('note')})")
    witness = row.get("witness")
    if witness is not None:
        what = "an execution violating it" if row["condition"].startswith("forall") and row["result"] == "No" else (
            "an execution reaching the condition"
        )
        lines.append(f"  Witness ({what}):")
        lines.extend("    " + ln for ln in witness_lines(witness))
    if show_states and row.get("states") is not None:
        lines.append(f"  States {len(row['states'])}")
        lines.extend("    " + state_line(s) for s in row["states"])
    return "\n".join(lines)


def _event_name(eid: int, by_id: Mapping[int, Mapping[str, Any]]) -> str:
    ev = by_id.get(eid)
    if ev is None:
        return f"e{eid}"
    return f"init {ev['loc']}" if ev["thread"] < 0 else f"e{eid}"


def witness_lines(w: Mapping[str, Any]) -> list[str]:
    """A witness (the JSON form) as lines: events by thread with values and rf, then co."""
    by_id = {e["id"]: e for e in w["events"]}
    rf_of = {r: src for src, r in w["rf"]}
    out: list[str] = []
    for e in w["events"]:
        if e["thread"] < 0:
            continue
        tags = f"[{','.join(e['tags'])}]" if e["tags"] else ""
        line = f"line {e['line']}" if e["line"] else ""
        body = f"F{tags}" if e["kind"] == "F" else f"{e['kind']}{tags} {e['loc']}={e['value']}"
        extra = ""
        if e["kind"] == "R" and e["id"] in rf_of:
            extra = f"  (reads from {_event_name(rf_of[e['id']], by_id)})"
        out.append(f"P{e['thread']} e{e['id']}: {body:<28} {line:<9} {e['class']}{extra}")
    for loc, order in w["co"].items():
        if len(order) > 1:
            out.append(f"co {loc}: " + " -> ".join(_event_name(x, by_id) for x in order))
    out.append("final: " + state_line(w["final"]))
    return out
