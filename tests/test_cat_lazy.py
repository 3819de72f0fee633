"""`let` bindings are evaluated when used (RCU's closure costs nothing without RCU events),
but an unbound name is still an error wherever it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SB = str(ROOT / "litmus/classic/C-SB.litmus")


def test_unbound_name_in_an_unused_let_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.cat"
    model.write_text('"m"\nlet unused = po ; nosuch\nacyclic po | rf | co | fr\n')
    assert main(["check", SB, "--model", str(model)]) == 2
    assert f"{model}:2:19: unbound name 'nosuch'" in capsys.readouterr().err


def test_unused_expensive_let_does_not_change_answers(tmp_path: Path) -> None:
    model = tmp_path / "m.cat"
    model.write_text('"m"\nlet big = (po | rf | co | fr)+\nacyclic po | rf | co | fr\n'
                     'irreflexive [Sync-rcu] ; big\n')
    assert main(["check", SB, "--model", str(model)]) == 0
