"""herd7's order of final states, which every report uses (JSON rows, text, herd7 blocks):
a reader comparing our states with herd7's, line by line, sees the same lines in the same
order.  herd7 keeps final states in a set ordered by their values, location by location, and
prints each state's locations in its location order (registers, by thread then register,
before memory)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# herd7 orders registers by its register type's declaration order (lib/X86Base.ml,
# X86_64Base.ml, AArch64Base.ml); kernel C registers are names, ordered as strings.
_X86 = ("EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP", "ESP")
_X86_64 = ("AX", "BX", "CX", "DX", "SI", "DI", "BP", "SP", *(f"R{n}" for n in range(8, 16)))
_X86_64_PART = {"L": 0, "H": 1, "W": 2, "E": 3, "R": 4}  # R8bL < R8bH < R16b < R32b < R64b


def _register_key(arch: str, reg: str) -> tuple[object, ...]:
    if arch == "AArch64":
        m = re.fullmatch(r"[XW](\d+)", reg)
        return (0, int(m.group(1))) if m else (1, reg)
    if arch == "X86" and reg in _X86:
        return (0, _X86.index(reg))
    if arch == "X86_64":
        base, part = _x86_64_register(reg)
        if base in _X86_64:
            return (0, _X86_64.index(base), part)
    return (1, reg)


def _x86_64_register(reg: str) -> tuple[str, int]:
    """`EAX` -> (AX, 32-bit part), `R9D` -> (R9, ...), `AL` -> (AX, low byte)."""
    m = re.fullmatch(r"R(\d+)([DWB]?)", reg)
    if m:
        return f"R{m.group(1)}", {"": 4, "D": 3, "W": 2, "B": 0}[m.group(2)]
    if len(reg) == 3 and reg[0] in "ER":
        return reg[1:], _X86_64_PART[reg[0]]
    if len(reg) == 2 and reg[1] in "LH" and reg[0] in "ABCD":
        return reg[0] + "X", _X86_64_PART[reg[1]]
    if len(reg) == 3 and reg.endswith("L"):  # SIL, DIL, BPL, SPL
        return reg[:2], 0
    return reg, 2


def _column_key(arch: str, loc: str) -> tuple[object, ...]:
    """herd7's location order: registers, by thread then register, before memory."""
    proc, sep, reg = loc.partition(":")
    if sep and proc.isdigit():
        return (0, int(proc), _register_key(arch, reg))
    return (1, loc.strip("[]"))


def _value_key(value: str) -> tuple[int, int | str]:
    """herd7 compares concrete values as numbers, before symbolic ones (addresses)."""
    try:
        return (0, int(value, 0))
    except ValueError:
        return (1, value)


def herd_states(states: Sequence[Mapping[str, str]], arch: str) -> list[dict[str, str]]:
    """Final states as herd7 lists them: columns in its location order, states sorted by
    their values in that order (herd7's set of states is ordered so)."""
    ordered = [dict(sorted(s.items(), key=lambda kv: _column_key(arch, kv[0]))) for s in states]
    return sorted(ordered, key=lambda s: [(_column_key(arch, k), _value_key(v)) for k, v in s.items()])
