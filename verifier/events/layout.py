"""Where the locations live: an integer address per location.

herd7's addresses are symbolic values, never equal to an integer.  Ours are integers in a
window of 2^64 addresses far above anything a test computes with its registers (every
register value is below 2^64, every intermediate of one instruction below 2^140): the window
starts at 2^200.  An address plus or minus a 64-bit value wraps inside the window, as a
machine address wraps modulo 2^64 (the SMT stage takes "the low 64 bits" of a value in the
window that way), no narrower mask or type cast changes an address, and an address is printed
by its location's name (`x`, or `t+4` inside array `t`).  The cells `t[i]` of an array are
laid out contiguously from `t[0]` by the element size, so that address arithmetic
(`t + 8*i`, `[X0,#4]!`) finds them, and an address inside the array prints as herd7 prints it
(`t+4`).
"""

from __future__ import annotations

from verifier.events.graph import EventGraph
from verifier.program.ast import Litmus
from verifier.program.types import int_type

ADDR_BASE = 1 << 200
ADDR_WINDOW = 1 << 64  # addresses are ADDR_BASE + a 64-bit offset
ADDR_STRIDE = 1 << 12
# Values from this bound up are (computed from) addresses; integers stay far below it.
ADDR_NEAR = ADDR_BASE - (1 << 80)


def element_size(ctype: str | None) -> int:
    """An array element's size in bytes (a pointer's is 8; an `int` array's 4)."""
    if ctype is not None and ctype.endswith("*"):
        return 8
    t = int_type(ctype)
    return 4 if t is None else t.bits // 8


def address_codes(graph: EventGraph) -> dict[str, int]:
    """An integer address per location of the graph."""
    return layout(graph.test, graph.locations)


def layout(test: Litmus, names: tuple[str, ...] | list[str]) -> dict[str, int]:
    locs = {loc.name: loc for loc in test.locations}
    codes: dict[str, int] = {}
    slot = 0
    for name in names:
        loc = locs.get(name)
        if loc is not None and loc.array is not None and loc.array[1] > 0 and f"{loc.array[0]}[0]" in codes:
            codes[name] = codes[f"{loc.array[0]}[0]"] + element_size(loc.ctype) * loc.array[1]
        else:
            codes[name] = ADDR_BASE + ADDR_STRIDE * slot
            slot += 1
    return codes


def address_name(test: Litmus, codes: dict[str, int], v: int) -> str | None:
    """How herd7 prints address `v`: a location's name, or `t+k` inside array `t`."""
    arrays = {loc.array[0]: loc for loc in test.locations if loc.array is not None and loc.array[1] == 0}
    for name, code in codes.items():
        if code == v:
            loc = next((x for x in test.locations if x.name == name), None)
            if loc is not None and loc.array is not None:
                return loc.array[0] if loc.array[1] == 0 else f"{loc.array[0]}+{v - codes[f'{loc.array[0]}[0]']}"
            return name
    for base, loc in arrays.items():
        start = codes.get(loc.name)
        if start is not None and start <= v < start + ADDR_STRIDE:
            return f"{base}+{v - start}"
    return None
