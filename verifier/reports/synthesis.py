"""Fence synthesis and explanations as JSON objects and as text for a terminal."""

from __future__ import annotations

from typing import Any

from verifier.analyses.explain import Explanation, label
from verifier.analyses.knobs import Knob, menu_dialect
from verifier.analyses.observe import format_condition
from verifier.analyses.synth import Synthesis
from verifier.reports.rows import Row, verdict_json, witness_json
from verifier.reports.text import witness_lines


def synthesis_json(s: Synthesis) -> Row:
    out: Row = {
        "file": s.test.path,
        "test": s.test.name,
        "model": s.model,
        "condition": format_condition(s.test),
        "status": s.status,
        "candidates": [k.as_json() for k in s.knobs],
        "chosen": [s.knobs[i].as_json() for i in s.chosen],
        "cost": s.cost,
        "alternatives": [[s.knobs[i].as_json() for i in alt] for alt in s.alternatives],
        "proof": {
            "cores": [
                {
                    "one_of": list(c.knobs),
                    "reachable_with": list(c.reachable_with),
                    "witness": None if c.witness is None else witness_json(c.witness),
                }
                for c in s.cores
            ]
        },
        "recheck": None if s.recheck is None else verdict_json(s.recheck),
        "queries": s.queries,
        "seconds": round(s.seconds, 4),
    }
    if s.witness is not None:
        out["witness"] = witness_json(s.witness)
    if s.unknown_reason is not None:
        out["reason"] = s.unknown_reason
    return out


def _changes(knobs: list[Knob]) -> list[str]:
    width = max((len(k.describe()) for k in knobs), default=0)
    return [f"  {k.describe():<{width}}  (cost {k.cost})" for k in knobs]


def synthesis_text(s: Synthesis) -> str:
    head = f"{s.test.path} under {s.model}: {format_condition(s.test)}"
    lines: list[str] = []
    if s.status == "already":
        lines.append(f"{head}: the outcome is already unreachable; nothing to add.")
    elif s.status == "unknown":
        lines.append(f"{head}: Unknown ({s.unknown_reason}): no answer within the limits.")
    elif s.status == "sc-reachable":
        lines.append(f"{head}: reachable even under sequential consistency, so no fence can help. "
                     "The SC execution:")
        lines.extend("  " + x for x in witness_lines(witness_json(s.witness))) if s.witness else None
    elif s.status == "no-fix":
        lines.append(f"{head}: no combination of the {len(s.knobs)} candidate changes forbids it "
                     "(with all of them made it is still reachable):")
        lines.extend("  " + x for x in witness_lines(witness_json(s.witness))) if s.witness else None
    else:
        many = len(s.alternatives) > 1
        chosen = s.chosen_knobs()
        lines.append(
            f"{head}: reachable; the cheapest fix costs {s.cost} ({len(chosen)} change{'s' * (len(chosen) != 1)})"
            + (f", {len(s.alternatives)} fixes of that cost:" if many else ":")
        )
        for n, alt in enumerate(s.alternatives, 1):
            if many:
                lines.append(f" fix {n}:")
            lines.extend(_changes([s.knobs[i] for i in alt]))
        lines.append(
            f"optimal: every cheaper set of the {len(s.knobs)} candidate changes leaves the outcome reachable "
            f"({len(s.cores)} refuting execution{'s' * (len(s.cores) != 1)}; --json lists them)"
        )
    if s.recheck is not None and s.status in ("fixed", "already"):
        lines.append(f"checked again from scratch with the changes made: {s.recheck.observation}")
    return "\n".join(lines)


def explanation_json(e: Explanation) -> Row:
    dialect = menu_dialect(e.test.arch)
    knobs = {k.index: k for k in e.knobs}

    def source(i: int) -> dict[str, Any]:
        k = knobs[i]
        return {"thread": k.tid, "line": k.line, "kind": "dependency" if k.kind == "dep" else "barrier",
                "name": _name(k, dialect), "text": _describe(k, dialect)}

    out: Row = {
        "file": e.test.path,
        "test": e.test.name,
        "model": e.model,
        "condition": format_condition(e.test),
        "status": e.status,
        "sources": [source(i) for i in e.sources],
        "needed": [source(i) for i in e.needed],
        "redundant": [source(i) for i in e.redundant],
        "minimal": [source(i) for i in e.minimal],
        "weaker": [dict(source(w.source), to=label(dialect, w.to)) for w in e.weakenings],
        "without": [
            {"source": source(i), "witness": None if w is None else witness_json(w)} for i, w in e.witnesses
        ],
        "queries": e.queries,
        "seconds": round(e.seconds, 4),
        "as_written": [{"thread": k.tid, "line": k.line, "name": _name(k, dialect), "text": _describe(k, dialect)}
                       for k in e.kept],
    }
    if e.witness is not None:
        out["witness"] = witness_json(e.witness)
    if e.unknown_reason is not None:
        out["reason"] = e.unknown_reason
    return out


def _name(k: Knob, dialect: str) -> str:
    return k.name if k.kind == "dep" else label(dialect, k.cls)


def _describe(k: Knob, dialect: str) -> str:
    return f"P{k.tid} line {k.line}: {_name(k, dialect)}"


def explanation_text(e: Explanation) -> str:
    dialect = menu_dialect(e.test.arch)
    knobs = {k.index: k for k in e.knobs}
    head = f"{e.test.path} under {e.model}: {format_condition(e.test)}"
    if e.status == "unknown":
        return f"{head}: Unknown ({e.unknown_reason}): no answer within the limits."
    if e.status == "reachable":
        lines = [f"{head}: the outcome is reachable as written; there is no proof to explain. The execution:"]
        if e.witness is not None:
            lines.extend("  " + x for x in witness_lines(witness_json(e.witness)))
        return "\n".join(lines)
    kept = ""
    if e.kept:
        kept = (f"\n  as written (this model has no weaker form of them): "
                f"{', '.join(_describe(k, dialect) for k in e.kept)}")
    if not e.sources:
        if e.kept:
            return f"{head}: unreachable with no fence, acquire, release or dependency besides these:{kept}"
        return f"{head}: unreachable without any ordering source (no fence, acquire, release or dependency)."
    lines = [f"{head}: unreachable; its {len(e.sources)} ordering source{'s' * (len(e.sources) != 1)}:"]
    width = max(len(_describe(knobs[i], dialect)) for i in e.sources)
    for i in e.sources:
        verdict = "needed: without it the outcome is reachable" if i in e.needed else "redundant: unreachable without it"
        lines.append(f"  {_describe(knobs[i], dialect):<{width}}  {verdict}")
    minimal = ", ".join(_describe(knobs[i], dialect) for i in e.minimal) or "none"
    lines.append(f"a smallest set that is enough on its own ({len(e.minimal)}): {minimal}")
    for w in e.weakenings:
        lines.append(f"could be weaker: {_describe(knobs[w.source], dialect)} -> {label(dialect, w.to)}")
    return "\n".join(lines) + kept
