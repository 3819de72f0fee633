"""Judging a verdict against the expectation a test records, as the kernel's scripts do.

- `Result(model): X` (this project's form) is exact for that model.
- The kernel's plain `Result: X` is LKMM's verdict.  Under a model marked `kernel-result:
  hardware` in models.yaml (one that, on C compiled through its table, forbids at least what
  LKMM forbids), a `Sometimes` there may legitimately be `Never` or `Always` here: such a
  mismatch is *forgiven*, exactly as `judgelitmus.sh --hw` forgives it.  Everything else is
  exact: `Never` must be `Never` (anything else would break a guarantee LKMM gives).
- A kernel `Result: Sometimes DATARACE` also predicts LKMM's `data-race` flag.  Under a
  model judged exactly (lkmm, a user's model), a race predicted and not flagged, or flagged
  and not predicted, fails, as judgelitmus.sh judges it; hardware models flag no races and
  are not asked.
- `DEADLOCK` means that no execution exists at all (herd: `Never 0 0`); conversely an
  unexpected absence of executions fails whatever was expected.  `Maybe`: no expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from verifier.analyses.registry import ModelSpec
from verifier.program.ast import Litmus

Outcome = Literal["pass", "forgiven", "fail", "unjudged", "unknown"]


@dataclass(frozen=True)
class Expectation:
    word: str  # Never / Sometimes / Always / DEADLOCK / Maybe
    source: str  # the comment it came from: "Result" or "Result(armv8)"
    forgiving: bool  # a kernel `Result:` read under a model stronger than LKMM
    # Whether the `data-race` flag is expected (the kernel's `Result: ... DATARACE`); None:
    # not judged (a per-model expectation, or a hardware model).
    data_race: bool | None = None

    def __str__(self) -> str:
        return f"{self.word} ({self.source})"


def expectation_for(test: Litmus, spec: ModelSpec) -> Expectation | None:
    table = dict(test.expected)
    if spec.name in table:
        # A YAML test records its expectations under `expected:`; a herd-format test in comments.
        source = f"expected.{spec.name}" if dict(test.expected_at) else f"Result({spec.name})"
        return Expectation(table[spec.name], source, False)
    if "" in table:
        forgiving = test.arch == "C" and spec.kernel_result == "hardware"
        race = None if forgiving or test.arch != "C" else test.predicts_data_race
        return Expectation(table[""], "Result", forgiving, race)
    return None


DATA_RACE = "data-race"


def judge(observation: str, executions: bool | None, exp: Expectation | None,
          flags: tuple[str, ...] = (), flags_unknown: tuple[str, ...] = ()) -> tuple[Outcome, str]:
    """The outcome of a verdict against its expectation, and a note saying why.  `flags`:
    the flags some allowed execution raises; `flags_unknown`: those left undecided."""
    outcome, why = _judge_observation(observation, executions, exp)
    if outcome != "pass" or exp is None or exp.data_race is None:
        return outcome, why
    if DATA_RACE in flags_unknown:
        return "unknown", "could not decide whether a data race exists"
    raced = DATA_RACE in flags
    if exp.data_race and not raced:
        return "fail", f"{observation}, but no data race (predicted: {exp.source} ... DATARACE)"
    if raced and not exp.data_race:
        return "fail", f"{observation}, with an unexpected data race (Flag data-race)"
    return outcome, why + (" with the predicted data race" if raced else "")


def _judge_observation(observation: str, executions: bool | None, exp: Expectation | None) -> tuple[Outcome, str]:
    if observation == "Unknown":
        return "unknown", "no verdict"
    if exp is None or exp.word == "Maybe":
        return "unjudged", "no expectation recorded"
    if exp.word == "DEADLOCK":
        if executions is None:
            return "unknown", "could not decide whether any execution exists"
        return ("pass", "no execution exists") if not executions else ("fail", "executions exist (expected DEADLOCK)")
    if executions is False:
        return "fail", f"no execution exists (unexpected deadlock; expected {exp.word})"
    if observation == exp.word:
        return "pass", f"{observation} as expected"
    if exp.forgiving and exp.word == "Sometimes":
        return "forgiven", f"{observation} where LKMM says Sometimes: this model is stronger (judgelitmus.sh --hw)"
    return "fail", f"{observation}, expected {exp.word} ({exp.source})"
