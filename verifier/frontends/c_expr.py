"""Kernel C thread bodies: tokens, the primitive table, and a recursive-descent parser for
statements and expressions that emits `program.ast` instructions.

Expressions are pure in the IR, so every memory access met inside an expression (a primitive
call or a `*p` dereference) is emitted first into a fresh temporary register `%tN` (a name no
C identifier can have); `r = READ_ONCE(*x);` then renames that temporary to `r`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import replace

from verifier.errors import InputError, Pos, unsupported
from verifier.frontends.common import Token, TokenStream
from verifier.program.ast import (
    Assign,
    BinOp,
    Const,
    Expr,
    Fence,
    If,
    Instr,
    Ite,
    Load,
    LocAddr,
    Reg,
    Rmw,
    Store,
    UnOp,
    Written,
    with_source,
)
from verifier.program.primitives import Access, Primitive, apply_tail, operand, primitives, rmw_values

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<op><<=|>>=|->|\+\+|--|&&|\|\||<<|>>|<=|>=|==|!=|[-+*/%&|^]=|[][{}();,=+\-*/%&|^!~<>?:.])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(text: str, start: int) -> list[Token]:
    """C tokens from `start` to the end.  Never fails: stray characters become "other"
    tokens, so the tail (`/\\`, ...) can be tokenized too and the parser names the problem."""
    toks: list[Token] = []
    for m in _TOKEN.finditer(text, start):
        if m.lastgroup != "ws":
            toks.append(Token(m.lastgroup or "other", m.group(), m.start()))
    # End of file is reported just after the last token, on the line where the text stops.
    toks.append(Token("eof", "", toks[-1].offset + len(toks[-1].text) if toks else start))
    return toks


TYPE_WORDS = frozenset(
    {"int", "long", "short", "char", "unsigned", "signed", "const", "volatile", "void", "bool",
     "_Bool", "atomic_t", "atomic64_t", "spinlock_t", "intptr_t", "uintptr_t", "u8", "u16",
     "u32", "u64", "s8", "s16", "s32", "s64", "int8_t", "int16_t", "int32_t", "int64_t",
     "uint8_t", "uint16_t", "uint32_t", "uint64_t"}
)
_UNSUPPORTED_STATEMENTS = frozenset(
    {"while", "for", "do", "goto", "return", "switch", "case", "default", "break", "continue"}
)
KEYWORDS = TYPE_WORDS | _UNSUPPORTED_STATEMENTS | {"if", "else", "struct", "sizeof"}
RCU = re.compile(r"(?:s?rcu_\w*|synchronize_s?rcu\w*|call_s?rcu\w*|kfree_rcu)")
THREAD = re.compile(r"P\d+")
_TAIL_WORDS = frozenset({"exists", "forall", "locations", "filter"})

# --------------------------------------------------------------------------- primitives

ZERO, ONE = Const(0), Const(1)

# --------------------------------------------------------------------------- parsing


class Cursor(TokenStream):
    """Token cursor whose messages say "end of file" plainly: a truncated test is the usual
    reason to meet it inside a thread."""

    def fail(self, t: Token, what: str) -> InputError:
        if t.kind == "eof":
            return self.error(t, f"unexpected end of file (truncated test?): expected {what}")
        return self.error(t, f"expected {what}, found {t.text!r}")

    def expect(self, text: str, what: str = "") -> Token:
        t = self.peek()
        if t.text != text or t.kind == "eof":
            raise self.fail(t, what or repr(text))
        self.i += 1
        return t


_LEVELS = (("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", "<=", ">", ">="),
           ("<<", ">>"), ("+", "-"), ("*", "/", "%"))
_COMPOUND = {"+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "&=": "&", "|=": "|",
             "^=": "^", "<<=": "<<", ">>=": ">>"}


class ThreadParser:
    """Parses one thread body.  A name is a register if declared or assigned earlier in the
    thread (or set in the init block), else a shared location if it is a parameter or an
    init-block location; a location used as a value is its address."""

    def __init__(self, cur: Cursor, thread: str, locations: frozenset[str], registers: set[str]) -> None:
        self.cur = cur
        self.thread = thread
        self.locations = locations
        self.registers = registers
        self.out: list[Instr] = []
        self.ntemp = 0

    def body(self) -> tuple[Instr, ...]:
        self.block(self.cur.expect("{", f"'{{' to start the body of {self.thread}"))
        return tuple(self.out)

    # ----- statements

    def block(self, open_tok: Token) -> None:
        while not self.cur.accept("}"):
            t = self.cur.peek()
            if t.kind == "eof":
                line = self.cur.pos(open_tok).line
                raise self.cur.fail(t, f"'}}' closing the '{{' of line {line} in {self.thread}")
            if self._outside(t):
                raise self.cur.error(open_tok, f"unbalanced braces: this '{{' in {self.thread} is not "
                                     f"closed before {t.text!r} (line {self.cur.pos(t).line})")
            self.statement()

    def _outside(self, t: Token) -> bool:
        """Whether `t` can only start the next thread or the tail (so a '}' is missing)."""
        nxt = self.cur.peek(1).text
        if t.kind == "id" and t.text not in self.registers:
            return bool((THREAD.fullmatch(t.text) and nxt == "(") or (t.text in _TAIL_WORDS and nxt != "="))
        return t.text == "~" and nxt == "exists"

    def sub_statement(self) -> tuple[Instr, ...]:
        saved, self.out = self.out, []
        try:
            braced = self.cur.peek().text == "{"
            self.statement()
            if not braced:  # an if/else body without braces: a line after it is outside
                self.out = [_written(i, braceless=True) for i in self.out]
            return tuple(self.out)
        finally:
            self.out = saved

    def statement(self) -> None:
        """One statement; its accesses learn where it ends (`Written`), for `fences --write`."""
        start, first = len(self.out), self.cur.peek()
        self._statement()
        if first.text in ("{", "if"):
            # a block's statements are marked already; an if's condition has no statement
            # of its own to put a fence after (its branches are marked by their statements)
            if first.text == "if":
                self.out[start:] = [_written(i, end=None) for i in self.out[start:]]
            return
        last = self.cur.toks[self.cur.i - 1]
        semi = self.cur.pos(last) if last.text == ";" else None
        # a plain access (`r0 = *x;`) is named by its statement; a call has its own text
        end = last.offset if last.text == ";" else last.offset + len(last.text)
        text = " ".join(self.cur.text[first.offset:end].split())
        self.out[start:] = [with_source(i, text) for i in self.out[start:]]
        # an argument of another call has no `;` of its own
        self.out[start:] = [_written(i, end=None if _nested(i) else semi) for i in self.out[start:]]

    def _statement(self) -> None:
        cur = self.cur
        t = cur.peek()
        pos = cur.pos(t)
        nxt = cur.peek(1)
        if cur.accept("{"):
            self.block(t)
            return
        if cur.accept(";"):
            return
        if t.kind == "id":
            if t.text == "if":
                cur.next()
                cur.expect("(", "'(' after 'if'")
                cond = self.expr()
                cur.expect(")", "')' closing the condition of 'if'")
                then = self.sub_statement()
                other = self.sub_statement() if cur.accept("else") else ()
                self.out.append(If(cond, then, other, pos))
                return
            if t.text == "else":
                raise cur.error(t, "'else' without a matching 'if'")
            if t.text in _UNSUPPORTED_STATEMENTS or t.text == "struct":
                raise unsupported(cur.error(t, f"unsupported statement '{t.text}'"))
            if t.text in TYPE_WORDS:
                self.declaration()
                return
            if nxt.kind == "op" and (nxt.text == "=" or nxt.text in _COMPOUND or nxt.text in ("++", "--")):
                cur.next()
                cur.next()
                if nxt.text == "=":
                    self.assign(t, self.expr())
                else:  # `r op= e`, `r++`, `r--` on a register
                    old = self.name(t)
                    right = self.expr() if nxt.text in _COMPOUND else ONE
                    op = _COMPOUND.get(nxt.text) or nxt.text[0]
                    self.defined(nxt, op, right)
                    self.assign(t, BinOp(op, old, right))
                self.end_statement()
                return
            if nxt.text == "(":
                self.call(t, want=False)
                self.end_statement()
                return
        if cur.accept("*"):
            addr = self.unary()
            cur.expect("=", "'=' after the dereference (a plain store '*p = value;')")
            self.out.append(Store(addr, self.expr(), "plain", pos))
        elif t.text == "(" and nxt.text == "void" and cur.peek(2).text == ")":
            cur.i += 3  # `(void)f(...)` discards the value, which void primitives don't have
            self.statement()
            return
        else:
            self.expr()
        self.end_statement()

    def end_statement(self) -> None:
        if self.cur.accept(";"):
            return
        t = self.cur.peek()
        if t.kind == "eof":
            raise self.cur.fail(t, "';'")
        # Point just after the statement (its line), not at the next token's line.
        prev = self.cur.toks[self.cur.i - 1]
        at = Token("op", "", prev.offset + len(prev.text))
        raise self.cur.error(at, f"missing ';' at the end of the statement (found {t.text!r})")

    def declaration(self) -> None:
        cur = self.cur
        while cur.peek().text in TYPE_WORDS:
            cur.next()
        while True:
            while cur.accept("*"):
                pass
            t = cur.next()
            if t.kind != "id" or t.text in KEYWORDS:
                raise cur.fail(t, "a variable name in the declaration")
            if t.text in self.locations:
                raise cur.error(t, f"local variable '{t.text}' has the name of a shared location")
            if cur.at("["):
                raise unsupported(cur.error(cur.peek(), f"arrays are not supported ('{t.text}[...]')"))
            if cur.accept("="):
                self.assign(t, self.expr())
            self.registers.add(t.text)
            if not cur.accept(","):
                break
        self.end_statement()

    def assign(self, t: Token, value: Expr) -> None:
        """`r = value`, after the value's accesses were emitted."""
        if t.text in KEYWORDS:
            raise self.cur.error(t, f"cannot assign to '{t.text}'")
        if t.text in self.locations and t.text not in self.registers:
            raise self.cur.error(t, f"cannot assign to shared location '{t.text}' (write "
                                 f"'*{t.text} = ...' or 'WRITE_ONCE(*{t.text}, ...)')")
        self.registers.add(t.text)
        last = self.out[-1] if self.out else None
        # The temporary holding a lone access is renamed rather than copied.
        if (isinstance(value, Reg) and value.name.startswith("%")
                and isinstance(last, (Load, Rmw, Assign)) and last.dst == value.name):
            self.out[-1] = replace(last, dst=t.text)
            if value.name == f"%t{self.ntemp}":
                self.ntemp -= 1  # keep temporaries numbered densely
        else:
            self.out.append(Assign(t.text, value, self.cur.pos(t)))

    # ----- expressions

    def temp(self) -> str:
        self.ntemp += 1
        return f"%t{self.ntemp}"

    def load(self, addr: Expr, cls: str, t: Token, prim: str = "") -> Reg:
        tmp = self.temp()
        self.out.append(Load(tmp, addr, cls, self.cur.pos(t), prim=prim))
        return Reg(tmp)

    def expr(self) -> Expr:
        cond = self.binary(0)
        t = self.cur.peek()
        if not self.cur.accept("?"):
            return cond
        then = self.pure(self.expr, t)
        self.cur.expect(":", "':' of the conditional expression")
        return Ite(cond, then, self.pure(self.expr, t))

    def pure(self, parse: Callable[[], Expr], op: Token) -> Expr:
        """An operand evaluated only sometimes (`&&`, `||`, `?:`): hoisting its memory
        accesses would make them unconditional, so they are refused."""
        n = len(self.out)
        e = parse()
        if len(self.out) != n:
            raise self.cur.error(op, f"memory accesses in the conditionally evaluated operands "
                                 f"of '{op.text}' are not supported")
        return e

    def binary(self, level: int) -> Expr:
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.cur.peek().kind == "op" and self.cur.peek().text in _LEVELS[level]:
            op = self.cur.next()
            if op.text in ("&&", "||"):
                right = self.pure(lambda: self.binary(level + 1), op)
            else:
                right = self.binary(level + 1)
            self.defined(op, op.text, right)
            left = BinOp(op.text, left, right)
        return left

    def defined(self, at: Token, op: str, right: Expr) -> None:
        """Constant operands C leaves undefined are errors where they are written: a division
        or remainder by 0, a shift by a negative amount or by 64 or more.  A division by a
        value known only at run time is refused: it may be 0 in some execution, whose result
        C leaves undefined (SMT's `div` by 0 would be an arbitrary value), and herd7's C has
        no division at all."""
        if op in ("/", "%") and not isinstance(right, Const):
            raise unsupported(self.cur.error(at, f"unsupported '{op}' by a value known only at run time "
                                             "(it may be 0, which C leaves undefined; herd7's C has no '/' or '%')"))
        if not isinstance(right, Const):
            return
        if op in ("/", "%") and right.value == 0:
            raise self.cur.error(at, f"'{op}' by zero is undefined in C")
        if op in ("<<", ">>") and not 0 <= right.value < 64:
            raise self.cur.error(at, f"a shift by {right.value} is undefined in C")

    def unary(self) -> Expr:
        cur = self.cur
        t = cur.peek()
        if t.kind == "op" and t.text in ("-", "!", "~", "+", "*", "&", "("):
            cur.next()
            if t.text == "(" and cur.peek().text in TYPE_WORDS:
                while cur.peek().text in TYPE_WORDS or cur.at("*"):  # a cast: no effect on values
                    cur.next()
                cur.expect(")", "')' closing the cast")
                return self.unary()
            if t.text == "(":
                e = self.expr()
                cur.expect(")", "')'")
                return self.postfix(e)
            if t.text == "&":
                n = cur.peek()
                if cur.accept("*"):
                    return self.unary()
                if n.kind == "id" and n.text in self.locations and n.text not in self.registers:
                    cur.next()
                    return LocAddr(n.text)
                raise cur.fail(n, "a shared location after '&'")
            arg = self.unary()
            if t.text == "*":
                return self.load(arg, "plain", t)
            if t.text == "+":
                return arg
            if t.text == "-" and isinstance(arg, Const):
                return Const(-arg.value)
            return UnOp(t.text, arg)
        if t.kind == "num":
            cur.next()
            return self.postfix(Const(self.number(t)))
        if t.kind == "id":
            if cur.peek(1).text == "(":
                value = self.call(t, want=True)
                assert value is not None  # want=True guarantees a value
                return self.postfix(value)
            cur.next()
            return self.postfix(self.name(t))
        raise cur.fail(t, "an expression")

    def postfix(self, e: Expr) -> Expr:
        t = self.cur.peek()
        if t.kind == "op" and t.text in ("[", "->", ".", "++", "--"):
            raise unsupported(self.cur.error(t, f"unsupported operator '{t.text}' (arrays, structures and "
                                 "side effects inside expressions are not supported)"))
        return e

    def number(self, t: Token) -> int:
        s = t.text.rstrip("uUlL")
        if len(s) > 40:  # past 128 bits, before Python's int conversion limit meets it
            raise self.cur.error(t, f"a number of {len(s)} digits: at most 128 bits are accepted")
        if s[:2] in ("0x", "0X"):
            return int(s, 16)
        if len(s) > 1 and s[0] == "0":
            if s.strip("01234567"):
                raise self.cur.error(t, f"invalid octal number '{t.text}'")
            return int(s, 8)
        return int(s)

    def name(self, t: Token) -> Expr:
        if t.text in self.registers:
            return Reg(t.text)
        if t.text in self.locations:
            return LocAddr(t.text)
        if t.text in KEYWORDS:
            raise self.cur.error(t, f"unexpected '{t.text}' in an expression")
        if self.cur.toks[self.cur.i].kind == "eof":  # most likely a name cut by truncation
            raise self.cur.fail(self.cur.peek(), f"more after '{t.text}'")
        raise self.cur.error(t, f"undefined name '{t.text}'")

    def call(self, t: Token, want: bool) -> Expr | None:
        """A primitive call at `t`; `want` says whether its value is used.  Returns the
        expression of its value, a temporary when it is one access (None when unused or
        void).  What each primitive is comes from the one table (`program/primitives.py`)."""
        cur = self.cur
        name = t.text
        table = primitives()
        if RCU.fullmatch(name) and name not in table:
            known = ", ".join(n for n in table if RCU.fullmatch(n))
            raise unsupported(cur.error(t, f"unsupported primitive '{name}' (the RCU and SRCU primitives "
                                           f"supported are {known})"))
        prim = table.get(name)
        if prim is None and name.startswith("smp_cond_load_"):
            # a spin until a condition holds: herd7's linux-kernel.def has no row for it either
            kind = "smp_load_acquire(x)" if name.endswith("acquire") else "READ_ONCE(*x)"
            raise unsupported(cur.error(t, f"unsupported primitive '{name}' (a spin-wait, which herd7's "
                                           f"kernel model does not define either: write the load that "
                                           f"ends the spin, r = {kind}, and a filter on its value)"))
        near = difflib.get_close_matches(name, list(table), n=3, cutoff=0.8) if prim is None else []
        if near and not THREAD.fullmatch(name):
            # a misspelling is bad input (exit 2, in batch an error), not a construct we lack
            names = " or ".join(f"'{c}'" for c in near)
            raise cur.error(t, f"unknown primitive '{name}' (did you mean {names}?)")
        if prim is None:
            what = "thread header" if THREAD.fullmatch(name) else "primitive"
            raise unsupported(cur.error(t, f"unsupported {what} '{name}'"))
        if want and not prim.returns:
            raise cur.error(t, f"'{name}' does not return a value")
        cur.next()
        cur.expect("(")
        begin = len(self.out)
        args: list[Expr] = []
        first_arg: tuple[Pos, Pos] | None = None
        if not cur.accept(")"):
            while True:
                kind = prim.args[len(args)] if len(args) < len(prim.args) else "val"
                a = cur.peek()
                if kind == "star" and not cur.accept("*"):
                    raise cur.error(a, f"the first argument of '{name}' must be a dereference such as '*x'")
                if kind == "reg-ref":
                    args.append(self.register_ref(name))
                else:
                    args.append(self.unary() if kind == "star" else self.expr())
                if kind == "ptr" and isinstance(args[-1], Const):
                    raise cur.error(a, f"the first argument of '{name}' must be a pointer, not a number")
                if first_arg is None:
                    end = cur.toks[cur.i - 1]
                    first_arg = (cur.pos(a), cur.pos(Token("op", "", end.offset + len(end.text))))
                if cur.accept(")"):
                    break
                cur.expect(",", f"',' or ')' in the arguments of '{name}'")
        if len(args) != len(prim.args):
            raise cur.error(t, f"wrong number of arguments to '{name}': expected {len(prim.args)}, "
                            f"found {len(args)}")
        start = len(self.out)
        self.out[begin:start] = [_written(i, nested=True) for i in self.out[begin:start]]
        value = self.emit(prim, args, t, want)
        close = cur.toks[cur.i - 1]
        text = " ".join(cur.text[t.offset:close.offset + len(close.text)].split())
        self.out[start:] = [with_source(_written(i, first_arg=first_arg), text) for i in self.out[start:]]
        return value

    def register_ref(self, name: str) -> Reg:
        """`&r` for a primitive that writes back through it (atomic_try_cmpxchg's old value):
        the register itself, which the primitive then assigns."""
        cur = self.cur
        amp = cur.peek()
        if not cur.accept("&"):
            raise cur.error(amp, f"the second argument of '{name}' must be '&r' for a register r")
        r = cur.next()
        if r.kind != "id" or r.text not in self.registers:
            raise cur.error(r, f"'&' in '{name}' must take a register declared earlier in {self.thread}")
        return Reg(r.text)

    def emit(self, prim: Primitive, args: list[Expr], t: Token, want: bool) -> Expr | None:
        """The instructions of the primitive's forms, in order; the value of the last."""
        pos = self.cur.pos(t)
        name = t.text
        values = dict(zip(prim.params, args, strict=True))
        value: Expr | None = None
        for a in prim.accesses:
            addr = values[a.args[0].lstrip("*")] if a.args else ZERO
            if a.form == "__fence":
                self.out.append(Fence(a.cls, pos, prim=name))
            elif a.form == "__load":
                value = apply_tail(prim, self.load(addr, a.cls, t, name), values)
            elif a.form in ("__store", "__unlock", "__srcu"):
                # an unlock or synchronize_srcu() is a "store" whose mapping row is one
                # location-only event (herd7's lock and SRCU events)
                stored = operand(a.args[1], values) if a.form == "__store" else ZERO
                self.out.append(Store(addr, stored, a.cls, pos, prim=name))
            elif a.form == "__islocked":
                held = self.load(addr, a.cls, t, name)
                tmp = self.temp()
                self.out.append(Assign(tmp, BinOp("!=", held, ZERO), pos))
                value = Reg(tmp)
            else:
                value = self.rmw(prim, a, values, addr, pos, want)
        return value if want else None

    def rmw(self, prim: Primitive, a: Access, values: dict[str, Expr], addr: Expr, pos: Pos,
            want: bool) -> Expr | None:
        new, ret, cond, require = rmw_values(a, values)
        name = prim.name
        if a.form == "__try_cmpxchg":
            # r holds the expected value; afterwards it holds what was read (on success the
            # two are equal), and the value is whether they were.
            expected = values[a.args[1]]
            assert isinstance(expected, Reg)
            old, ok = self.temp(), self.temp()
            self.out.append(Rmw(old, addr, new, ret, a.cls, pos, cond, require, prim=name))
            self.out.append(Assign(ok, BinOp("==", Reg(old), expected), pos))
            self.out.append(Assign(expected.name, Reg(old), pos))
            return Reg(ok)
        dst = self.temp() if want and prim.returns else None
        self.out.append(Rmw(dst, addr, new, apply_tail(prim, ret, values), a.cls, pos, cond, require, prim=name))
        return Reg(dst) if dst else None


_KEEP: Pos | None = Pos("", 0, 0)  # a sentinel: "leave this part of Written as it is"


def _nested(i: Instr) -> bool:
    w = getattr(i, "written", None)
    return bool(w and w.nested)


def _written(i: Instr, end: Pos | None = _KEEP, braceless: bool = False,
             first_arg: tuple[Pos, Pos] | None = None, nested: bool = False) -> Instr:
    """`i` (an access or fence; anything else unchanged) with where it is written updated."""
    if not isinstance(i, (Load, Store, Rmw, Fence)):
        return i
    w = i.written or Written(None)
    return replace(i, written=Written(
        w.statement_end if end is _KEEP else end,
        w.braceless or braceless,
        w.first_arg if first_arg is None else first_arg,
        w.nested or nested,
    ))
