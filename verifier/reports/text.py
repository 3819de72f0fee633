"""Human-readable rendering of a row (see `rows.py`): the verdict, its proof or witness."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from verifier.reports.rows import Row


def state_line(state: Mapping[str, str]) -> str:
    """A final state as herd prints it: `0:r0=1; [x]=2;`."""
    return " ".join(f"{k}={v};" for k, v in state.items())


_TAGS = {"pass": "matches", "forgiven": "forgiven", "fail": "MISMATCH", "unjudged": "not judged"}


def row_text(row: Row, show_states: bool = False, events: bool = False) -> str:
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
        if row.get("proof") is not None:
            lines.extend("  " + ln for ln in proof_lines(row["proof"]))
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
        lines.extend("    " + ln for ln in witness_lines(witness, events))
    if show_states and row.get("states") is not None:
        lines.append(f"  States {len(row['states'])}")
        lines.extend("    " + state_line(s) for s in row["states"])
    return "\n".join(lines)


def _event_name(eid: int, by_id: Mapping[int, Mapping[str, Any]]) -> str:
    ev = by_id.get(eid)
    if ev is None:
        return f"e{eid}"
    return f"init {ev['loc']}" if ev["thread"] < 0 else f"e{eid}"


def proof_lines(pr: Mapping[str, Any]) -> list[str]:
    """Which axioms a Never rests on, and what each forbids (analyses/proof.py)."""
    needed, smallest = pr["needed"], pr["smallest"]
    if pr["status"] == "unknown":
        return ["Axioms: not worked out within the time given (the verdict stands)"]
    out: list[str] = []
    others = [a for a in pr["axioms"] if a not in needed]
    if needed:
        out.append(f"Rests on: {', '.join(needed)} (without {'it' if len(needed) == 1 else 'any one of them'}, "
                   "the outcome is reachable)")
    if smallest == []:
        out.append("Rests on no axiom: no candidate execution reaches the condition at all (the program's values "
                   "and control flow rule it out)")
        return out
    if smallest is None:
        out.append(f"No set of up to 3 axioms whose removal makes the outcome reachable (axioms: "
                   f"{', '.join(pr['axioms'])})")
        return out
    if not needed:
        every = "both" if len(smallest) == 2 else f"all {len(smallest)}"
        out.append(f"No single axiom is needed: {' and '.join(smallest)} each forbid it; without {every} "
                   "the outcome is reachable")
    if others and needed:
        out.append(f"Not needed on their own: {', '.join(others)}")
    w = pr.get("witness")
    for v in pr["violations"]:
        chain = "".join(f" -{label}-> e{dst}" for _, label, dst in v["steps"])
        start = f"e{v['steps'][0][0]}" if v["steps"] else ""
        out.append(f"{v['axiom']} forbids the execution below ({v['kind']} {v['relation']}): {start}{chain}")
    if w is not None:
        out.append("The execution the other axioms allow:")
        out.extend("  " + ln for ln in witness_lines(w))
    return out


def _source(e: Mapping[str, Any]) -> str:
    """The instruction an event comes from, as written; the event itself if none was kept."""
    tags = f"[{','.join(e['tags'])}]" if e["tags"] else ""
    modelled = f"F{tags}" if e["kind"] == "F" else f"{e['kind']}{tags} {e['loc']}={e['value']}"
    return str(e.get("source") or modelled)


def witness_lines(w: Mapping[str, Any], events: bool = False) -> list[str]:
    """A witness (the JSON form) as lines: per thread, each event named by the instruction
    it comes from as written and its line, then what it does (reads, writes, and where a read
    reads from); `events`: also the event as the model sees it (kind, tags) and its mapping
    class.  Then co per location and the final state.  Events are numbered as everywhere
    else (`e2`: the graph's event id; check, explain and fences share it)."""
    by_id = {e["id"]: e for e in w["events"]}
    rf_of = {r: src for src, r in w["rf"]}
    out: list[str] = []
    shown = [e for e in w["events"] if e["thread"] >= 0]
    width = min(48, max((len(_source(e)) + len(f"P{e['thread']} e{e['id']}: ") for e in shown), default=0))
    for e in shown:
        tags = f"[{','.join(e['tags'])}]" if e["tags"] else ""
        line = f"line {e['line']}" if e["line"] else ""
        modelled = f"F{tags}" if e["kind"] == "F" else f"{e['kind']}{tags} {e['loc']}={e['value']}"
        what = {"R": f"reads {e['loc']}={e['value']}", "W": f"writes {e['loc']}={e['value']}",
                "L": f"lock event on {e['loc']}"}.get(e["kind"], "fence")
        if e["kind"] == "R" and e["id"] in rf_of:
            what += f" from {_event_name(rf_of[e['id']], by_id)}"
        name = f"P{e['thread']} e{e['id']}: {_source(e)}"
        text = f"{name:<{width}}  {line:<9} {what}"
        if events:
            text += f"   {{{modelled} {e['class']}}}"
        out.append(text.rstrip())
    for loc, order in w["co"].items():
        if len(order) > 1:
            out.append(f"co {loc}: " + " -> ".join(_event_name(x, by_id) for x in order))
    out.append("final: " + state_line(w["final"]))
    return out
