"""Find models and mapping tables: `encodings/` (data, not code) plus users' own files."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import yaml

from verifier.analyses.kernel_macros import def_mapping
from verifier.cat.bell import annotation_sets
from verifier.cat.herd_files import HerdConfig, load_cfg
from verifier.cat.parser import load_model
from verifier.cat.scope import EXECUTION_NAMES
from verifier.cat.syntax import CatModel
from verifier.errors import InputError, Pos, Unsupported, UsageError
from verifier.events.mapping import Mapping, load_table
from verifier.program.ast import Litmus
from verifier.program.kernel_def import load_def
from verifier.wmm.compile import compile_program
from verifier.wmm.program import RelProgram


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
    # Mappings of the model's own (a herd7 .def file: dialect -> column), before `compile`.
    own: tuple[tuple[str, Mapping], ...] = ()
    # The sets a bell file declares (one per annotation), on top of every table's tags.
    bell_sets: frozenset[str] = frozenset()

    @cached_property
    def program(self) -> RelProgram:
        """The model compiled (`wmm/compile.py`): once per model, not per test.  Loading a
        model asks for it, so a model's errors are reported before any test runs."""
        return compile_program((*self.prelude, self.cat), EXECUTION_NAMES | self.tags, self.tags)

    @property
    def tags(self) -> frozenset[str]:
        """Every tag name the model may use as a set: no event of a test may carry it."""
        return all_tags() | self.bell_sets

    def applies_to(self, arch: str) -> bool:
        """Whether the model knows how to compile tests of this dialect."""
        return arch in dict(self.compile) or arch in dict(self.own)

    def mapping_for(self, arch: str, pos: Pos) -> Mapping:
        if arch in dict(self.own):
            return dict(self.own)[arch]
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


# The kernel's memory model (LKMM): `encodings/lkmm/`, our own text of it.
KERNEL_MODEL = "lkmm"

# `--model auto` (the default): each test under its own dialect's model, as herd7 picks a
# model by the test's architecture; kernel C under LKMM, what a kernel developer asks first.
AUTO = "auto"
DIALECT_MODELS: dict[str, str] = {"C": KERNEL_MODEL, "X86": "x86-tso", "X86_64": "x86-tso", "AArch64": "armv8"}


def dialect_model(arch: str) -> str:
    """The model `--model auto` checks a test of this dialect under."""
    return DIALECT_MODELS[arch]


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
        kernel_result = str(entry.get("kernel-result", "exact"))
        if kernel_result not in ("exact", "hardware"):
            raise UsageError(f"encodings/models.yaml: {name_or_path}: kernel-result must be exact or hardware")
        if "cfg" in entry:  # a model read as herd7 reads a .cfg (lkmm: macros, bell, cat)
            return _herd_config(encodings_dir() / entry["cfg"], target, name=name_or_path,
                                kernel_result=kernel_result)
        cat = load_model(encodings_dir() / entry["cat"], library())
        compile_ = tuple(sorted((str(k), str(v)) for k, v in entry.get("compile", {}).items()))
        spec = ModelSpec(name_or_path, cat, _prelude(), compile_, kernel_result)
        spec.program  # noqa: B018 -- compiled now: its errors are the model's
        return spec
    path = Path(name_or_path)
    try:
        if not path.is_file():
            raise UsageError(
                f"unknown model {name_or_path!r}: use one of {', '.join(model_names())} or a path to a "
                ".cat or .cfg file"
            )
        if path.suffix == ".cfg":
            return _herd_config(path, target)
        cat = load_model(path, library())
    except OSError as e:  # a name too long, a file that cannot be read
        raise UsageError(f"cannot read the model {name_or_path}: {e.strerror}") from None
    compile_ = _DEFAULT_COMPILE
    if target is not None:
        compile_ = (("C", f"kernel-c.tbl:{target}"),) + _DEFAULT_COMPILE[1:]
    spec = ModelSpec(path.stem, cat, _prelude(), compile_)
    try:
        spec.program  # noqa: B018 -- compiled now: its errors are the model's
    except InputError as e:
        cfg = _cfg_naming(path)
        if cfg is None or "unbound name" not in str(e):
            raise
        raise InputError(e.pos, f"{e.message} (the model is read with its bell file through {cfg.name}: "
                                f"--model {cfg})") from None
    return spec


def _cfg_naming(model: Path) -> Path | None:
    """A .cfg file beside `model` that names it (the kernel's linux-kernel.cfg names
    linux-kernel.cat, whose names come from linux-kernel.bell)."""
    for cfg in sorted(model.parent.glob("*.cfg")):
        try:
            lines = cfg.read_text(errors="replace").splitlines()
        except OSError:
            continue
        if any(line.split() == ["model", model.name] for line in lines):
            return cfg
    return None


def library() -> tuple[Path, ...]:
    """Where a model's `include`s are looked for after its own folder: our own files of the
    names herd7's library gives (`encodings/herd/`: cos.cat, cross.cat, ...), and `encodings/`."""
    return (encodings_dir() / "herd", encodings_dir())


# The sets herd7's C front end gives beyond R, W, F, M, IW, FW (herd's CAction.arch_sets):
# the accesses of atomic operations, and its lock events (none yet: lock primitives are
# refused under a .def model, so these are empty, as in a test without locks).
_HERD_C_SETS = frozenset({"RMW", "X", "LK", "LKR", "LKW", "LS", "LF", "UL", "RL", "RU"})


def _herd_config(path: Path, target: str | None = None, *, name: str | None = None,
                 kernel_result: str = "exact") -> ModelSpec:
    """A model as herd7's `-conf FILE.cfg` makes it: bell file, then cat file (variants
    applied), with C primitives compiled by the .cfg's macro file."""
    cfg = load_cfg(path, library())
    return herd_model(cfg, target, name=name or path.stem, kernel_result=kernel_result)


def herd_model(cfg: HerdConfig, target: str | None = None, *, name: str, kernel_result: str = "exact",
               search: tuple[Path, ...] = ()) -> ModelSpec:
    """A model from herd7's parts (a .cfg's, or `verifier-herd7`'s -model/-bell/-macros):
    bell file, then cat file (variants applied), C primitives compiled by the macro file;
    `include`s are looked for in `search` (herd7's -I) before our library."""
    path = cfg.path
    search = (*search, *library())
    parts = [load_model(f, search, cfg.variants) for f in (cfg.bell, cfg.model) if f is not None]
    cat = CatModel(parts[-1].title, tuple(s for m in parts for s in m.stmts), parts[-1].path)
    bell_sets = annotation_sets(parts) | _HERD_C_SETS
    own: tuple[tuple[str, Mapping], ...] = ()
    if cfg.macros is not None:
        if "lkmmv2" not in cfg.variants:
            raise Unsupported(Pos(str(path), 1, 1), "unsupported: herd7's lkmmv1 reading of kernel C atomics "
                                                    "(the .cfg has no 'variant lkmmv2')")
        own = (("C", def_mapping(load_def(cfg.macros), cfg.macros)),)
    # A model with C macros is a model of C tests (herd7 refuses the kernel's on AArch64:
    # `unbound var: LKR`); one without applies to every dialect, as a .cat file does.
    compile_ = () if own else _DEFAULT_COMPILE
    if target is not None:
        if own:
            raise UsageError(f"--target does not apply to {path.name}: its macro file compiles C tests")
        compile_ = (("C", f"kernel-c.tbl:{target}"),) + _DEFAULT_COMPILE[1:]
    spec = ModelSpec(name, cat, _prelude(), compile_, kernel_result, own=own, bell_sets=bell_sets)
    spec.program  # noqa: B018 -- compiled now: its errors are the model's
    return spec


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
