"""Human-readable and JSON renderings of verdicts."""

from __future__ import annotations

from typing import Any

from verifier.analyses.check import Verdict, Witness


def state_line(state: tuple[tuple[str, str], ...]) -> str:
    """A final state as herd prints it: `0:r0=1; [x]=2;`."""
    return " ".join(f"{k}={v};" for k, v in state)


def verdict_text(v: Verdict, show_states: bool) -> str:
    lines = [f"{v.file}: {v.test} under {v.model}"]
    lines.append(f"  Observation: {v.observation}   Result: {v.result}   {v.condition}   ({v.seconds:.3f}s)")
    if v.observation == "Never":
        lines.append("  Proof: no execution allowed by the model reaches the condition (Z3: unsat)")
    elif v.observation == "Unknown":
        lines.append("  Unknown: the solver ran out of time; no verdict")
    if v.expected is not None:
        m = v.matches
        tag = "matches" if m else ("no expectation" if m is None else "MISMATCH")
        lines.append(f"  Expected: {v.expected} ({tag})")
    if v.witness is not None:
        what = "an execution violating it" if v.condition.startswith("forall") and v.result == "No" else (
            "an execution reaching the condition"
        )
        lines.append(f"  Witness ({what}):")
        lines.extend("    " + ln for ln in witness_lines(v.witness))
    if show_states and v.states is not None:
        lines.append(f"  States {len(v.states)}")
        lines.extend("    " + state_line(s) for s in v.states)
    return "\n".join(lines)


def _event_name(eid: int, by_id: dict[int, Any]) -> str:
    ev = by_id.get(eid)
    if ev is None:
        return f"e{eid}"
    return f"init {ev.loc}" if ev.tid < 0 else f"e{eid}"


def witness_lines(w: Witness) -> list[str]:
    by_id = {e.eid: e for e in w.events}
    rf_of = {r: src for src, r in w.rf}
    out: list[str] = []
    for e in w.events:
        if e.tid < 0:
            continue
        tags = f"[{','.join(e.tags)}]" if e.tags else ""
        line = f"line {e.line}" if e.line else ""
        if e.kind == "F":
            body = f"F{tags}"
        else:
            body = f"{e.kind}{tags} {e.loc}={e.value}"
        extra = ""
        if e.kind == "R":
            extra = f"  (reads from {_event_name(rf_of[e.eid], by_id)})" if e.eid in rf_of else ""
        out.append(f"P{e.tid} e{e.eid}: {body:<28} {line:<9} {e.cls}{extra}")
    for loc, order in w.co:
        if len(order) > 1:
            out.append(f"co {loc}: " + " -> ".join(_event_name(x, by_id) for x in order))
    out.append("final: " + " ".join(f"{k}={v};" for k, v in w.final))
    return out


def witness_json(w: Witness) -> dict[str, Any]:
    return {
        "events": [
            {"id": e.eid, "thread": e.tid, "kind": e.kind, "loc": e.loc, "value": e.value,
             "tags": list(e.tags), "class": e.cls, "line": e.line}
            for e in w.events
        ],
        "rf": [list(p) for p in w.rf],
        "co": {loc: list(order) for loc, order in w.co},
        "final": dict(w.final),
    }


def verdict_json(v: Verdict) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file": v.file,
        "test": v.test,
        "model": v.model,
        "condition": v.condition,
        "observation": v.observation,
        "result": v.result,
        "expected": v.expected,
        "matches": v.matches,
        "seconds": round(v.seconds, 4),
    }
    if v.states is not None:
        out["states"] = [dict(s) for s in v.states]
    if v.witness is not None:
        out["witness"] = witness_json(v.witness)
    return out
