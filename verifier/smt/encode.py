"""The candidate executions of an event graph, as SMT constraints.

- every event happens iff its guard holds; reads get an integer value variable;
- rf: one Boolean per (write, read) pair that may touch the same location; each read that
  happens reads from exactly one write, and takes its value;
- co: an integer clock per write; co(a, b) iff both happen, same location, clock(a) < clock(b)
  (initial writes have clock 0 and come first), so co is a per-location total order for free;
- fr = rf^-1 ; co, derived; the final value of a location is the value of its co-last write.

Only pairs that can exist are encoded: different constant addresses are never related.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from verifier.errors import Pos, Unsupported
from verifier.events.graph import Event, EventGraph
from verifier.events.layout import ADDR_BASE, ADDR_NEAR, ADDR_WINDOW, address_codes, address_name
from verifier.events.ranges import Interval, Ranges, analyse, within
from verifier.events.sym import (
    COMPARISONS,
    SAddr,
    SBin,
    SChoice,
    SConst,
    SIte,
    SPick,
    SRead,
    SUn,
    Sym,
    reads_in,
)
from verifier.smt.graph import sccs
from verifier.smt.terms import (
    F,
    Script,
    T,
    and_,
    eq,
    implies,
    ite,
    lit_value,
    lt,
    not_,
    num,
    or_,
)

Pair = tuple[int, int]


@dataclass
class Execution:
    """The encoded candidate executions: names of the SMT constants and derived relations."""

    graph: EventGraph
    script: Script
    addr_code: dict[str, int]
    ranges: Ranges
    guard: dict[int, str] = field(default_factory=dict)
    addr: dict[int, str] = field(default_factory=dict)
    value: dict[int, str] = field(default_factory=dict)  # read value var / written value term
    rf: dict[Pair, str] = field(default_factory=dict)
    co: dict[Pair, str] = field(default_factory=dict)
    fr: dict[Pair, str] = field(default_factory=dict)
    clock: dict[int, str] = field(default_factory=dict)
    final_mem: dict[str, str] = field(default_factory=dict)
    last: dict[int, str] = field(default_factory=dict)  # write is co-last at its location
    # Pairs of accesses of different sizes whose addresses may be equal in some execution:
    # the analyses refuse the test if one is (herd7 refuses mixed-size tests by default).
    size_pairs: list[tuple[int, int]] = field(default_factory=list)
    # Sized accesses whose computed address may fall inside a location without being its
    # address (`t+2` in an int array): herd7 refuses such tests, and so do the analyses.
    loose: list[int] = field(default_factory=list)
    _cache: dict[tuple[Sym, bool], str] = field(default_factory=dict)

    # ---- symbolic values to SMT

    def int_of(self, s: Sym) -> str:
        key = (s, False)
        if key not in self._cache:
            self._cache[key] = self._int(s)
        return self._cache[key]

    def bool_of(self, s: Sym) -> str:
        key = (s, True)
        if key not in self._cache:
            self._cache[key] = self._bool(s)
        return self._cache[key]

    def _int(self, s: Sym) -> str:
        if isinstance(s, SConst):
            return num(s.value)
        if isinstance(s, SAddr):
            return num(self.addr_code[s.name])
        if isinstance(s, SRead):
            return f"v{s.eid}"
        if isinstance(s, SChoice):
            return f"ch{s.index}"
        if isinstance(s, SPick):
            return ite(self.bool_of(s), "1", "0")
        if isinstance(s, SIte):
            return ite(self.bool_of(s.cond), self.int_of(s.then), self.int_of(s.other))
        if isinstance(s, SUn):
            a = self.int_of(s.arg)
            if s.op == "-":
                return f"(- {a})"
            if s.op == "~":
                return f"(- (- {a}) 1)"  # two's complement: ~a = -a - 1
            return ite(self.bool_of(s), "1", "0")
        if isinstance(s, SBin):
            if s.op in COMPARISONS or s.op in ("&&", "||"):
                return ite(self.bool_of(s), "1", "0")
            a, b = self.int_of(s.left), self.int_of(s.right)
            if s.op in ("+", "-", "*"):
                la, lb = lit_value(a), lit_value(b)
                if la is not None and lb is not None:  # an address plus an offset
                    return num(la + lb if s.op == "+" else la - lb if s.op == "-" else la * lb)
                return f"({s.op} {a} {b})"
            if s.op == "<<" and isinstance(s.right, SConst) and s.right.value >= 0:
                return f"(* {a} {1 << s.right.value})"
            if s.op == ">>" and isinstance(s.right, SConst) and s.right.value >= 0:
                return f"(div {a} {1 << s.right.value})"  # floor, as >> on integers
            if s.op in ("/", "%"):
                # C truncates towards zero; SMT-LIB div/mod are Euclidean.
                q = f"(ite (= (>= {a} 0) (>= {b} 0)) (div (abs {a}) (abs {b})) (- (div (abs {a}) (abs {b}))))"
                return q if s.op == "/" else f"(- {a} (* {b} {q}))"
            if s.op == "&":
                # `x & (2^k - 1)` (the low bits of a machine value) is `x mod 2^k` for every
                # integer x in two's complement: linear arithmetic, where bit-vector conversion
                # makes Z3 crawl; and nothing at all when x already lies in [0, 2^k).
                # An address is herd7's symbolic value: no bit operation cuts it (a 32-bit X86
                # register or store keeps a pointer whole).
                for v, x, other in ((s.right, s.left, a), (s.left, s.right, b)):
                    if isinstance(v, SConst) and v.value > 0 and v.value & (v.value + 1) == 0:
                        rng = self.ranges.of(x)
                        if within(rng, 0, v.value) or within(rng, ADDR_BASE, ADDR_BASE + ADDR_WINDOW - 1):
                            return other  # already the low bits, or an address in its window
                        cut = f"(mod {other} {v.value + 1})"
                        if rng is not None and rng[1] < ADDR_NEAR:
                            return cut
                        # An address: its 64 low bits wrap inside the address window; a
                        # narrower mask leaves it whole (herd7 refuses a 32-bit operation on
                        # an address; we keep the address).
                        kept = other if v.value + 1 < ADDR_WINDOW else (
                            f"(+ {ADDR_BASE} (mod (- {other} {ADDR_BASE}) {ADDR_WINDOW}))")
                        return ite(self.is_address(other), kept, cut)
            for c, x, term in ((s.right, s.left, a), (s.left, s.right, b)):
                if isinstance(c, SConst) and s.op in ("&", "|", "^"):
                    linear = self._with_constant(s.op, x, term, c.value)
                    if linear is not None:
                        return linear
            ra, rb = self.ranges.of(s.left), self.ranges.of(s.right)
            if any(r is None or r[1] >= ADDR_NEAR for r in (ra, rb)) and self.graph.test.default_type is not None:
                raise _address_bitwise(self)
            return _bitwise(s.op, a, b, _width(ra, rb))
        raise TypeError(f"not a symbolic value: {s!r}")

    def _with_constant(self, op: str, x: Sym, term: str, c: int) -> str | None:
        """`x & c`, `x | c`, `x ^ c` in linear arithmetic: `x & c` for c >= 0 is a sum of bit
        runs (`_and_runs`), for c < 0 it is `x - (x & ~c)`; `x | c = x + c - (x & c)` and
        `x ^ c = x + c - 2 (x & c)`.  All are two's-complement identities, exact on every
        integer, so x's range is only needed to drop work (and to refuse an address).
        Bit-vector conversions make Z3 crawl; these keep it in linear integer arithmetic."""
        rng = self.ranges.of(x)
        k: int | None = None
        bits = c
        if rng is not None and 0 <= rng[0] <= rng[1]:
            if rng[1] >= ADDR_NEAR:
                raise _address_bitwise(self)
            k = max(rng[1].bit_length(), 1)
            bits = c % (1 << k)  # x < 2^k: c's higher bits select nothing
        elif self.graph.test.default_type is not None:
            return None  # a machine register of unknown range may hold an address: refused
        conj = _and_runs(term, bits, k) if bits >= 0 else f"(- {term} {_and_runs(term, ~bits, None)})"
        if op == "&":
            return conj
        return f"(- (+ {term} {num(c)}) {conj if op == '|' else f'(* 2 {conj})'})"

    def misaligned(self, eid: int) -> str:
        """Event `eid`'s address is an address (in the window) but no location's: inside a
        cell, or off an array's end."""
        at = self.addr[eid]
        codes = sorted(self.addr_code.values())
        return and_(self.is_address(at), *(not_(eq(at, num(c))) for c in codes))

    def is_address(self, term: str) -> str:
        """Whether `term`'s value is (computed from) an address: `t+16` is still herd7's
        symbolic value `t` plus 16."""
        return f"(>= {term} {ADDR_NEAR})"

    def _bool(self, s: Sym) -> str:
        if isinstance(s, SConst):
            return T if s.value else F
        if isinstance(s, SPick):
            return pick_name(s.index)
        if isinstance(s, SBin) and s.op in COMPARISONS:
            a, b = self.int_of(s.left), self.int_of(s.right)
            if s.op == "==":
                return eq(a, b)
            if s.op == "!=":
                return not_(eq(a, b))
            op = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}[s.op]
            return f"({op} {a} {b})"
        if isinstance(s, SBin) and s.op == "&&":
            return and_(self.bool_of(s.left), self.bool_of(s.right))
        if isinstance(s, SBin) and s.op == "||":
            return or_(self.bool_of(s.left), self.bool_of(s.right))
        if isinstance(s, SUn) and s.op == "!":
            return not_(self.bool_of(s.arg))
        return not_(eq(self.int_of(s), "0"))


def pick_name(index: int) -> str:
    """The Boolean constant of analysis choice `index` (fence synthesis asks under assumptions)."""
    return f"pick{index}"


# Bitwise operators go through bit-vectors wide enough for every value a test computes
# (unsigned 64-bit patterns, their sums and differences), read back as signed integers: exact
# for operands in [-2^127, 2^127).
_BV = 128


def _and_runs(term: str, bits: int, k: int | None) -> str:
    """`term & bits` (bits >= 0): each run of ones, bits lo..hi-1, selects `(term div 2^lo)
    mod 2^(hi-lo)`, floor division and a non-negative remainder, so negative terms too come
    out as two's complement says.  With `term` known to lie in [0, 2^k), a run reaching bit
    k needs no `mod`."""
    parts: list[str] = []
    lo = 0
    while bits >> lo:
        if not (bits >> lo) & 1:
            lo += 1
            continue
        hi = lo
        while (bits >> hi) & 1:
            hi += 1
        shifted = term if lo == 0 else f"(div {term} {1 << lo})"
        run = shifted if k is not None and hi >= k else f"(mod {shifted} {1 << (hi - lo)})"
        parts.append(run if lo == 0 else f"(* {run} {1 << lo})")
        lo = hi
    return "0" if not parts else parts[0] if len(parts) == 1 else f"(+ {' '.join(parts)})"


def _width(a: Interval, b: Interval) -> int:
    """Bits enough for both operands of a bitwise operation as signed numbers (narrow
    bit-vectors keep Z3 fast); the full width when a range is unknown."""
    if a is None or b is None or a[0] > a[1] or b[0] > b[1]:
        return _BV
    need = max(max(abs(a[0]), abs(a[1]), abs(b[0]), abs(b[1])).bit_length() + 1, 2)
    return min(need, _BV)


def _bitwise(op: str, a: str, b: str, width: int = _BV) -> str:
    """Bitwise operators (and shifts by a computed amount) through bit-vectors of `width`
    bits (two's complement), exact for operands that fit."""
    if op == "<<":
        width = _BV  # the result may be wider than the operands
    bva, bvb = f"((_ int2bv {width}) {a})", f"((_ int2bv {width}) {b})"
    fn = {"&": "bvand", "|": "bvor", "^": "bvxor", "<<": "bvshl", ">>": "bvashr"}[op]
    r = f"({fn} {bva} {bvb})"
    return f"(let ((u (bv2int {r}))) (ite (>= u {1 << (width - 1)}) (- u {1 << width}) u))"


def static_loc(e: Event) -> str | None:
    return e.addr.name if isinstance(e.addr, SAddr) else None


def encode_execution(graph: EventGraph) -> Execution:
    script = Script()
    codes = address_codes(graph)
    ex = Execution(graph, script, codes, analyse(graph, codes))
    events = graph.events
    # Read values first: guards, addresses and written values are computed from them.
    for e in events:
        if e.kind == "R":
            script.declare(f"v{e.eid}", "Int")
            ex.value[e.eid] = f"v{e.eid}"
    for i in range(graph.choices):
        script.declare(f"ch{i}", "Int")
    for k in graph.picks:
        script.declare(pick_name(k), "Bool")
    for e in events:
        ex.guard[e.eid] = script.name_bool(f"g{e.eid}", ex.bool_of(e.guard))
    for e in events:
        if e.kind == "W" and e.value is not None:
            ex.value[e.eid] = script.name_int(f"wv{e.eid}", ex.int_of(e.value))
        if e.addr is not None:
            ex.addr[e.eid] = script.name_int(f"a{e.eid}", ex.int_of(e.addr))
    for a in graph.assumptions:
        script.add(ex.bool_of(a))
    writes = [e for e in events if e.kind == "W"]
    reads = [e for e in events if e.kind == "R"]
    accesses = [e for e in events if e.kind != "F" and not e.is_init]
    _refuse_integer_addresses(ex, accesses)
    ex.size_pairs = _size_pairs(ex, accesses)
    ex.loose = _loose_addresses(ex, accesses)
    _encode_co(ex, writes)
    _encode_rf(ex, reads, writes)
    _encode_fr(ex, reads, writes)
    _encode_final(ex, writes)
    _encode_value_flow(ex)
    return ex


def _encode_value_flow(ex: Execution) -> None:
    """Values must be computable by propagation, as herd7's equation solver requires: an
    execution whose values justify themselves (a cycle of rf edges and value or address
    dependencies, e.g. LB with data dependencies reading 42 from thin air) is not a candidate.
    Ranks order the cycle's edges; only edges inside a strongly connected component of the
    may-graph get a constraint, so tests without such cycles pay nothing."""
    dep_edges: list[tuple[int, int]] = []
    for e in ex.graph.events:
        used: frozenset[int] = frozenset()
        if e.kind == "W" and e.value is not None:
            used |= reads_in(e.value)
        if e.addr is not None:
            used |= reads_in(e.addr)
        dep_edges.extend((r, e.eid) for r in used)
    comp = sccs([*dep_edges, *ex.rf])
    ranks: set[int] = set()

    def rank(eid: int) -> str:
        if eid not in ranks:
            ex.script.declare(f"vr{eid}", "Int")
            ranks.add(eid)
        return f"vr{eid}"

    for src, dst in dep_edges:
        if comp.get(src) == comp.get(dst):
            ex.script.add(implies(ex.guard[dst], lt(rank(src), rank(dst))))
    for (w, r), var in ex.rf.items():
        if comp.get(w) == comp.get(r):
            ex.script.add(implies(var, lt(rank(w), rank(r))))


def same_loc(ex: Execution, a: Event, b: Event) -> str:
    la, lb = static_loc(a), static_loc(b)
    if la is not None and lb is not None:
        return T if la == lb else F
    return eq(ex.addr[a.eid], ex.addr[b.eid])


def _encode_co(ex: Execution, writes: list[Event]) -> None:
    s = ex.script
    for w in writes:
        c = s.declare(f"c{w.eid}", "Int")
        ex.clock[w.eid] = c
        s.add(f"(= {c} 0)" if w.is_init else f"(>= {c} 1)")
    for i, a in enumerate(writes):
        for b in writes[i + 1 :]:
            same = same_loc(ex, a, b)
            if same == F or (a.is_init and b.is_init):
                continue
            both = and_(ex.guard[a.eid], ex.guard[b.eid], same)
            if not a.is_init and not b.is_init:
                s.add(implies(both, not_(eq(ex.clock[a.eid], ex.clock[b.eid]))))
            ex.co[(a.eid, b.eid)] = s.name_bool("co", and_(both, lt(ex.clock[a.eid], ex.clock[b.eid])))
            ex.co[(b.eid, a.eid)] = s.name_bool("co", and_(both, lt(ex.clock[b.eid], ex.clock[a.eid])))


def _encode_rf(ex: Execution, reads: list[Event], writes: list[Event]) -> None:
    s = ex.script
    # A read cannot take its value from the write of its own instruction (herd7: values flow
    # forward inside an instruction).
    inside = set(ex.graph.iico)
    for r in reads:
        choices: list[str] = []
        for w in writes:
            same = same_loc(ex, w, r)
            if same == F or (r.eid, w.eid) in inside:
                continue
            value_ok = eq(ex.value[r.eid], _read_value(ex, w, r))
            var = s.declare(f"rf_{w.eid}_{r.eid}", "Bool")
            s.add(implies(var, and_(ex.guard[w.eid], ex.guard[r.eid], same, value_ok)))
            ex.rf[(w.eid, r.eid)] = var
            choices.append(var)
        happens = ex.guard[r.eid]
        if r.eid in ex.loose:
            # A read at an address inside a location but not its address reads from no
            # write; such a test is refused (`analyses.check.refuse_mixed_sizes`), which needs
            # the read to exist when it is misaligned: only an aligned one must read.
            happens = and_(happens, not_(ex.misaligned(r.eid)))
        s.add(implies(happens, or_(*choices)))
        for i, a in enumerate(choices):
            for b in choices[i + 1 :]:
                s.add(f"(not (and {a} {b}))")


def _read_value(ex: Execution, w: Event, r: Event) -> str:
    """The value `r` reads from `w`: the write's, or for a sized read of an initial integer,
    its low bits (an `uint64_t` location read by a 32-bit load)."""
    if w.is_init and r.size is not None and isinstance(w.value, SConst):
        return num(w.value.value % (1 << r.size))
    return ex.value[w.eid]  # an address is read whole, whatever the size


def _size_pairs(ex: Execution, accesses: list[Event]) -> list[tuple[int, int]]:
    """herd7 refuses a test in which two accesses of different sizes touch one location (it
    models mixed-size accesses only with `-variant mixed`).  Pairs with known locations are
    refused here; pairs whose addresses are computed are returned, for the analyses to ask
    the solver whether some execution makes them equal."""
    out: list[tuple[int, int]] = []
    for i, a in enumerate(accesses):
        for b in accesses[i + 1 :]:
            if a.size is None or b.size is None or a.size == b.size or (a.kind == b.kind == "R"):
                continue  # two reads of different sizes only see the low bits of one value
            same = same_loc(ex, a, b)
            if same == T:
                raise mixed_size(ex, a, b)
            if same != F:
                out.append((a.eid, b.eid))
    return out


def _address_bitwise(ex: Execution) -> Unsupported:
    return Unsupported(Pos(ex.graph.test.path, 1, 1), "unsupported: a bitwise operation (&, |, ^) on a value "
                                                       "that may be an address (herd7 refuses it too)")


def _refuse_integer_addresses(ex: Execution, accesses: list[Event]) -> None:
    """An access whose address can only be an integer (`int r0 = 5; WRITE_ONCE(*r0, 1)`)
    reaches no location: herd7 refuses it ("non-symbolic memory access"), and so do we,
    rather than let the write vanish and the read see nothing."""
    for e in accesses:
        if e.addr is None or isinstance(e.addr, SAddr):
            continue
        lit = lit_value(ex.addr[e.eid])
        rng = (lit, lit) if lit is not None else ex.ranges.of(e.addr)
        if rng is not None and rng[1] < ADDR_NEAR:
            at = f" {rng[0]}" if rng[0] == rng[1] else ""
            raise Unsupported(e.pos or Pos(ex.graph.test.path, 1, 1),
                              f"unsupported: P{e.tid} accesses memory at the integer{at}, which is no location's "
                              "address (herd7 refuses a non-symbolic memory access too)")


def _loose_addresses(ex: Execution, accesses: list[Event]) -> list[int]:
    codes = set(ex.addr_code.values())
    out: list[int] = []
    for e in accesses:
        if e.size is None or isinstance(e.addr, SAddr):
            continue
        lit = lit_value(ex.addr[e.eid])
        if lit is not None:
            if lit >= ADDR_NEAR and lit not in codes:
                raise misaligned(ex, e, lit)
            continue
        rng = ex.ranges.of(e.addr) if e.addr is not None else None
        if rng is not None and (rng[1] < ADDR_NEAR or (rng[0] == rng[1] and rng[0] in codes)):
            continue
        out.append(e.eid)
    return out


def misaligned(ex: Execution, e: Event, at: int | None = None) -> Unsupported:
    where = e.pos or Pos(ex.graph.test.path, 1, 1)
    what = f" ({address_name(ex.graph.test, ex.addr_code, at)})" if at is not None else ""
    return Unsupported(where, f"unsupported: P{e.tid} may access an address inside a location that is not "
                              f"its address{what}: a misaligned or mixed-size access (herd7 refuses such tests)")


def mixed_size(ex: Execution, a: Event, b: Event) -> Unsupported:
    loc = static_loc(a) or static_loc(b) or "one location"
    where = b.pos or Pos(ex.graph.test.path, 1, 1)

    def at(e: Event) -> str:
        return f"P{e.tid} line {e.pos.line}" if e.pos else f"P{e.tid}"

    return Unsupported(where, f"unsupported: mixed-size access: {at(a)} ({a.size}-bit) and {at(b)} "
                              f"({b.size}-bit) access {loc} (herd7 models mixed sizes only with -variant mixed)")


def _encode_fr(ex: Execution, reads: list[Event], writes: list[Event]) -> None:
    by_read: dict[int, list[int]] = {}
    for src, dst in ex.rf:
        by_read.setdefault(dst, []).append(src)
    for r in reads:
        for w in writes:
            terms = [
                and_(ex.rf[(src, r.eid)], ex.co[(src, w.eid)])
                for src in by_read.get(r.eid, [])
                if (src, w.eid) in ex.co
            ]
            term = or_(*terms)
            if term != F:
                ex.fr[(r.eid, w.eid)] = ex.script.name_bool("fr", term)


def _encode_final(ex: Execution, writes: list[Event]) -> None:
    s = ex.script
    for name in ex.graph.locations:
        code = num(ex.addr_code[name])
        here = [w for w in writes if static_loc(w) in (None, name)]
        fin = s.declare(f"m_{_ident(name)}", "Int")
        ex.final_mem[name] = fin
        for w in here:
            at = and_(ex.guard[w.eid], eq(ex.addr[w.eid], code))
            later = [
                and_(ex.guard[o.eid], eq(ex.addr[o.eid], code), lt(ex.clock[w.eid], ex.clock[o.eid]))
                for o in here
                if o.eid != w.eid and not o.is_init
            ]
            is_last = s.name_bool("last", and_(at, not_(or_(*later))))
            s.add(implies(is_last, eq(fin, ex.value[w.eid])))
            ex.last[w.eid] = or_(ex.last.get(w.eid, F), is_last)


def _ident(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else f"_{ord(ch)}" for ch in name)
