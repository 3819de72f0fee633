"""The herd constructs the interpreter gives a meaning to beyond plain `let` and checks:
`try ... with`, `let ... in`, `{}`, `sm`, and `with co from generate_cos(...)`; and what it
refuses, by name, when a check reaches it (definitions nothing uses are harmless)."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.errors import InputError, Unsupported
from verifier.frontends import parse_file

ROOT = Path(__file__).resolve().parents[1]
SB = ROOT / "litmus" / "classic" / "X86-SB.litmus"
MP = ROOT / "litmus" / "classic" / "X86-MP.litmus"

# herd's coherence-order generation, as its library writes it (our own text of the same
# functions: the interpreter recognises the names, written in a file named cross.cat).
CROSS = """Cross
let co_locs (pco, wss) = let rec do_locs wss = match wss with
  || {} -> {}
  || ws ++ wss -> linearisations(ws, pco) ++ do_locs(wss)
  end in do_locs(wss)
let cross = fun oss -> oss
let generate_orders(s, pco) = cross(co_locs(pco, partition(s)))
let generate_cos(pco) = generate_orders(W, pco)
"""


def observe(tmp_path: Path, model: str, test: Path = SB) -> str:
    (tmp_path / "cross.cat").write_text(CROSS)
    cat = tmp_path / f"m{abs(hash(model))}.cat"
    cat.write_text(model)
    return check(parse_file(str(test)), resolve_model(str(cat))).observation


SC = "acyclic po | rf | co | fr as sc\n"


def test_try_falls_back_on_an_unbound_name(tmp_path: Path) -> None:
    assert observe(tmp_path, "let f = try NOSUCH with 0\nacyclic f | rf | co | fr\n") == "Sometimes"
    assert observe(tmp_path, "let f = try po with 0\nacyclic f | rf | co | fr\n") == "Never"


def test_let_in_and_the_empty_set(tmp_path: Path) -> None:
    model = "let ghb = let ppo = po \\ (W * R) and fence = {} in ppo | [fence] | rf | co | fr\nacyclic ghb\n"
    assert observe(tmp_path, model) == "Sometimes"  # TSO's SB
    assert observe(tmp_path, "let r = let a = po in a\n" + "acyclic r | rf | co | fr\n") == "Never"


def test_sm_is_the_identity_on_accesses(tmp_path: Path) -> None:
    assert observe(tmp_path, "acyclic po | ((fr | rf | co) ; sm)\n") == "Never"


def test_co_generation_is_the_engines_coherence_order(tmp_path: Path) -> None:
    model = 'include "cross.cat"\nwith co from generate_cos(co0)\nlet fr = (rf^-1 ; co) \\ id\n' + SC
    assert observe(tmp_path, model) == "Never"
    assert observe(tmp_path, model, MP) == "Never"
    # extending a base order: co must contain it (here: no co exists, so no execution)
    bad = 'include "cross.cat"\nwith co from generate_cos(co0 | co0^-1)\n' + SC
    assert observe(tmp_path, bad) == "Never"


def test_unused_definitions_may_use_anything(tmp_path: Path) -> None:
    model = "let unused = match po with || {} -> 0 || e ++ s -> e end\nlet f = fun x -> x\n" + SC
    assert observe(tmp_path, model) == "Never"


@pytest.mark.parametrize(("model", "what"), [
    ("let f = 'a\nacyclic po | f\n", "tags ('name)"),
    ("let f(x) = x\nlet a = (f po) rf\nacyclic a\n", "applying a function's result"),
    ("let g(r) = r\nlet a = g(po) | (let rec f(x) = f(x) in f(po))\nacyclic a\n", "recursive functions"),
    ("enum E = 'a\ndefault R[E]\nacyclic po\n", "bell 'default' declarations"),
    ("empty classes-loc(W)\n", "herd7's primitive 'classes-loc'"),
])
def test_what_a_check_reaches_is_refused_by_name(model: str, what: str, tmp_path: Path) -> None:
    with pytest.raises(Unsupported) as e:
        observe(tmp_path, model)
    assert f"unsupported: {what}" in str(e.value)


@pytest.mark.parametrize(("model", "what"), [
    ("let a = {po}\nacyclic po\nempty a\n", "a check needs a set or relation"),
    ("with x from po\nacyclic x\n", "expected a set of sets or relations here, found a relation"),
])
def test_sets_of_relations_are_values_not_relations(model: str, what: str, tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        observe(tmp_path, model)
    assert what in str(e.value) and not isinstance(e.value, Unsupported)


def test_anonymous_functions_are_functions(tmp_path: Path) -> None:
    com = "rf | co | fr"
    assert observe(tmp_path, f"let f = fun r -> r | {com}\nacyclic f(po)\n") == "Never"
    assert observe(tmp_path, f"let f = fun (r, _) -> r | {com}\nacyclic f(po, 0)\n") == "Never"
    apply = "let app(g, r) = g(r)\n"
    assert observe(tmp_path, apply + f"acyclic app((fun r -> r | {com}), po)\n") == "Never"
    # TSO's store buffering: the W->R pairs of po are not in the acyclic relation
    assert observe(tmp_path, apply + f"acyclic app((fun r -> r \\ (W * R)), po) | {com}\n") == "Sometimes"
    with pytest.raises(InputError):
        observe(tmp_path, "let f = fun r -> r\nacyclic f\n")  # a function is not a relation


def test_generate_cos_written_elsewhere_is_an_ordinary_function(tmp_path: Path) -> None:
    """Only cross.cat's generate_cos is the engine's co generation; this one returns a
    relation, from which 'with' cannot choose (herd: "set expected")."""
    model = "let generate_cos(r) = r\nwith co from generate_cos(co0)\n" + SC
    with pytest.raises(InputError) as e:
        observe(tmp_path, model)
    assert "found a relation" in str(e.value)
