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
# Locations 2^32 apart: an address computed as a location's plus or minus less than 2^31
# is named after that location (herd7 prints `x+4`, `y+-4`: its addresses are symbolic).
ADDR_STRIDE = 1 << 32
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
    """How herd7 prints address `v`: a location's name, `t+k` inside array `t`, or the
    nearest location and the offset from it (`x+4`, `y+-4`) for an address computed from
    one; None for a value outside the address window."""
    if not ADDR_BASE <= v < ADDR_BASE + ADDR_WINDOW or not codes:
        return None
    locs = {loc.name: loc for loc in test.locations}

    def distance(code: int) -> int:  # signed, modulo 2^64 as addresses wrap in the window
        d = (v - code) % ADDR_WINDOW
        return d - ADDR_WINDOW if d >= ADDR_WINDOW // 2 else d

    name, code = min(codes.items(), key=lambda kv: (abs(distance(kv[1])), kv[1]))
    off = distance(code)
    loc = locs.get(name)
    if loc is not None and loc.array is not None:
        first = f"{loc.array[0]}[0]"
        off += code - codes.get(first, code)
        name = loc.array[0]
    elif abs(off) >= ADDR_STRIDE // 2:
        return None
    return name if off == 0 else f"{name}+{off}"
