"""Front end for herd7's kernel C litmus dialect (Linux `tools/memory-model/litmus-tests/`).

    C NAME
    (* comment, e.g. Result: Never *)
    { int x; p=y; atomic_t v = ATOMIC_INIT(1); }
    P0(int *x, int **p, spinlock_t *lck) { ... }
    P1(...) { ... }
    locations [...]  filter ...  exists|~exists|forall ...

Each thread parameter names a shared location (`*x` is location x).  Bodies are parsed by
`c_expr.ThreadParser`; the init block by `init`, the tail by `condition`.
"""

from __future__ import annotations

import re
from typing import TypeVar

from verifier.errors import InputError, Pos, Unsupported
from verifier.frontends.c_expr import KEYWORDS, RCU, THREAD, Cursor, ThreadParser, tokenize
from verifier.frontends.common import (
    KEY_LINE,
    blank_comments,
    header,
    pos_of,
    predicts_data_race,
    read_expectations,
)
from verifier.frontends.condition import parse_tail
from verifier.frontends.init import parse_init
from verifier.program.ast import (
    Const,
    Expr,
    Litmus,
    LocAddr,
    Location,
    MemObs,
    Prop,
    Thread,
    prop_atoms,
)
from verifier.program.primitives import primitives

T = TypeVar("T")


def parse_c(text: str, path: str) -> Litmus:
    """Parse a kernel C litmus test; bad input raises `InputError` with its position."""
    try:
        return _parse(text, path)
    except RecursionError:
        raise InputError(Pos(path, 1, 1), "expressions or blocks are nested too deeply") from None


def _parse(text: str, path: str) -> Litmus:
    expected = read_expectations(text)
    race = predicts_data_race(text)  # read before comments are blanked
    nl = text.find("\n")
    text = blank_comments(text, path, 0, len(text) if nl < 0 else nl + 1)
    arch, name, start = header(text, path)
    if arch != "C":
        raise InputError(Pos(path, 1, 1), f"expected a kernel C test ('C NAME'), found architecture {arch!r}")
    text = strip_comments(text, start, path)

    brace = re.compile(r"\s*").match(text, start)
    at = brace.end() if brace else start
    # herd's metadata lines between the header and the init block (`Cycle=...`, `Relax=`,
    # `Safe=...`, `Prefetch=...`: tests that diy7 generated), as herd7 reads them.
    while at < len(text) and text[at] != "{" and (m := KEY_LINE.match(text, at)):
        blank = re.compile(r"\s*").match(text, m.end())
        at = blank.end() if blank else m.end()
    if at >= len(text) or text[at] != "{":
        word = re.compile(r"\w+|\S").match(text, at)
        found = repr(word.group()) if word else "end of file"
        raise InputError(pos_of(text, at, path), f"expected the init block '{{ ... }}' after the header, found {found}")
    init = parse_init(text, at, path)
    init_pos = pos_of(text, at, path)

    # Shared locations: name -> (initial value, C type), in order of appearance.
    locs: dict[str, tuple[Expr, str | None]] = {n: (v, ct) for n, v, ct in init.memory}
    for v in [v for _, v, _ in init.memory] + [v for _, _, v in init.registers]:
        if isinstance(v, LocAddr):  # `p=y`: y is a location even if never declared
            locs.setdefault(v.name, (Const(0), None))
    global_names = frozenset(locs)
    reg_init: dict[int, list[tuple[str, Expr]]] = {}
    for tid, reg, v in init.registers:
        reg_init.setdefault(tid, []).append((reg, v))

    toks = tokenize(text, init.end)
    for k, t in enumerate(toks[:-1]):
        # RCU is refused up front so that the first RCU primitive is named, whatever else is wrong.
        if t.kind == "id" and RCU.fullmatch(t.text) and t.text not in primitives() and toks[k + 1].text == "(":
            known = ", ".join(n for n in primitives() if RCU.fullmatch(n))
            raise Unsupported(pos_of(text, t.offset, path), f"unsupported primitive '{t.text}' (the RCU and "
                              f"SRCU primitives supported are {known})")
    cur = Cursor(text, toks, path)
    threads: list[Thread] = []
    registers: list[set[str]] = []
    while cur.peek().kind == "id" and THREAD.fullmatch(cur.peek().text):
        t = cur.next()
        # Compared as text: int() of a 5000-digit name would meet Python's conversion limit.
        if (t.text[1:].lstrip("0") or "0") != str(len(threads)):
            raise cur.error(t, f"expected thread P{len(threads)}, found {t.text} (threads are numbered P0, P1, ... in order)")
        params = _params(cur, t.text)
        for pname, ctype in params:
            old_init, old_type = locs.get(pname, (Const(0), None))
            locs[pname] = (old_init, old_type or ctype)
        regs = {r for r, _ in reg_init.get(len(threads), [])}
        parser = ThreadParser(cur, t.text, global_names | {p for p, _ in params}, regs)
        threads.append(Thread(len(threads), parser.body(), tuple(reg_init.get(len(threads), []))))
        registers.append(regs)
    t = cur.peek()
    if not threads:
        raise cur.fail(t, "the first thread 'P0(...) { ... }' after the init block")
    if t.text == "}":
        raise cur.error(t, "unbalanced braces: '}' without a matching '{'")
    for tid in reg_init:
        if not 0 <= tid < len(threads):
            raise InputError(init_pos, f"the init block sets a register of P{tid}, but there is no thread P{tid}")

    def norm(tid: int, reg: str, pos: Pos) -> str:
        if not 0 <= tid < len(threads):
            raise InputError(pos, f"no thread P{tid} in this test (threads are P0..P{len(threads) - 1})")
        if reg not in registers[tid]:
            raise InputError(pos, f"thread P{tid} has no register '{reg}'")
        return reg

    tail_start = t.offset
    tail = parse_tail(text, tail_start, path, norm)
    props = [tail.condition.prop] + ([tail.filter] if tail.filter else [])
    names = [o.loc for o in tail.observed if isinstance(o, MemObs)] + [n for p in props for n in _names(p)]
    for n in names:
        if n not in locs:
            m = re.compile(rf"(?<![\w:]){re.escape(n)}\b").search(text, tail_start)
            where = pos_of(text, m.start() if m else tail_start, path)
            hint = " (registers are written 'P:reg', e.g. '0:r0')" if n not in KEYWORDS else ""
            raise InputError(where, f"unknown location '{n}' in the final condition{hint}")
    return Litmus(
        arch="C",
        name=name,
        path=path,
        threads=tuple(threads),
        locations=tuple(Location(n, v, ct) for n, (v, ct) in locs.items()),
        condition=tail.condition,
        observed=tail.observed,
        filter=tail.filter,
        expected=expected,
        predicts_data_race=race,
    )


def strip_comments(text: str, start: int, path: str) -> str:
    """Blank comments from `start` on, keeping positions: C `//` and `/* */` anywhere, and
    herd's `(* *)` (nesting) outside thread bodies, where `(*p)` is C.  A thread body is a
    '{' at brace depth 0 right after a ')' (the parameter list)."""
    out = list(text)
    depth = 0
    in_body = False
    last = ""  # last significant character outside comments
    i, n = start, len(text)
    while i < n:
        two = text[i : i + 2]
        if two == "//":
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif two == "/*":
            end = text.find("*/", i + 2)
            if end < 0:
                raise InputError(pos_of(text, i, path), "unterminated comment '/*'")
            end += 2
        elif two == "(*" and not in_body:
            end = _ocaml_comment_end(text, i, path)
        else:
            c = text[i]
            if c == "{":
                in_body = in_body or (depth == 0 and last == ")")
                depth += 1
            elif c == "}":
                depth = max(0, depth - 1)
                in_body = in_body and depth > 0
            if not c.isspace():
                last = c
            i += 1
            continue
        for k in range(i, end):
            if out[k] != "\n":
                out[k] = " "
        i = end
    return "".join(out)


def _ocaml_comment_end(text: str, start: int, path: str) -> int:
    depth = 0
    i = start
    while i < len(text):
        two = text[i : i + 2]
        if two in ("(*", "*)"):
            depth += 1 if two == "(*" else -1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise InputError(pos_of(text, start, path), "unterminated comment '(*'")


def _params(cur: Cursor, thread: str) -> list[tuple[str, str]]:
    """`(int *x, int **p, spinlock_t *l)` -> [(name, C type of the location)]."""
    cur.expect("(", f"'(' after {thread}")
    out: list[tuple[str, str]] = []
    if cur.at("void") and cur.peek(1).text == ")":
        cur.next()
    if cur.accept(")"):
        return out
    while True:
        words: list[str] = []
        stars = 0
        while cur.peek().kind == "id" or cur.at("*"):
            w = cur.next()
            if w.text == "*":
                stars += 1
            else:
                words.append(w.text)
        t = cur.toks[cur.i - 1]
        if not words or t.kind != "id" or t.text in KEYWORDS:
            raise cur.fail(cur.peek(), f"a parameter such as 'int *x' in the parameter list of {thread}")
        if len(words) == 1:
            raise cur.error(t, f"parameter '{t.text}' of {thread} has no type (write 'int *{t.text}')")
        if stars == 0:
            raise cur.error(t, f"parameter '{t.text}' of {thread} must be a pointer to the shared location ('int *{t.text}')")
        if any(t.text == p for p, _ in out):
            raise cur.error(t, f"duplicate parameter '{t.text}' in {thread}")
        out.append((t.text, " ".join(words[:-1]) + "*" * (stars - 1)))
        if cur.accept(")"):
            return out
        cur.expect(",", f"',' or ')' in the parameter list of {thread}")


def _names(p: Prop) -> list[str]:
    """Location names in a proposition: observed locations and pointer values."""
    return [
        n
        for a in prop_atoms(p)
        for n in ([a.obs.loc] if isinstance(a.obs, MemObs) else []) + ([a.value] if isinstance(a.value, str) else [])
    ]



