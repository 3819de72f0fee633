"""The value-range analysis (events/ranges.py) ends, and its ranges hold every value."""

from __future__ import annotations

from pathlib import Path

from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.errors import Pos
from verifier.events.build import build_events
from verifier.events.ranges import analyse, within
from verifier.frontends import parse_file
from verifier.smt.encode import address_codes


def _chain(n: int) -> str:
    """x0 = 1 passed along n threads, each reading x(k) and writing x(k+1): a value that
    keeps reaching further reads for n rounds, past the rounds after which reads are widened."""
    threads = "\n".join(f"P{k}(int *x{k}, int *x{k + 1}) {{ int t = READ_ONCE(*x{k}); WRITE_ONCE(*x{k + 1}, t); }}"
                        for k in range(n))
    return f"C chain\n{{ x0 = 1; }}\n{threads}\nexists (x{n} = 1)\n"


def test_a_widened_read_stays_widened(tmp_path: Path) -> None:
    """A read widened while still growing came out narrower again once what reached it had
    stopped growing, was widened again, and so on for ever (herd's pointers10: 12 threads)."""
    path = tmp_path / "chain.litmus"
    path.write_text(_chain(12))
    test = parse_file(str(path))
    spec = resolve_model("sc")
    graph = build_events(test, spec.mapping_for("C", Pos(str(path), 1, 1)))
    ranges = analyse(graph, address_codes(graph))
    for e in graph.events:
        if e.kind == "R":
            assert within(ranges.reads[e.eid], 0, 1) or ranges.reads[e.eid] is None
    assert check(test, spec).observation == "Sometimes"


def test_bitwise_identities_hold_on_every_integer() -> None:
    """`x & c`, `x | c`, `x ^ c` with a constant, for an x whose range is unknown, go through
    `_and_runs` (linear arithmetic) instead of bit-vectors: checked against Python's own
    two's-complement operators, negative values included."""
    import z3

    from verifier.smt.encode import _and_runs, num

    x = z3.Int("x")
    for c in (-7, -2, -1, 0, 1, 2, 5, 6, 12, 0x55):
        if c >= 0:
            conj = _and_runs("x", c, None)
        else:
            conj = f"(- x {_and_runs('x', ~c, None)})"
        terms = {"&": conj, "|": f"(- (+ x {num(c)}) {conj})", "^": f"(- (+ x {num(c)}) (* 2 {conj}))"}
        for op, term in terms.items():
            f = z3.parse_smt2_string(f"(declare-fun x () Int)(declare-fun y () Int)(assert (= y {term}))")
            y = z3.Int("y")
            for value in range(-40, 41):
                s = z3.Solver()
                s.add(f, x == value)
                assert s.check() == z3.sat
                want = {"&": value & c, "|": value | c, "^": value ^ c}[op]
                assert s.model()[y].as_long() == want, (op, c, value)
