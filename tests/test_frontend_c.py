"""Kernel C front end: every reference test parses, exact IR on small tests, precise errors."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.errors import InputError, Pos
from verifier.frontends.c import parse_c
from verifier.program.ast import (
    Assign,
    Atom,
    BinOp,
    Condition,
    Const,
    Fence,
    If,
    Instr,
    Ite,
    Litmus,
    Load,
    LocAddr,
    Location,
    MemObs,
    Old,
    PAnd,
    PNot,
    Reg,
    RegObs,
    Rmw,
    Store,
    UnOp,
)

REF = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "litmus"
C_FILES = sorted(
    [*REF.glob("kernel/*.litmus"), *REF.glob("kernel/doc-*/*.litmus"), *REF.glob("linux/*.litmus")]
)
F = "t.litmus"


def P(line: int, col: int) -> Pos:
    return Pos(F, line, col)


def parse(text: str) -> Litmus:
    return parse_c(text, F)


def error(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse(text)
    return info.value


# --------------------------------------------------------------------------- reference files


# RCU primitives the table lacks (call_rcu, kfree_rcu, ...) are refused by name.
RCU_CALL = re.compile(r"\b(call_s?rcu\w*|kfree_rcu|srcu_barrier)\s*\(")


@pytest.mark.skipif(not C_FILES, reason="reference litmus tests not available")
@pytest.mark.parametrize("path", C_FILES, ids=lambda p: str(p.relative_to(REF)))
def test_reference_file_parses(path: Path) -> None:
    text = path.read_text()
    rcu = RCU_CALL.search(text, text.index("\nP0"))
    if rcu:  # refused, naming the first RCU primitive of the bodies
        err = pytest.raises(InputError, parse_c, text, str(path)).value
        assert err.message.startswith(f"unsupported primitive '{rcu.group(1)}' (the RCU and SRCU primitives supported are")
        assert err.pos.line == text.count("\n", 0, rcu.start()) + 1
        return
    test = parse_c(text, str(path))
    assert test.arch == "C" and test.threads and test.name == text.split("\n")[0].split()[1]
    names = [loc.name for loc in test.locations]
    assert len(names) == len(set(names))
    assert bool(test.expected) == ("Result:" in text)


@pytest.mark.skipif(not C_FILES, reason="reference litmus tests not available")
def test_reference_set_is_complete() -> None:
    dirs = {p.parent.name for p in C_FILES}
    assert {"kernel", "doc-atomic", "doc-locking", "linux"} <= dirs
    parsed = [p for p in C_FILES if not RCU_CALL.search(p.read_text(), p.read_text().index("\nP0"))]
    assert len(parsed) >= 100


# --------------------------------------------------------------------------- exact IR

MP = """C MP+poonceonces

(*
 * Result: Sometimes
 *)

{}

P0(int *buf, int *flag) // Producer
{
	WRITE_ONCE(*buf, 1);
	WRITE_ONCE(*flag, 1);
}

P1(int *buf, int *flag) // Consumer
{
	int r0;
	int r1;

	r0 = READ_ONCE(*flag);
	r1 = READ_ONCE(*buf);
}

exists (1:r0=1 /\\ 1:r1=0) (* Bad outcome. *)
"""


def test_mp_exact() -> None:
    t = parse(MP)
    assert (t.arch, t.name, t.path) == ("C", "MP+poonceonces", F)
    assert t.expected == (("", "Sometimes"),)
    assert t.locations == (Location("buf", Const(0), "int"), Location("flag", Const(0), "int"))
    assert [th.tid for th in t.threads] == [0, 1]
    assert t.threads[0].body == (
        Store(LocAddr("buf"), Const(1), "once", P(11, 2)),
        Store(LocAddr("flag"), Const(1), "once", P(12, 2)),
    )
    assert t.threads[1].body == (
        Load("r0", LocAddr("flag"), "once", P(20, 7)),
        Load("r1", LocAddr("buf"), "once", P(21, 7)),
    )
    assert t.condition == Condition(
        "exists", PAnd((Atom(RegObs(1, "r0"), 1), Atom(RegObs(1, "r1"), 0)))
    )
    assert t.observed == () and t.filter is None


def body(code: str, params: str = "int *x, int *y", init: str = "{}", tail: str = "exists (true)") -> tuple[Instr, ...]:
    """A one-thread test whose body starts on line 5."""
    t = parse(f"C T\n{init}\nP0({params})\n{{\n{code}\n}}\n{tail}\n")
    return t.threads[0].body


def test_primitives() -> None:
    b = body("int r; r = smp_load_acquire(y);\nsmp_store_release(x, r);\nsmp_mb(); smp_rmb(); smp_wmb();")
    assert b == (
        Load("r", LocAddr("y"), "acquire", P(5, 12)),
        Store(LocAddr("x"), Reg("r"), "release", P(6, 1)),
        Fence("mb", P(7, 1)), Fence("rmb", P(7, 11)), Fence("wmb", P(7, 22)),
    )
    fences = body("smp_mb__before_atomic(); smp_mb__after_atomic(); smp_mb__after_spinlock();"
                  " smp_mb__after_unlock_lock();")
    assert [f.cls for f in fences if isinstance(f, Fence)] == [
        "before-atomic", "after-atomic", "after-spinlock", "after-unlock-lock"]
    v = "atomic_t *v"
    assert body("int r = atomic_read(v); atomic_set(v, 2); r = atomic_read_acquire(v);"
                " atomic_set_release(v, r);", v) == (
        Load("r", LocAddr("v"), "once", P(5, 9)),
        Store(LocAddr("v"), Const(2), "once", P(5, 25)),
        Load("r", LocAddr("v"), "acquire", P(5, 47)),
        Store(LocAddr("v"), Reg("r"), "release", P(5, 71)),
    )


def test_cmpxchg_and_rmws() -> None:
    (c,) = body("r1 = cmpxchg(x, 2, 3);")
    assert c == Rmw("r1", LocAddr("x"), Const(3), Old(), "mb", P(5, 6), cond=BinOp("==", Old(), Const(2)))
    (c,) = body("cmpxchg_acquire(x, 0, 1);")
    assert c == Rmw(None, LocAddr("x"), Const(1), Old(), "acquire", P(5, 1), cond=BinOp("==", Old(), Const(0)))
    (c,) = body("int r = xchg_relaxed(x, 5);")
    assert c == Rmw("r", LocAddr("x"), Const(5), Old(), "relaxed", P(5, 9))
    v = "atomic_t *v"
    inc = BinOp("+", Old(), Const(1))
    (c,) = body("int r = atomic_inc_return_release(v);", v)
    assert c == Rmw("r", LocAddr("v"), inc, inc, "release", P(5, 9))
    (c,) = body("int r = atomic_fetch_sub(3, v);", v)
    assert c == Rmw("r", LocAddr("v"), BinOp("-", Old(), Const(3)), Old(), "mb", P(5, 9))
    (c,) = body("atomic_or(4, v);", v)
    assert c == Rmw(None, LocAddr("v"), BinOp("|", Old(), Const(4)), Old(), "noreturn", P(5, 1))
    (c,) = body("int r = atomic_add_unless(v, 1, 5);", v)
    assert c == Rmw("r", LocAddr("v"), inc, BinOp("!=", Old(), Const(5)), "mb", P(5, 9),
                    cond=BinOp("!=", Old(), Const(5)))
    (c,) = body("int r = atomic_dec_and_test(v);", v)
    dec = BinOp("-", Old(), Const(1))
    assert c == Rmw("r", LocAddr("v"), dec, BinOp("==", dec, Const(0)), "mb", P(5, 9))
    (c,) = body("(void)atomic_inc_not_zero(v);", v)
    assert c.dst is None and c.cond == BinOp("!=", Old(), Const(0))


def test_locks() -> None:
    b = body("int r = spin_is_locked(l);\nspin_lock(l);\nr = spin_trylock(l);\nspin_unlock(l);",
             "spinlock_t *l")
    is0 = BinOp("==", Old(), Const(0))
    assert b == (
        Load("%t1", LocAddr("l"), "is-locked", P(5, 9)),
        Assign("r", BinOp("!=", Reg("%t1"), Const(0)), P(5, 9)),
        Rmw(None, LocAddr("l"), Const(1), Old(), "lock", P(6, 1), require=is0),
        Rmw("r", LocAddr("l"), Const(1), is0, "trylock", P(7, 5), cond=is0),
        Store(LocAddr("l"), Const(0), "unlock", P(8, 1)),
    )


def test_if_else_structure() -> None:
    b = body("int r0 = READ_ONCE(*x);\nif (r0 == 0) {\n\tWRITE_ONCE(*y, 1);\n\tif (r0) smp_mb();\n}"
             " else\n\tr0 = r0 ? 2 : -r0;")
    assert b == (
        Load("r0", LocAddr("x"), "once", P(5, 10)),
        If(BinOp("==", Reg("r0"), Const(0)),
           (Store(LocAddr("y"), Const(1), "once", P(7, 2)),
            If(Reg("r0"), (Fence("mb", P(8, 10)),), (), P(8, 2))),
           (Assign("r0", Ite(Reg("r0"), Const(2), UnOp("-", Reg("r0"))), P(10, 2)),),
           P(6, 1)),
    )


def test_dep_plain_chain() -> None:
    b = body("int a = READ_ONCE(*x);\n*z1 = a;\n*z2 = *z1;\nif (*z2 == 1)\n\tWRITE_ONCE(*y, 1);",
             "int *x, int *y, int *z1, int *z2")
    assert b == (
        Load("a", LocAddr("x"), "once", P(5, 9)),
        Store(LocAddr("z1"), Reg("a"), "plain", P(6, 1)),
        Load("%t1", LocAddr("z1"), "plain", P(7, 7)),
        Store(LocAddr("z2"), Reg("%t1"), "plain", P(7, 1)),
        Load("%t2", LocAddr("z2"), "plain", P(8, 5)),
        If(BinOp("==", Reg("%t2"), Const(0x1)), (Store(LocAddr("y"), Const(1), "once", P(9, 2)),), (), P(8, 1)),
    )


def test_nested_access_uses_temporary() -> None:
    b = body("int r = READ_ONCE(*x) + 1;\nWRITE_ONCE(*y, READ_ONCE(*x) << 2);\nr = *x;")
    assert b == (
        Load("%t1", LocAddr("x"), "once", P(5, 9)),
        Assign("r", BinOp("+", Reg("%t1"), Const(1)), P(5, 5)),
        Load("%t2", LocAddr("x"), "once", P(6, 16)),
        Store(LocAddr("y"), BinOp("<<", Reg("%t2"), Const(2)), "once", P(6, 1)),
        Load("r", LocAddr("x"), "plain", P(7, 5)),
    )


def test_pointers() -> None:
    t = parse("C P\n{\np=y;\nint *q = &x;\n}\nP0(int **p, int *x)\n{\n\tint *r0;\n\tint r1;\n"
              "\tr0 = READ_ONCE(*p);\n\tr1 = READ_ONCE(*r0);\n\tWRITE_ONCE(*p, x);\n"
              "\tr1 = (int)smp_load_acquire(&x);\n}\nexists (0:r0=x /\\ p=y /\\ q=x)\n")
    assert t.locations == (
        Location("p", LocAddr("y"), "int*"), Location("q", LocAddr("x"), "int*"),
        Location("y", Const(0), None), Location("x", Const(0), "int"),
    )
    assert t.threads[0].body == (
        Load("r0", LocAddr("p"), "once", P(10, 7)),
        Load("r1", Reg("r0"), "once", P(11, 7)),
        Store(LocAddr("p"), LocAddr("x"), "once", P(12, 2)),
        Load("r1", LocAddr("x"), "acquire", P(13, 12)),
    )
    assert t.condition == Condition("exists", PAnd((
        Atom(RegObs(0, "r0"), "x"), Atom(MemObs("p"), "y"), Atom(MemObs("q"), "x"))))


def test_init_values_and_types() -> None:
    t = parse("C I\n{\n\tatomic_t v = ATOMIC_INIT(1);\n\tint x = -2;\n\t0:r1 = 3;\n}\n"
              "P0(atomic_t *v, int *x, spinlock_t *s) { r1 = r1 + 1; }\nexists (0:r1=4)\n")
    assert t.locations == (Location("v", Const(1), "atomic_t"), Location("x", Const(-2), "int"),
                           Location("s", Const(0), "spinlock_t"))
    assert t.threads[0].reg_init == (("r1", Const(3)),)


def test_tail_forms() -> None:
    tail = "locations [x; 0:r0;]\nfilter (0:r0=1)\n~exists (x=1 /\\ ~0:r0=0)"
    t = parse(f"C T\n{{}}\nP0(int *x) {{ int r0 = READ_ONCE(*x); }}\n{tail}\n")
    assert t.observed == (MemObs("x"), RegObs(0, "r0"))
    assert t.filter == Atom(RegObs(0, "r0"), 1)
    assert t.condition == Condition("~exists", PAnd((Atom(MemObs("x"), 1), PNot(Atom(RegObs(0, "r0"), 0)))))
    t = parse("C T\n{}\nP0(int *x) { int r0 = READ_ONCE(*x); }\nforall (0:r0=0 \\/ x=0)\n")
    assert t.condition.kind == "forall"


def test_comments_everywhere() -> None:
    t = parse("C X // not a comment in the name\n(* top (* nested *) *)\n{ /* c */ x=1; (* herd *) }\n"
              "// between\nP0(int *x) /* params */\n{\n\tint r0; // (* not herd here\n"
              "\tr0 = (*x); /* (* */\n}\n(* tail *) exists (0:r0=1) // end\n")
    assert t.name == "X"  # herd7 names a test by the header's first word (lib/splitter.mll)
    assert t.threads[0].body == (Load("r0", LocAddr("x"), "plain", P(8, 8)),)


def test_registers_without_declaration_and_undeclared_use() -> None:
    b = body("r1 = cmpxchg(x, 1, 0);\nr2 = r1 + 1;")
    assert b[1] == Assign("r2", BinOp("+", Reg("r1"), Const(1)), P(6, 1))
    err = error("C T\n{}\nP0(int *x)\n{\n\tint r0;\n\tr0 = r1;\n}\nexists (0:r0=0)\n")
    assert (err.pos.line, err.pos.col) == (6, 7) and err.message == "undefined name 'r1'"


# --------------------------------------------------------------------------- errors

GOOD = """C T
{}
P0(int *x, int *y)
{
	int r0;
	WRITE_ONCE(*x, 1);
	r0 = READ_ONCE(*y);
}
P1(int *x, int *y)
{
	WRITE_ONCE(*y, 1);
	smp_mb();
}
exists (0:r0=0)
"""


def test_good_base_parses() -> None:
    assert len(parse(GOOD).threads) == 2


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("smp_mb()", "foo(x)", 12, ["unsupported primitive", "'foo'"]),
        ("smp_mb()", "call_rcu(x)", 12, ["'call_rcu'", "supported are rcu_dereference"]),
        ("READ_ONCE(*y)", "READ_ONCE(*y) + q", 7, ["undefined name 'q'"]),
        ("WRITE_ONCE(*y, 1)", "WRITE_ONCE(*y, r5)", 11, ["undefined name 'r5'"]),
        ("exists (0:r0=0)", "exists (0:r0=)", 14, ["expected a value", "')'"]),
        ("exists (0:r0=0)", "exists (0:r9=0)", 14, ["P0", "'r9'"]),
        ("exists (0:r0=0)", "exists (3:r0=0)", 14, ["P3"]),
        ("exists (0:r0=0)", "exists (r0=0)", 14, ["unknown location 'r0'"]),
        ("r0 = READ_ONCE(*y);\n}", "r0 = READ_ONCE(*y);\n", 4, ["unbalanced braces", "'P1'"]),
        ("smp_mb();\n}", "smp_mb();\n}\n}", 14, ["unbalanced braces", "'}'"]),
        ("WRITE_ONCE(*x, 1);", "WRITE_ONCE(*x, 1)", 6, ["missing ';'"]),
        ("WRITE_ONCE(*x, 1);", "WRITE_ONCE(*x);", 6, ["wrong number of arguments", "'WRITE_ONCE'"]),
        ("READ_ONCE(*y)", "READ_ONCE(y)", 7, ["'READ_ONCE'", "'*x'"]),
        ("smp_mb();", "smp_mb(1);", 12, ["wrong number of arguments", "'smp_mb'"]),
        ("smp_mb();", "r = spin_lock(x);", 12, ["'spin_lock' does not return a value"]),
        ("smp_mb();", "while (1) ;", 12, ["unsupported statement 'while'"]),
        ("smp_mb();", "x = 1;", 12, ["cannot assign to shared location 'x'"]),
        ("smp_mb();", "r = y[1];", 12, ["unsupported operator '['"]),
        ("smp_mb();", "r = 1 || READ_ONCE(*x);", 12, ["'||'", "not supported"]),
        ("smp_mb();", "else smp_mb();", 12, ["'else' without"]),
        ("smp_mb();", "/* open", 12, ["unterminated comment '/*'"]),
        ("P1(int *x, int *y)", "P2(int *x, int *y)", 9, ["expected thread P1", "P2"]),
        ("P1(int *x, int *y)", "P1(int x, int *y)", 9, ["parameter 'x'", "pointer"]),
        ("{}\n", "", 2, ["init block"]),
        ("C T", "X86 T", 1, ["C"]),
    ],
)
def test_errors(old: str, new: str, line: int, words: list[str]) -> None:
    assert old in GOOD
    err = error(GOOD.replace(old, new, 1))
    assert err.pos.file == F and err.pos.line == line, err
    for w in words:
        assert w in err.message, err


def test_truncated_in_thread() -> None:
    cut = GOOD[: GOOD.index("smp_mb();") + len("smp_mb();")]
    err = error(cut)
    assert (err.pos.line, err.pos.col) == (12, 11)
    assert "end of file" in err.message and "'}'" in err.message
    cut = GOOD[: GOOD.index("READ_ONCE(*y)") + len("READ_ONCE(*")]
    err = error(cut)
    assert err.pos.line == 7 and "end of file" in err.message


def test_error_columns_follow_tabs_and_comments() -> None:
    err = error(GOOD.replace("\tsmp_mb();", "\t/* x */ smp_mb(); bar();"))
    assert (err.pos.line, err.pos.col) == (12, 20) and "'bar'" in err.message


# --------------------------------------------------------------------------- robustness


def _mutants(seed: int) -> list[str]:
    rnd = random.Random(seed)
    pieces = ["(", ")", "{", "}", ";", ",", "*", "&", "=", "/*", "*/", "(*", "*)", "//", "\n", "08",
              "0x1", "r9", "P1", "exists", ":", "~", "[", "?", "-", "READ_ONCE(", "if (", "else"]
    out = []
    for _ in range(40):
        text = MP
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randrange(len(text))
            text = text[:i] + rnd.choice(pieces) + text[i + rnd.randint(0, 4):]
        out.append(text)
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_mutants_raise_only_input_errors(seed: int) -> None:
    for text in _mutants(seed):
        try:
            parse(text)
        except InputError:
            pass


def test_every_truncation_raises_input_error() -> None:
    """A cut-off test is an error, unless it ends after a whole thread (herd7 then reads
    the missing condition as `forall (true)`) or inside the condition's last parenthesis."""
    for i in range(len(MP) - 1):
        try:
            test = parse(MP[:i])
        except InputError:
            continue
        full = "exists (1:r0=1 /\\ 1:r1=0)" in MP[:i]
        assert full or (test.condition.kind == "forall" and MP[:i].rstrip().endswith("}")), MP[:i]


@given(st.text(alphabet="C T\n{}()P0int*x;r=READ_ONCE12,exists:/\\~", max_size=80))
@settings(max_examples=200, deadline=None)
def test_random_text(text: str) -> None:
    try:
        parse(text)
    except InputError:
        pass


def test_herd_metadata_lines_before_the_init_block() -> None:
    """diy7-generated C tests carry `Cycle=...`, `Relax=`, `Safe=...`, `Prefetch=...` lines
    between the header and the init block; herd7 reads past them, and so do we."""
    text = ("C T\nCycle=Rfi PodRW Wse\nRelax=\nSafe=[Rfi,PodRW] Fre\nPrefetch=0:x=F,0:y=W\n"
            "{ }\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (x=1)\n")
    assert parse_c(text, "t.litmus").name == "T"
    with pytest.raises(InputError) as e:
        parse_c("C T\nnot metadata\n{ }\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (x=1)\n", "t.litmus")
    assert "expected the init block" in str(e.value)
