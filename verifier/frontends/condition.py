"""The tail of a herd litmus test: `locations [...]`, `filter P` and the final condition.

The grammar is herd7's (its `stateParser.mly`), restricted to what the verifier models:

    tail   := ('locations' '[' loc (';' loc)* ';'? ']')? ('filter' prop)? final ('with' kinds)? ('<<' ...)?
    final  := 'exists' prop | '~' 'exists' prop | 'forall' prop | 'final' prop
            | '(' prop ')' | 'observed' atoms | (nothing: `forall true`)
    prop   := disj (('=>'|'->') prop)?;  disj := conj ('\\/' conj)*;  conj := unary ('/\\' unary)*
    unary  := ('~'|'not') unary | '(' prop ')' | 'true' | 'false' | atom
    atom   := loc ('='|'=='|'!='|'<>') value | array '=' '{' value (',' value)* '}'
    loc    := N ':' reg | '[' name ']' | name | name '[' N ']'

`name[N]` is a cell of an array declared in the init block (herd prints it `t[1]`); a bare
array name in `locations` is the whole array (printed `t={1,2}`) and, as a value, the
address of its first cell.  Everything after `<<` is a trailer herd7 ignores.  A `with`
clause (`final ... with name: exists;`) names the test's kind, which the final condition
already says; it is read and checked, not used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from verifier.errors import Unsupported
from verifier.frontends.common import RegNormalizer, Token, TokenStream, identity_reg, number, tokenize
from verifier.program.ast import (
    ArrayObs,
    Atom,
    Condition,
    MemObs,
    Observable,
    PAnd,
    PFalse,
    PImplies,
    PNot,
    POr,
    Prop,
    PTrue,
    RegObs,
    Scalar,
    Value,
)

# Array name -> number of cells, as the init block declares them.
Arrays = Mapping[str, int]


@dataclass(frozen=True)
class Tail:
    condition: Condition
    observed: tuple[Observable, ...]
    filter: Prop | None


_TAIL = re.compile(r"^[ \t]*(locations\b|filter\b|exists\b|~\s*exists\b|forall\b|final\b|observed\b|<<)", re.M)


def find_tail(text: str, start: int) -> int:
    """Offset of the first tail keyword at the start of a line at or after `start`,
    or len(text) when there is none."""
    m = _TAIL.search(text, start)
    return m.start(1) if m else len(text)


MAX_DEPTH = 200


class _Parser:
    def __init__(self, ts: TokenStream, norm: RegNormalizer, arrays: Arrays) -> None:
        self.ts = ts
        self.norm = norm
        self.arrays = arrays
        self.depth = 0  # open parentheses and negations: bounded, not Python's stack

    # ----- values and locations

    def value(self) -> Value:
        ts = self.ts
        t = ts.next()
        if t.kind == "num":
            return number(t.text)
        if t.kind == "str" or (t.text in ("instr", "label") and ts.at(":")):
            raise Unsupported(ts.pos(t), "unsupported condition: an instruction or a code label as a value")
        if t.kind == "id":
            return f"{t.text}[0]" if t.text in self.arrays else t.text
        raise ts.error(t, f"expected a value (integer or location name), found {t.text or 'end of input'!r}")

    def cell(self, name: Token) -> MemObs:
        """`t[N]`, the `[` already seen."""
        ts = self.ts
        n = ts.next()
        if n.kind != "num" or not n.text.isdigit():
            raise ts.error(n, f"expected a cell index after '{name.text}['")
        ts.expect("]")
        size = self.arrays.get(name.text)
        if size is None:
            raise ts.error(name, f"'{name.text}' is not an array of the init block")
        if int(n.text) >= size:
            raise ts.error(n, f"'{name.text}' has {size} cells: no cell {n.text}")
        return MemObs(f"{name.text}[{int(n.text)}]")

    def observable(self, whole_arrays: bool = False) -> Observable:
        ts = self.ts
        t = ts.peek()
        proc = t.kind == "id" and t.text[:1] == "P" and t.text[1:].isdigit()  # herd's `P0:EAX`
        if (t.kind == "num" or proc) and ts.peek(1).text == ":":
            ts.next()
            ts.next()
            r = ts.next()
            if r.kind != "id":
                raise ts.error(r, f"expected a register name after '{t.text}:'")
            if t.kind == "num" and not t.text.isdigit():
                raise ts.error(t, f"bad thread number {t.text!r}")
            tid = int(t.text.lstrip("P"))
            return RegObs(tid, self.norm(tid, r.text, ts.pos(r)))
        if ts.accept("["):
            n = ts.next()
            if n.kind != "id":
                raise ts.error(n, "expected a location name inside '[...]'")
            ts.expect("]")
            if n.text in self.arrays:
                raise ts.error(n, f"'{n.text}' is an array: name a cell, '{n.text}[0]'")
            return MemObs(n.text)
        if t.kind == "id":
            ts.next()
            if ts.accept("["):
                return self.cell(t)
            if t.text in self.arrays:
                if whole_arrays:
                    return ArrayObs(t.text)
                raise ts.error(t, f"'{t.text}' is an array: name a cell, '{t.text}[0]', or compare with '{{...}}'")
            return MemObs(t.text)
        raise ts.error(t, f"expected a register 'P:reg' or a location, found {t.text or 'end of input'!r}")

    # ----- propositions

    def prop(self) -> Prop:
        left = self.disj()
        if self.ts.accept("=>") or self.ts.accept("->"):
            return PImplies(left, self.prop())
        return left

    def disj(self) -> Prop:
        args = [self.conj()]
        while self.ts.accept("\\/"):
            args.append(self.conj())
        return args[0] if len(args) == 1 else POr(tuple(args))

    def conj(self) -> Prop:
        args = [self.unary()]
        while self.ts.accept("/\\"):
            args.append(self.unary())
        return args[0] if len(args) == 1 else PAnd(tuple(args))

    def unary(self) -> Prop:
        ts = self.ts
        if ts.at("~") or ts.at("not") or ts.at("("):
            if self.depth >= MAX_DEPTH:
                raise ts.error(ts.peek(), f"the condition is nested too deeply (more than {MAX_DEPTH} levels)")
            self.depth += 1
            try:
                if ts.accept("~") or ts.accept("not"):
                    return PNot(self.unary())
                ts.expect("(")
                p = self.prop()
                ts.expect(")")
                return p
            finally:
                self.depth -= 1
        if ts.accept("true"):
            return PTrue()
        if ts.accept("false"):
            return PFalse()
        return self.atom()

    def atom(self) -> Prop:
        ts = self.ts
        t = ts.peek()
        if t.kind == "id" and t.text in self.arrays and ts.peek(1).text in ("=", "==", "!=", "<>") and ts.peek(2).text == "{":
            ts.next()
            negated = ts.next().text in ("!=", "<>")
            return PNot(self.array_value(t)) if negated else self.array_value(t)
        obs = self.observable()
        t = ts.peek()
        if ts.accept("=") or ts.accept("=="):
            return Atom(obs, self.rvalue(obs))
        if ts.accept("!=") or ts.accept("<>"):
            return PNot(Atom(obs, self.rvalue(obs)))
        raise ts.error(t, f"expected '=' after {obs}, found {t.text or 'end of input'!r}")

    def rvalue(self, obs: Observable) -> Value:
        ts = self.ts
        t = ts.peek()
        if t.text == "[" or (t.kind in ("num", "id") and ts.peek(1).text == ":"):
            raise Unsupported(ts.pos(t), f"unsupported condition: comparing {obs} with another location or register")
        return self.value()

    def array_value(self, name: Token) -> Prop:
        """`t={v0,v1,...}`: the whole array (herd prints it so), the `=` seen, at the `{`."""
        ts = self.ts
        ts.expect("{")
        values: list[Scalar] = []
        while True:
            v = self.value()
            assert not isinstance(v, tuple)
            values.append(v)
            if ts.accept("}"):
                break
            ts.expect(",", "',' or '}' in the array value")
        size = self.arrays[name.text]
        if len(values) != size:
            raise ts.error(name, f"'{name.text}' has {size} cells, the condition gives {len(values)} values")
        return Atom(ArrayObs(name.text), tuple(values))

    def observed_clause(self) -> Prop:
        """herd's `observed a; b; and c; d;`: one of the conjunctions of atoms is reached."""
        ts = self.ts
        cases: list[Prop] = []
        atoms: list[Prop] = []
        while ts.peek().kind != "eof" and not ts.at("<<"):
            if ts.accept("and"):
                cases.append(PAnd(tuple(atoms)))
                atoms = []
                continue
            atoms.append(self.atom())
            ts.expect(";", "';' after each observed atom")
        cases.append(PAnd(tuple(atoms)))
        return POr(tuple(cases))


def parse_prop(ts: TokenStream, norm: RegNormalizer = identity_reg, arrays: Arrays | None = None) -> Prop:
    """A proposition (`filter`, the final condition)."""
    return _Parser(ts, norm, arrays or {}).prop()


def parse_tail(
    text: str, start: int, path: str, norm: RegNormalizer = identity_reg, arrays: Arrays | None = None
) -> Tail:
    """Parse `locations [...]`, `filter P`, and the final condition from `start` to the end
    (or to a `<<` trailer)."""
    trailer = re.compile(r"<<").search(text, start)
    end = trailer.start() if trailer else len(text)
    ts = TokenStream(text, tokenize(text, start, end, path), path)
    p = _Parser(ts, norm, arrays or {})
    observed: list[Observable] = []
    filt: Prop | None = None
    cond: Condition | None = None
    while ts.peek().kind != "eof":
        t = ts.peek()
        if cond is not None and t.text != "with":
            raise ts.error(t, f"unexpected {t.text!r} after the final condition")
        if ts.accept("locations"):
            ts.expect("[", "'[' after 'locations'")
            while not ts.accept("]"):
                if ts.peek().kind == "eof":
                    raise ts.error(ts.peek(), "unterminated 'locations [...]'")
                observed.append(p.observable(whole_arrays=True))
                if ts.peek().kind == "id" or ts.at("*"):
                    raise Unsupported(ts.pos(), f"unsupported: a type in 'locations' ({observed[-1]} {ts.peek().text})")
                if not ts.at("]"):
                    ts.expect(";", "';' between locations")
        elif ts.accept("filter"):
            filt = p.prop()
            ts.accept(";")  # herd tolerates a ';' after the filter
        elif t.text in ("exists", "~exists", "forall", "~", "final", "observed", "("):
            cond = _final(ts, p)
            ts.accept(";")  # herd tolerates a ';' after the condition
        elif ts.accept("with"):
            _kinds(ts, cond)
        else:
            raise ts.error(t, f"unexpected {t.text!r}: expected 'locations', 'filter', 'exists', '~exists' or 'forall'")
    if cond is None:
        cond = Condition("forall", PTrue())  # herd: no condition is the empty constraint
    return Tail(cond, tuple(observed), filt)


def _final(ts: TokenStream, p: _Parser) -> Condition:
    t = ts.next()
    if t.text == "(":
        prop = p.prop()
        ts.expect(")")
        return Condition("exists", prop)
    if t.text == "observed":
        return Condition("exists", p.observed_clause())
    kind = {"final": "exists"}.get(t.text, t.text)
    if kind == "~":
        ts.expect("exists", "'exists' after '~'")
        kind = "~exists"
    return Condition(kind, p.prop())  # type: ignore[arg-type]


def _kinds(ts: TokenStream, cond: Condition | None) -> None:
    """`with name: exists; name: ~exists; name: forall;` (herd's old syntax for the test's
    kind): accepted when it agrees with the final condition."""
    if cond is None:
        raise ts.error(ts.toks[ts.i - 1], "'with' needs a final condition before it")
    while ts.peek().kind == "id":
        ts.next()
        ts.expect(":", "':' after the kind's name")
        k = ts.next()
        kind = k.text
        if kind == "~":  # `~ exists` with a space
            ts.expect("exists")
            kind = "~exists"
        if kind not in ("exists", "~exists", "forall"):
            raise ts.error(k, f"expected 'exists', '~exists' or 'forall', found {k.text!r}")
        ts.accept(";")
    if ts.peek().kind != "eof":
        raise ts.error(ts.peek(), f"unexpected {ts.peek().text!r} in 'with'")
