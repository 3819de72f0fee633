"""Find models and mapping tables: `encodings/` (data, not code) plus users' own files."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from verifier.cat.parser import load_model
from verifier.cat.scope import EXECUTION_NAMES, check_scope
from verifier.cat.syntax import CatModel
from verifier.errors import InputError, Pos, UsageError
from verifier.events.mapping import Mapping, load_table
from verifier.program.ast import Litmus


def encodings_dir() -> Path:
    """The `encodings/` folder: installed as package data, or beside the package in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "encodings", here.parent / "encodings"):
        if (candidate / "models.yaml").is_file():
            return candidate
    raise UsageError("cannot find the encodings/ folder (models and mapping tables)")


@dataclass(frozen=True)
class ModelSpec:
    """A model and, per test dialect, the mapping column that compiles tests for it."""

    name: str
    cat: CatModel
    prelude: tuple[CatModel, ...]
    compile: tuple[tuple[str, str], ...]
    # How a C test's plain kernel `Result:` comment (LKMM's verdict) is judged under this
    # model: "exact", or "hardware" (stronger than LKMM: a Sometimes there may be Never here).
    kernel_result: str = "exact"

    def applies_to(self, arch: str) -> bool:
        """Whether the model knows how to compile tests of this dialect."""
        return arch in dict(self.compile)

    def mapping_for(self, arch: str, pos: Pos) -> Mapping:
        ref = dict(self.compile).get(arch)
        if ref is None:
            raise InputError(pos, f"model '{self.name}' does not apply to {arch} tests")
        table, _, column = ref.partition(":")
        columns = _table(str(encodings_dir() / table))
        if column not in columns:
            raise UsageError(f"mapping table {table} has no column {column!r}")
        return columns[column]


@cache
def _table(path: str) -> dict[str, Mapping]:
    return load_table(Path(path))


@cache
def _registry() -> dict[str, dict]:  # type: ignore[type-arg]
    data = yaml.safe_load((encodings_dir() / "models.yaml").read_text())
    if not isinstance(data, dict):
        raise UsageError("encodings/models.yaml must map model names to entries")
    return data


def model_names() -> list[str]:
    return sorted(_registry())


# The kernel's own model (LKMM): not built in yet, but a test may already record its answer.
KERNEL_MODEL = "lkmm"


def validate_expectations(test: Litmus) -> None:
    """Refuse an expectation for a model nobody knows (a misspelt `x86tso` would otherwise
    never be judged, silently).  The front end records where each model name was written
    (`expected_at`) but cannot check it: model names live here, past the front ends."""
    known = model_names()
    for model, pos in test.expected_at:
        if model not in known and model != KERNEL_MODEL:
            close = difflib.get_close_matches(model, [*known, KERNEL_MODEL], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InputError(pos, f"unknown model {model!r} in 'expected' ({hint}known: "
                             f"{', '.join(sorted([*known, KERNEL_MODEL]))})")


@cache
def _prelude() -> tuple[CatModel, ...]:
    return (load_model(encodings_dir() / "stdlib.cat"),)


# Native dialect columns used when a user's own model file is given.
_DEFAULT_COMPILE = (
    ("C", "kernel-c.tbl:C"),
    ("X86", "x86.tbl:X86"),
    ("X86_64", "x86.tbl:X86"),
    ("AArch64", "aarch64.tbl:AArch64"),
)


@cache
def resolve_model(name_or_path: str, target: str | None = None) -> ModelSpec:
    """A built-in model by name (`sc`, `x86-tso`, ...) or a user's `.cat` file.

    `target` (a column of kernel-c.tbl, e.g. "x86-64") says how a user's model compiles C tests.
    """
    reg = _registry()
    if name_or_path in reg:
        entry = reg[name_or_path]
        cat = load_model(encodings_dir() / entry["cat"], (encodings_dir(),))
        compile_ = tuple(sorted((str(k), str(v)) for k, v in entry.get("compile", {}).items()))
        kernel_result = str(entry.get("kernel-result", "exact"))
        if kernel_result not in ("exact", "hardware"):
            raise UsageError(f"encodings/models.yaml: {name_or_path}: kernel-result must be exact or hardware")
        check_scope((*_prelude(), cat), EXECUTION_NAMES | all_tags())
        return ModelSpec(name_or_path, cat, _prelude(), compile_, kernel_result)
    path = Path(name_or_path)
    try:
        if not path.is_file():
            raise UsageError(
                f"unknown model {name_or_path!r}: use one of {', '.join(model_names())} or a path to a .cat file"
            )
        cat = load_model(path, (encodings_dir(),))
    except OSError as e:  # a name too long, a file that cannot be read
        raise UsageError(f"cannot read the model {name_or_path}: {e.strerror}") from None
    compile_ = _DEFAULT_COMPILE
    if target is not None:
        compile_ = (("C", f"kernel-c.tbl:{target}"),) + _DEFAULT_COMPILE[1:]
    check_scope((*_prelude(), cat), EXECUTION_NAMES | all_tags())
    return ModelSpec(path.stem, cat, _prelude(), compile_)


@cache
def all_tags() -> frozenset[str]:
    """Every tag any mapping table can attach (a model may name tags no event carries)."""
    tags: set[str] = set()
    for table in encodings_dir().glob("*.tbl"):
        for mapping in _table(str(table)).values():
            for _, recipe in mapping.rows:
                for item in recipe:
                    tags.update(item.tags)
    return frozenset(tags)
