"""A herd assembly test (X86, X86_64, AArch64) put together from its parsed parts.

The dialects differ in their program tables; the rest is herd's:

- locations come in order of first appearance (init block, program, tail);
- a location's initial value is a bit pattern of its declared type (an `int` when none is
  declared, as herd7 assumes in these dialects): `x=-1` holds 0xffffffff, and a 64-bit load
  of it reads 4294967295, as herd7 answers;
- registers and locations keep their declared types, with which final values are printed
  and compared (`Litmus.default_type` for the undeclared ones);
- `Unroll=N` in the preamble bounds how often a backward jump is taken.
"""

from __future__ import annotations

import re

from verifier.errors import InputError, Pos, Unsupported
from verifier.frontends.common import pos_of, read_expectations
from verifier.frontends.condition import Tail
from verifier.frontends.init import InitBlock
from verifier.program.ast import (
    ArrayObs,
    Atom,
    Const,
    Expr,
    Instr,
    Litmus,
    LocAddr,
    Location,
    MemObs,
    Prop,
    Thread,
    prop_atoms,
)
from verifier.program.types import INT, int_type, is_pointer, known

DEFAULT_TYPE = "int"


# herd7 extensions outside what we model, recognised before parsing so that a test written
# for them is refused by name rather than rejected as bad syntax: page tables (the
# virtual-memory model), exception handlers, instruction fetch and hardware table updates.
_EXTENSIONS = (
    (re.compile(r"\b(PTE|TTD|PA)\s*\(|\(\s*(oa|valid|af|db|dbm|el0|attrs)\s*:|\b(pte|phy)_\w"),
     "page-table entries (PTE(x), PA(x), TTD(x), pte_x, phy_x: herd7's virtual-memory model)"),
    (re.compile(r"\bFault\s*\("), "faults in the condition (Fault(...): herd7's exception model)"),
    (re.compile(r"\|\s*P\d+\.F\b|^\s*P\d+\.F\b", re.M), "exception handlers (a P0.F thread: herd7's exception model)"),
    (re.compile(r"=\s*(P?\d+):\s*L\w*"), "code labels as values (self-modifying code: herd7's instruction-fetch model)"),
)
_EXTENSION_KEYS = {"ttmh": "hardware updates of page tables", "tthm": "hardware updates of page tables",
                   "cachetype": "instruction-cache types (herd7's instruction-fetch model)"}


def refuse_extensions(src: str, path: str, info: dict[str, str]) -> None:
    """Refuse, by name, a test that needs one of herd7's models we do not have: a `Variant=`
    other than `telechat`, page tables, exception handlers, instruction fetch.  `src` has
    its comments blanked."""
    for key, setting in info.items():
        if key.lower() in _EXTENSION_KEYS:
            raise Unsupported(Pos(path, 1, 1), f"unsupported: {_EXTENSION_KEYS[key.lower()]} ({key}={setting})")
        for variant in setting.split(",") if key.lower() == "variant" else ():
            # `telechat` (the test was compiled from C) makes `ret` end the thread, which
            # is what `ret` means here; every other variant changes what we model.
            if variant.strip().lower() != "telechat":
                raise Unsupported(Pos(path, 1, 1), f"unsupported: herd7 variant '{variant.strip()}' (Variant={setting})")
    for pattern, what in _EXTENSIONS:
        m = pattern.search(src)
        if m:
            raise Unsupported(pos_of(src, m.start(), path), f"unsupported: {what}")


def assemble(
    arch: str,
    name: str,
    path: str,
    src: str,
    init_at: int,
    init: InitBlock,
    tail: Tail,
    threads: list[tuple[Instr, ...]],
    info: dict[str, str],
    text: str,
    program_names: list[str] = (),  # type: ignore[assignment]
    reg_bits: int = 64,
) -> Litmus:
    """The `Litmus` of an assembly test; `program_names` are the locations the program
    names (X86's `[x]`), in order; `reg_bits` the registers' width (an initial register
    value is its bit pattern: `0:X0=-1` is all ones, as herd7 sets it)."""
    init_pos = pos_of(src, src.find("{", init_at), path)
    for tid, reg, _ in init.registers:
        if tid >= len(threads):
            raise InputError(init_pos, f"the init block sets register {tid}:{reg} but there is no thread P{tid}")
    for _, _, ctype in [*init.memory, *((t, r, c) for t, r, c in init.reg_types)]:
        if ctype is not None and not known(ctype):
            # herd7 accepts any name as a type; we do not guess a width for one we do not know.
            raise Unsupported(init_pos, f"unsupported: unknown type '{ctype}' in the init block")
    body = tuple(
        Thread(
            tid,
            code,
            tuple((reg, _pattern_bits(value, reg_bits)) for t, reg, value in init.registers if t == tid),
            tuple((reg, ctype) for t, reg, ctype in init.reg_types if t == tid),
        )
        for tid, code in enumerate(threads)
    )
    order: list[str] = [n for n, _, _ in init.memory]
    order += [v.name for _, v, _ in init.memory if isinstance(v, LocAddr)]
    order += [v.name for _, _, v in init.registers if isinstance(v, LocAddr)]
    order += list(program_names)
    arrays = dict(init.arrays)
    props: list[Prop] = [Atom(o, 0) for o in tail.observed if not isinstance(o, ArrayObs)]
    props += [tail.filter] if tail.filter is not None else []
    for atom in (a for p in [*props, tail.condition.prop] for a in prop_atoms(p)):
        if isinstance(atom.obs, MemObs):
            order.append(atom.obs.loc)
        for v in atom.value if isinstance(atom.value, tuple) else (atom.value,):
            if isinstance(v, str):
                order.append(v)
    declared = {n: (v, ctype) for n, v, ctype in init.memory}
    locations = []
    for loc in dict.fromkeys(order):
        value, ctype = declared.get(loc, (Const(0), None))
        cell = next(((a, int(loc[len(a) + 1 : -1])) for a in arrays if loc.startswith(a + "[")), None)
        locations.append(Location(loc, _pattern(value, ctype), ctype, cell))
    unroll = info.get("Unroll")
    if unroll is not None and not unroll.isdigit():
        raise InputError(Pos(path, 1, 1), f"Unroll={unroll}: expected a number of times")
    return Litmus(
        arch=arch,
        name=name,
        path=path,
        threads=body,
        locations=tuple(locations),
        condition=tail.condition,
        observed=tail.observed,
        filter=tail.filter,
        expected=read_expectations(text),
        default_type=DEFAULT_TYPE,
        unroll=None if unroll is None else int(unroll),
    )


def _pattern_bits(value: Expr, bits: int) -> Expr:
    return Const(value.value % (1 << bits)) if isinstance(value, Const) else value


def _pattern(value: Expr, ctype: str | None) -> Expr:
    """An initial value as the bit pattern of the location's type."""
    if not isinstance(value, Const) or is_pointer(ctype):
        return value
    return Const((int_type(ctype) or INT).pattern(value.value))
