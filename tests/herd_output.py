"""A small reader of herd7's output format, written from the format (not from our printer),
so that tests can check that `verifier.reports.herd` output reads back as herd7's would.

One block per test:

    Test <name> <Allowed|Forbidden|Required>
    States <n>
    <n lines of `loc=value;` pairs>
    Ok | No
    Witnesses
    Positive: <p> Negative: <n>
    Condition <condition>
    Observation <name> <Never|Sometimes|Always> <pos> <neg>
    Time <name> <seconds>

Lines outside blocks (herd's warnings, `Hash=` lines, our `!!!` lines) are skipped.
"""

from __future__ import annotations

import re
from typing import Any

_TEST = re.compile(r"^Test (\S+) (Allowed|Forbidden|Required)$")
_STATES = re.compile(r"^States (\d+)$")
_WITNESSES = re.compile(r"^Positive: (\d+) Negative: (\d+)$")
_OBSERVATION = re.compile(r"^Observation (\S+) (Never|Sometimes|Always) (\d+) (\d+)$")
_TIME = re.compile(r"^Time (\S+) (\d+(?:\.\d+)?)$")


def parse_state(line: str) -> dict[str, str]:
    """`0:r0=1; [x]=2;` -> {"0:r0": "1", "[x]": "2"} (order kept)."""
    state: dict[str, str] = {}
    for part in line.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"not a state: {line!r}")
        state[key.strip()] = value.strip()
    return state


def parse_herd(text: str) -> list[dict[str, Any]]:
    """Every complete test block in `text`, in order; a block cut short raises ValueError."""
    lines = text.splitlines()
    blocks: list[dict[str, Any]] = []
    i = 0
    while i < len(lines):
        m = _TEST.match(lines[i])
        if m is None:
            i += 1
            continue
        block, i = _block(lines, i, m)
        blocks.append(block)
    return blocks


def _expect(lines: list[str], i: int, pattern: re.Pattern[str] | str) -> tuple[re.Match[str], int]:
    if i >= len(lines):
        raise ValueError(f"output ends where {pattern!r} was expected")
    rx = re.compile("^" + re.escape(pattern) + "$") if isinstance(pattern, str) else pattern
    m = rx.match(lines[i])
    if m is None:
        raise ValueError(f"line {i + 1}: {lines[i]!r} does not match {rx.pattern!r}")
    return m, i + 1


def _block(lines: list[str], i: int, head: re.Match[str]) -> tuple[dict[str, Any], int]:
    name = head.group(1)
    i += 1
    m, i = _expect(lines, i, _STATES)
    states = [parse_state(line) for line in lines[i:i + int(m.group(1))]]
    if len(states) != int(m.group(1)):
        raise ValueError(f"{name}: States {m.group(1)} but only {len(states)} lines follow")
    i += len(states)
    m, i = _expect(lines, i, re.compile(r"^(?:Loop )?(Ok|No)$"))
    result = m.group(1)
    _, i = _expect(lines, i, "Witnesses")
    m, i = _expect(lines, i, _WITNESSES)
    positive, negative = int(m.group(1)), int(m.group(2))
    m, i = _expect(lines, i, re.compile(r"^Condition (.+)$"))
    condition = m.group(1)
    m, i = _expect(lines, i, _OBSERVATION)
    if m.group(1) != name:
        raise ValueError(f"Observation names {m.group(1)!r} inside the block of {name!r}")
    observation, obs_pos, obs_neg = m.group(2), int(m.group(3)), int(m.group(4))
    m, i = _expect(lines, i, _TIME)
    if m.group(1) != name:
        raise ValueError(f"Time names {m.group(1)!r} inside the block of {name!r}")
    return {
        "test": name,
        "kind": head.group(2),
        "states": states,
        "result": result,
        "positive": positive,
        "negative": negative,
        "condition": condition,
        "observation": observation,
        "obs_pos": obs_pos,
        "obs_neg": obs_neg,
        "time": float(m.group(2)),
    }, i
