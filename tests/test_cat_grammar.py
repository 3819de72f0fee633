"""The cat grammar (verifier/cat/cat.lark): herd's whole language is read, the subset the
engine interprets keeps its meaning, and the rest is refused by name when a model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.cat.parser import load_model, parse_model
from verifier.cat.scope import EXECUTION_NAMES
from verifier.cat.syntax import Binary, Call, Check, Let, MatchSet, Name, Postfix, Procedure, WithFrom
from verifier.errors import InputError, Unsupported
from verifier.wmm.compile import compile_program

MODELS = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "models"
ENCODINGS = Path(__file__).resolve().parents[1] / "encodings"


def body(text: str) -> object:
    s = parse_model(text, "m.cat").stmts[0]
    assert isinstance(s, Let)
    return s.bindings[0].body


def shape(e: object) -> object:
    """An expression as nested tuples: (op, left, right), (postfix, arg), names, calls."""
    if isinstance(e, Name):
        return e.id
    if isinstance(e, Binary):
        return (e.op, shape(e.left), shape(e.right))
    if isinstance(e, Postfix):
        return (e.op, shape(e.arg))
    if isinstance(e, Call):
        return (e.fn, *map(shape, e.args))
    return type(e).__name__


@pytest.mark.skipif(not MODELS.is_dir(), reason="../shared/reference is not present")
@pytest.mark.parametrize("path", sorted(p.name for d in ("herd", "linux-kernel") for p in (MODELS / d).glob("*.[cb]*")
                                       if p.suffix in (".cat", ".bell")))
def test_every_herd_and_kernel_model_file_parses(path: str) -> None:
    f = next(p for d in ("herd", "linux-kernel") if (p := MODELS / d / path).is_file())
    model = parse_model(f.read_text(), str(f))
    assert model.stmts


@pytest.mark.skipif(not MODELS.is_dir(), reason="../shared/reference is not present")
def test_the_kernel_models_constructs_are_read() -> None:
    lock = parse_model((MODELS / "linux-kernel" / "lock.cat").read_text(), "lock.cat")
    assert any(isinstance(s, WithFrom) and s.name == "rfe-lf" for s in lock.stmts)
    stdlib = parse_model((MODELS / "herd" / "stdlib.cat").read_text(), "stdlib.cat")
    assert any(isinstance(s, Procedure) and s.name == "total" for s in stdlib.stmts)
    cat = parse_model((MODELS / "linux-kernel" / "linux-kernel.cat").read_text(), "linux-kernel.cat")
    assert cat.title == "Linux-kernel memory consistency model"
    assert any(isinstance(s, Let) and s.rec and s.bindings[0].name == "rcu-order" for s in cat.stmts)


def test_our_models_parse() -> None:
    for f in sorted(ENCODINGS.glob("*.cat")):
        assert parse_model(f.read_text(), str(f)).stmts


def test_precedence_is_herds() -> None:
    # weakest first: | ++ ; \ & *, then ~ and the postfix operators
    assert shape(body("let a = r | s ; t & u")) == ("|", "r", (";", "s", ("&", "t", "u")))
    assert shape(body("let a = r \\ s \\ t")) == ("\\", ("\\", "r", "s"), "t")
    assert shape(body("let a = W * W & loc")) == ("&", ("*", "W", "W"), "loc")
    assert shape(body("let a = r* ; s")) == (";", ("*", "r"), "s")
    assert shape(body("let a = (r ; s)+ | t^-1")) == ("|", ("+", (";", "r", "s")), ("^-1", "t"))
    assert shape(body("let a = domain(r) | range r")) == ("|", ("domain", "r"), ("range", "r"))
    assert shape(body("let a = f(r, s)")) == ("f", "r", "s")


def test_comments_of_every_style() -> None:
    text = '// SPDX\n"T # not a comment"\n(* a (* nested *) one *)\n# herd line comment\nlet a = po // tail\n'
    m = parse_model(text, "m.cat")
    assert m.title == "T # not a comment" and len(m.stmts) == 1


def test_a_long_flat_chain_is_built_shallow() -> None:
    names = " | ".join(f"r{i}" for i in range(2000))
    e = body(f"let a = {names}")
    depth, stack = 0, [(e, 1)]
    while stack:
        x, d = stack.pop()
        depth = max(depth, d)
        if isinstance(x, Binary):
            stack += [(x.left, d + 1), (x.right, d + 1)]
    assert depth < 20


def test_flags_and_modes() -> None:
    m = parse_model("flag ~empty r as data-race\nundefined_unless empty s\nacyclic t as x\n", "m.cat")
    a, b, c = m.stmts
    assert isinstance(a, Check) and a.flag and a.negated and a.name == "data-race" and a.kind == "empty"
    assert isinstance(b, Check) and b.mode == "undefined_unless" and not b.negated
    assert isinstance(c, Check) and c.mode == "check" and c.name == "x"


def test_set_matching_reads_both_clause_orders() -> None:
    for text in ("let f S = match S with || {} -> 0 || e ++ S -> e end",
                 "let f S = match S with e ++ S -> e || {} -> 0 end"):
        s = parse_model(text, "m.cat").stmts[0]
        assert isinstance(s, Let) and isinstance(s.bindings[0].body, MatchSet)


@pytest.mark.parametrize(("text", "where", "what"), [
    ("let = po\n", "1:5", "unexpected '='"),
    ("let a = po |\n", "2:1", "unexpected end of file"),
    ("let a = po ! rf\n", "1:12", "unexpected character '!'"),
    ("(* open\nlet a = po\n", "1:1", "unterminated comment"),
    ("let a = 5\n", "1:9", "unexpected character '5'"),
])
def test_syntax_errors_are_positioned(text: str, where: str, what: str) -> None:
    with pytest.raises(InputError) as e:
        parse_model(text, "m.cat")
    assert str(e.value).startswith(f"m.cat:{where}: {what}")


@pytest.mark.parametrize(("text", "what"), [
    ("let rec f(x) = f(x)\nacyclic f(po)\n", "recursive functions ('let rec f(...)')"),
    ("procedure p(r) = acyclic r end\ncall p(po)\n", "procedure calls"),
    ("let f = match po with {} -> po || e ++ s -> 0 end\nacyclic f\n", "'match' over a set"),
    ("enum E = 'a || 'b\ndefault R[E]\n", "bell 'default' declarations"),
    ("let a = (f po) rf\nacyclic a\n", "applying a function's result"),
    ("assert empty po\n", "'assert' checks"),
])
def test_what_is_not_modelled_is_refused_by_name_at_load(text: str, what: str) -> None:
    with pytest.raises(Unsupported) as e:
        compile_program([parse_model(text, "m.cat")], EXECUTION_NAMES | {"X", "map", "f"})
    assert f"unsupported: {what}" in str(e.value) and str(e.value).startswith("m.cat:")


def test_what_no_check_reaches_is_read_and_left_alone() -> None:
    """herd's library defines functions a model may never call (cross.cat's `cross`)."""
    text = "let f = fun x -> x\nlet g(S) = match S with || {} -> 0 || e ++ r -> e end\nacyclic po\n"
    compile_program([parse_model(text, "m.cat")], EXECUTION_NAMES)


def test_variant_blocks_are_resolved_when_loaded(tmp_path: Path) -> None:
    (tmp_path / "a.cat").write_text("let x = po\n")
    (tmp_path / "b.cat").write_text("let x = rf\n")
    (tmp_path / "m.cat").write_text('M\nif "fast" && not "slow" include "a.cat" else include "b.cat" end\nacyclic x\n')
    for variants, want in ((frozenset({"fast"}), "po"), (frozenset(), "rf"), (frozenset({"fast", "slow"}), "rf")):
        m = load_model(tmp_path / "m.cat", variants=variants)
        let = m.stmts[0]
        assert isinstance(let, Let) and shape(let.bindings[0].body) == want
