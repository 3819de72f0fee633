"""Expectations are judged as the kernel's judgelitmus.sh judges them (see analyses/judge.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.analyses.check import check
from verifier.analyses.judge import Expectation, judge
from verifier.analyses.registry import resolve_model
from verifier.frontends import parse_text

LKMM_SOMETIMES = Expectation("Sometimes", "Result", forgiving=True)


@pytest.mark.parametrize(
    ("observation", "executions", "exp", "outcome"),
    [
        ("Never", True, Expectation("Never", "Result(sc)", False), "pass"),
        ("Sometimes", True, Expectation("Never", "Result", True), "fail"),  # never forgiven
        ("Never", True, LKMM_SOMETIMES, "forgiven"),
        ("Always", True, LKMM_SOMETIMES, "forgiven"),
        ("Never", True, Expectation("Sometimes", "Result(sc)", False), "fail"),  # exact per model
        ("Sometimes", True, Expectation("Always", "Result", True), "fail"),
        ("Never", False, Expectation("DEADLOCK", "Result", True), "pass"),
        ("Never", True, Expectation("DEADLOCK", "Result", True), "fail"),
        ("Never", None, Expectation("DEADLOCK", "Result", True), "unknown"),
        ("Never", False, Expectation("Never", "Result", True), "fail"),  # unexpected deadlock
        ("Sometimes", True, Expectation("Maybe", "Result", True), "unjudged"),
        ("Sometimes", True, None, "unjudged"),
        ("Unknown", None, Expectation("Never", "Result", True), "unknown"),
    ],
)
def test_rules(observation: str, executions: bool | None, exp: Expectation | None, outcome: str) -> None:
    assert judge(observation, executions, exp)[0] == outcome


MP = """C MP
(* Result: {result} *)
{{}}
P0(int *x, int *y) {{ WRITE_ONCE(*x, 1); WRITE_ONCE(*y, 1); }}
P1(int *x, int *y) {{ int r0; int r1; r0 = READ_ONCE(*y); r1 = READ_ONCE(*x); }}
{filter}
exists (1:r0=1 /\\ 1:r1=0)
"""


def _verdict(result: str, model: str, filter_: str = "") -> tuple[str, str]:
    test = parse_text(MP.format(result=result, filter=filter_), str(Path("MP.litmus")))
    v = check(test, resolve_model(model))
    return v.observation, v.outcome


def test_kernel_result_under_hardware_models() -> None:
    # LKMM says Sometimes; x86 forbids MP: forgiven, as judgelitmus.sh --hw forgives it.
    assert _verdict("Sometimes", "x86-tso") == ("Never", "forgiven")
    assert _verdict("Sometimes", "armv8") == ("Sometimes", "pass")
    assert _verdict("Never", "armv8") == ("Sometimes", "fail")


def test_deadlock_is_no_execution_at_all() -> None:
    impossible = "filter (1:r0=2)"
    assert _verdict("DEADLOCK", "sc", impossible) == ("Never", "pass")
    assert _verdict("DEADLOCK", "sc") == ("Never", "fail")  # executions exist
    assert _verdict("Never", "sc", impossible) == ("Never", "fail")  # unexpected deadlock


def test_per_model_result_wins_over_the_kernel_one() -> None:
    text = MP.format(result="Sometimes", filter="").replace("(* Result: Sometimes *)",
                                                           "(* Result: Sometimes\n Result(x86-tso): Sometimes *)")
    v = check(parse_text(text, "MP.litmus"), resolve_model("x86-tso"))
    assert (v.observation, v.outcome, v.expectation and v.expectation.source) == ("Never", "fail", "Result(x86-tso)")


RACY = Expectation("Sometimes", "Result", False, data_race=True)
RACE_FREE = Expectation("Sometimes", "Result", False, data_race=False)


@pytest.mark.parametrize(
    ("flags", "unknown", "exp", "outcome"),
    [
        (("data-race",), (), RACY, "pass"),
        ((), (), RACY, "fail"),  # predicted, not modelled
        (("data-race",), (), RACE_FREE, "fail"),  # modelled, not predicted
        ((), (), RACE_FREE, "pass"),
        ((), ("data-race",), RACY, "unknown"),
        (("data-race",), (), LKMM_SOMETIMES, "forgiven"),  # a hardware model is not asked
    ],
)
def test_data_race_rules(flags: tuple[str, ...], unknown: tuple[str, ...], exp: Expectation, outcome: str) -> None:
    observation = "Sometimes" if not exp.forgiving else "Never"
    assert judge(observation, True, exp, flags, unknown)[0] == outcome


PLAIN_MP = """C MP-plain
(* Result: Sometimes{race} *)
{{}}
P0(int *x, int *y) {{ *x = 1; smp_store_release(y, 1); }}
P1(int *x, int *y) {{ int r0; int r1; r0 = READ_ONCE(*y); r1 = *x; }}
exists (1:r0=1 /\\ 1:r1=0)
"""


@pytest.mark.parametrize(("race", "model", "outcome"), [
    (" DATARACE", "lkmm", "pass"),
    ("", "lkmm", "fail"),  # LKMM flags the race on x: an unexpected data race
    (" DATARACE", "armv8", "pass"),  # hardware models flag no races and are not asked
    ("", "armv8", "pass"),
])
def test_kernel_datarace_results(race: str, model: str, outcome: str) -> None:
    test = parse_text(PLAIN_MP.format(race=race), str(Path("MP-plain.litmus")))
    assert test.predicts_data_race == bool(race)
    v = check(test, resolve_model(model))
    assert v.outcome == outcome, v.judgement
    assert ("data-race" in v.flags) == (model == "lkmm")
