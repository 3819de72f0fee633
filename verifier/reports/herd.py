"""A row (see `rows.py`) in herd7's output format, so that scripts written for herd7 read ours.

The kernel's `judgelitmus.sh` greps `^Observation` and reads `Never 0 0` as DEADLOCK (no
execution at all); other tools (herd's `mcompare`, people's own scripts) read the whole block.
The block follows herd7's printer (herd/top_herd.ml), line for line:

    Test SB Allowed
    States 4
    0:r0=0; 1:r0=0;
    ...
    Ok
    Witnesses
    Positive: 1 Negative: 3
    Condition exists (0:r0=0 /\\ 1:r0=0)
    Observation SB Sometimes 1 3
    Time SB 0.01

followed by one empty line (states in herd7's order: reports/state_order.py).  Where we
differ from herd, and why (docs/herd7-dropin.md):

- no `Hash=` line: herd7's digest is of its own pretty-printing of the parsed test, which we
  do not reproduce; no script judges by it, and a wrong hash would be worse than none.

- herd's Positive/Negative count *executions*; ours count *final states* (the row's
  "positive"/"negative").  Enumerating executions is herd's artefact; the set of final states
  and the observation are what the two tools agree on, and what scripts compare.
- Without enumerated states (the row has no "states": `--states` was not asked for), no state
  lines can be listed, so the block says `States 0`: the count always equals the lines that
  follow, which is what a parser of the block relies on.  The counts are then the smallest
  ones consistent with the observation: Always -> 1 0, Sometimes -> 1 1, Never -> 0 1, and
  Never -> 0 0 only when the row says no execution exists at all (`"executions": false`, the
  DEADLOCK reading).  An undecided `executions` (None) gives 0 1, as `judge()` also treats
  it (a Never is judged against Never, not against DEADLOCK).
- A row without a verdict (error, unsupported, unknown) has nothing herd would print; it
  becomes one line `!!! <outcome> <file>: <note>`.  judgelitmus.sh reports a test without an
  `Observation` line as a verification error, which is the right reading of such a row.
"""

from __future__ import annotations

from verifier.reports.rows import Row
from verifier.reports.text import state_line

_VERDICTS = ("Never", "Sometimes", "Always")
_NO_VERDICT = ("error", "unsupported", "unknown")


def condition_kind(condition: str) -> str:
    """herd's word for the kind of a condition: what the test claims about its proposition."""
    text = condition.lstrip()
    if text.startswith("~"):
        return "Forbidden"
    if text.startswith("forall"):
        return "Required"
    return "Allowed"


def counts(row: Row) -> tuple[int, int]:
    """(positive, negative) w.r.t. the condition's proposition: from the enumerated states if
    the row has them, else the smallest counts consistent with the observation (see above)."""
    if row.get("states") is not None and row.get("positive") is not None and row.get("negative") is not None:
        return int(row["positive"]), int(row["negative"])
    observation = row.get("observation")
    if observation == "Always":
        return 1, 0
    if observation == "Sometimes":
        return 1, 1
    return (0, 0) if row.get("executions") is False else (0, 1)


def problem_line(row: Row) -> str:
    """The one line standing for a row without a verdict (newlines in the note flattened, so
    that it stays one line for line-oriented readers)."""
    note = " ".join(str(row.get("note") or "").split())
    return f"!!! {row.get('outcome')} {row.get('file')}: {note}\n"


def herd_block(row: Row) -> str:
    """herd7's lines for one test, ending with the empty line herd prints after each test.

    Rows without a verdict give the `!!!` line instead (see the module docstring); a
    `skipped` row (the model does not apply to the dialect) gives nothing, as herd7 run with
    one model prints nothing for a test of another architecture."""
    if row.get("outcome") == "skipped":
        return ""
    observation = row.get("observation")
    if row.get("outcome") in _NO_VERDICT or observation not in _VERDICTS or "condition" not in row:
        return problem_line(row)
    name = row.get("test") or row["file"]
    condition = str(row["condition"])
    kind = condition_kind(condition)
    states = row.get("states") or []  # in herd7's order already (reports/state_order.py)
    pos, neg = counts(row)
    # herd's Witnesses line counts what satisfies the *test's* claim: for ~exists that is the
    # proposition's negation, so the two swap; the Observation line never swaps.
    witness_pos, witness_neg = (neg, pos) if kind == "Forbidden" else (pos, neg)
    lines = [f"Test {name} {kind}", f"States {len(states)}"]
    lines.extend(state_line(s) for s in states)
    lines += [
        # herd7 prefixes the result with `Loop` when its unrolling bound cut some path.
        ("Loop " if row.get("cut") else "") + str(row["result"]),
        "Witnesses",
        f"Positive: {witness_pos} Negative: {witness_neg}",
        # herd7: a line per raised flag, sorted; ours adds one a flag query left undecided.
        *(f"Flag {f}" for f in row.get("flags") or ()),
        *(f"!!! flag {f} undecided (the solver gave up)" for f in row.get("flags_unknown") or ()),
        f"Condition {condition}",
        f"Observation {name} {observation} {pos} {neg}",
        f"Time {name} {float(row.get('seconds') or 0.0):.2f}",
        "",
    ]
    return "\n".join(lines) + "\n"
