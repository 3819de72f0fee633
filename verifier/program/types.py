"""The C types a litmus test may declare for its locations and registers, as herd7 reads them.

herd7 keeps a value as a bit pattern of its type's width and prints it (and compares it with a
condition's constant) as that type: `int` is a signed 32-bit integer, `uint64_t` an unsigned
64-bit one.  In the assembly dialects a location or register without a declared type is an
`int`.  Pointer types (`int *`) hold addresses, which no cast changes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IntType:
    """`bits` wide, signed or not."""

    bits: int
    signed: bool

    def cast(self, v: int) -> int:
        """`v` converted to this type, as C converts (wrapping modulo 2^bits)."""
        u = v % (1 << self.bits)
        return u - (1 << self.bits) if self.signed and u >= 1 << (self.bits - 1) else u

    def pattern(self, v: int) -> int:
        """The bit pattern of `v` as this type, read as an unsigned number."""
        return v % (1 << self.bits)


_TYPES: dict[str, IntType] = {
    "char": IntType(8, True), "signed char": IntType(8, True), "unsigned char": IntType(8, False),
    "short": IntType(16, True), "unsigned short": IntType(16, False),
    "int": IntType(32, True), "signed": IntType(32, True), "signed int": IntType(32, True),
    "unsigned": IntType(32, False), "unsigned int": IntType(32, False),
    "long": IntType(64, True), "unsigned long": IntType(64, False),
    "long long": IntType(64, True), "unsigned long long": IntType(64, False),
    "int8_t": IntType(8, True), "uint8_t": IntType(8, False),
    "int16_t": IntType(16, True), "uint16_t": IntType(16, False),
    "int32_t": IntType(32, True), "uint32_t": IntType(32, False),
    "int64_t": IntType(64, True), "uint64_t": IntType(64, False),
    "intptr_t": IntType(64, True), "uintptr_t": IntType(64, False),
    "atomic_t": IntType(32, True), "atomic64_t": IntType(64, True), "atomic_long_t": IntType(64, True),
    "spinlock_t": IntType(32, True),
}

INT = _TYPES["int"]


def int_type(ctype: str | None) -> IntType | None:
    """The integer type `ctype` names (qualifiers dropped); None for a pointer type, an
    unknown name or no type at all."""
    if ctype is None or ctype.endswith("*"):
        return None
    words = [w for w in ctype.split() if w not in ("const", "volatile", "_Atomic")]
    return _TYPES.get(" ".join(words))


def is_pointer(ctype: str | None) -> bool:
    return ctype is not None and ctype.endswith("*")


def known(ctype: str) -> bool:
    return is_pointer(ctype) or int_type(ctype) is not None
