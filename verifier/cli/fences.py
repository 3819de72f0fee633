"""`verifier fences` and `verifier explain`: the cheapest barriers that make a test safe, and
which of a safe test's barriers carry its proof."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from verifier.analyses.check import check
from verifier.analyses.explain import explain
from verifier.analyses.knobs import Knob, Menu, load_menu, read_costs
from verifier.analyses.registry import AUTO, ModelSpec
from verifier.analyses.synth import Synthesis, synthesize, unreachable
from verifier.cli.batch import applicable as applicable_models
from verifier.cli.batch import models_of
from verifier.cli.options import seconds
from verifier.errors import InputError, UsageError
from verifier.frontends import is_yaml_path, parse_file, parse_text
from verifier.program.ast import Litmus
from verifier.reports.fenced import fenced_text
from verifier.reports.synthesis import explanation_json, explanation_text, synthesis_json, synthesis_text

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_UNKNOWN = 0, 1, 2, 3


def add_parsers(sub: argparse._SubParsersAction, model_help: str) -> None:  # type: ignore[type-arg]
    f = sub.add_parser(
        "fences",
        help="find the cheapest fences/upgrades that make a test's outcome unreachable, with proof of optimality",
    )
    f.add_argument("files", nargs="+", metavar="FILE")
    f.add_argument("--model", default=AUTO, help=model_help)
    f.add_argument("--target", default=None, help="with a .cat file: how C tests compile (C, x86-64 or arm64)")
    f.add_argument("--all", action="store_true", help="every minimum-cost set, not just one")
    f.add_argument("--costs", metavar="FILE", help="YAML mapping option name -> cost, overriding encodings/fences.yaml")
    f.add_argument("--sites", metavar="SITES",
                   help="where fences may go: comma-separated P<thread>:<line> (after that line of the file) "
                        "or names of the YAML file's fence sites; default: the YAML file's sites, "
                        "else after every access followed by another")
    f.add_argument("--write", metavar="DIR", help="write the fenced test(s) there, in the input's dialect, "
                                                  "each checked again from scratch")
    f.add_argument("--json", action="store_true", help="one JSON object per (file, model)")
    f.add_argument("--timeout", type=seconds, default=300.0, metavar="S", help="seconds per (file, model) (default 300)")
    e = sub.add_parser("explain", help="which ordering sources an unreachable outcome needs, which are redundant, "
                                       "which could be weaker")
    e.add_argument("files", nargs="+", metavar="FILE")
    e.add_argument("--model", default=AUTO, help=model_help)
    e.add_argument("--target", default=None, help="with a .cat file: how C tests compile (C, x86-64 or arm64)")
    e.add_argument("--json", action="store_true", help="one JSON object per (file, model)")
    e.add_argument("--timeout", type=seconds, default=300.0, metavar="S", help="seconds per (file, model) (default 300)")


def run_fences(args: argparse.Namespace) -> int:
    return _each(args, _fences)


def run_explain(args: argparse.Namespace) -> int:
    return _each(args, _explain)


Job = Callable[[str, Litmus, ModelSpec, Menu, argparse.Namespace, bool], int]


def _each(args: argparse.Namespace, job: Job) -> int:
    """Run `job(path, test, spec, menu, args, several_models)` -> exit status over every
    (file, model)."""
    try:
        models = [spec for _, spec in models_of(args.model, args.target)]
        costs = read_costs(args.costs) if getattr(args, "costs", None) else None
        if getattr(args, "write", None):
            Path(args.write).mkdir(parents=True, exist_ok=True)
    except (UsageError, InputError) as e:
        print(f"verifier: {e}" if isinstance(e, UsageError) else str(e), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"verifier: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    worst = EXIT_OK
    for path in args.files:
        try:
            test = parse_file(path)
            menu = load_menu(test.arch, costs)
        except InputError as e:
            print(str(e), file=sys.stderr)
            worst = max(worst, EXIT_BAD_INPUT)
            continue
        except OSError as e:
            print(f"{path}: cannot read: {e.strerror}", file=sys.stderr)
            worst = max(worst, EXIT_BAD_INPUT)
            continue
        applicable = applicable_models(models, test.arch, args.model == AUTO)
        if not applicable:
            print(f"{path}:1:1: none of the models {', '.join(m.name for m in models)} applies to {test.arch} tests",
                  file=sys.stderr)
            worst = max(worst, EXIT_BAD_INPUT)
            continue
        for spec in applicable:
            try:
                status = job(path, test, spec, menu, args, len(applicable) > 1)
            except BrokenPipeError:
                raise  # the reader went away: main() stops quietly
            except InputError as e:
                print(str(e), file=sys.stderr)
                status = EXIT_BAD_INPUT
            except OSError as e:
                print(f"verifier: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
                status = EXIT_BAD_INPUT
            except Exception as e:  # noqa: BLE001 - a bug of ours: say so, no traceback, no answer
                print(f"{path}: internal error under model {spec.name}: {type(e).__name__}: {e} "
                      "(please report; no answer was given)", file=sys.stderr)
                status = EXIT_FAIL
            worst = _combine(worst, status)
    return worst


def _combine(a: int, b: int) -> int:
    # Bad input beats a failure beats an unknown beats success, as in `check`.
    rank = {EXIT_OK: 0, EXIT_UNKNOWN: 1, EXIT_FAIL: 2, EXIT_BAD_INPUT: 3}
    return a if rank[a] >= rank[b] else b


# --------------------------------------------------------------------------- fences


def _sites(path: str, test: Litmus, spec_text: str | None) -> list[tuple[int, int]] | None:
    named: dict[str, tuple[int, int]] = {}
    if is_yaml_path(path):
        from verifier.frontends.yaml_format import read_yaml

        named = {f.name: (f.thread, f.file_line) for f in read_yaml(Path(path).read_text(), path).fences}
    if spec_text is None:
        return list(named.values()) or None
    out: list[tuple[int, int]] = []
    for item in (x.strip() for x in spec_text.split(",")):
        m = re.fullmatch(r"P(\d+):(\d+)", item)
        if m:
            tid, line = int(m[1]), int(m[2])
            if tid not in {t.tid for t in test.threads}:
                raise UsageError(f"--sites {item}: {path} has no thread P{tid}")
            out.append((tid, line))
        elif item in named:
            out.append(named[item])
        elif item:
            hint = f" or one of the file's sites ({', '.join(named)})" if named else ""
            raise UsageError(f"--sites: {item!r} is not P<thread>:<line>{hint}")
    return out


def _fences(path: str, test: Litmus, spec: ModelSpec, menu: Menu, args: argparse.Namespace, several: bool) -> int:
    try:
        sites = _sites(path, test, args.sites)
    except UsageError as e:
        print(f"verifier: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    text = Path(path).read_text()

    def renders(k: Knob) -> bool:
        # Only changes the writer can put in the file are candidates, so that the answer and
        # the written file agree (not rendered: a fence after an unbraced `if` body).
        try:
            fenced_text(text, test, [k])
        except ValueError:
            return False
        return True

    s = synthesize(test, spec, menu, sites=sites, all_solutions=args.all, timeout=args.timeout, allow=renders)
    if s.status in ("fixed", "already") and (s.recheck is None or not unreachable(test, s.recheck)):
        # The solver's answer and a fresh check disagree: a bug of ours.  No claim is made.
        print(f"{path}: internal error under model {spec.name}: the chosen changes did not survive a fresh "
              "check (please report; no answer was given)", file=sys.stderr)
        return EXIT_FAIL
    written = _write(path, test, spec, s, Path(args.write), several) if args.write and s.status == "fixed" else []
    if args.json:
        row = synthesis_json(s)
        row["written"] = written
        print(json.dumps(row), flush=True)
    else:
        print(synthesis_text(s))
        for w in written:
            print(f"wrote {w['path']} (checked again: {w['observation']})")
        print(flush=True)
    if s.status == "unknown":
        return EXIT_UNKNOWN
    if any(not w["unreachable"] for w in written):
        return EXIT_FAIL
    return EXIT_OK if s.status in ("fixed", "already") else EXIT_FAIL


def _write(
    path: str, test: Litmus, spec: ModelSpec, s: Synthesis, folder: Path, several: bool
) -> list[dict[str, object]]:
    """The fenced files in the input's dialect, each parsed and checked again from scratch.
    Named as the input; `.fixN` for the N-th alternative, `.MODEL` when several models ran."""
    text = Path(path).read_text()
    name = Path(path).name
    out: list[dict[str, object]] = []
    for n, alt in enumerate(s.alternatives, 1):
        target = folder / _named(name, ([spec.name] if several else []) + ([f"fix{n}"] if n > 1 else []))
        new = fenced_text(text, test, [s.knobs[i] for i in alt], reparse=_reader(str(target)))
        new = retarget(new, path, spec.name, "Always" if test.condition.kind == "forall" else "Never")
        target.write_text(new)
        fresh = check(parse_text(new, str(target)), spec)
        out.append({"path": str(target), "observation": fresh.observation, "unreachable": unreachable(test, fresh)})
        if not unreachable(test, fresh):
            print(f"{target}: internal error: the written test is still reachable under {spec.name} "
                  f"({fresh.observation}); please report", file=sys.stderr)
    return out


def _reader(path: str) -> Callable[[str], Litmus]:
    return lambda text: parse_text(text, path)


def _named(name: str, parts: list[str]) -> str:
    if not parts:
        return name
    for suffix in (".litmus.yaml", ".litmus.yml", ".litmus", ".yaml", ".yml"):
        if name.endswith(suffix):
            return f"{name[: -len(suffix)]}.{'.'.join(parts)}{suffix}"
    return f"{name}.{'.'.join(parts)}"


def retarget(text: str, path: str, model: str, word: str) -> str:
    """The fenced file's recorded answer for `model` becomes `word` (other models' answers
    and the kernel's plain `Result:` stay: the changes were proved for this model only)."""
    if is_yaml_path(path):
        lines = text.split("\n")
        inside = False
        for i, line in enumerate(lines):
            if re.match(r"expected\s*:", line):
                inside = True
                continue
            if inside and line and not line[0].isspace():
                inside = False
            if inside:
                lines[i] = re.sub(rf"^(\s+{re.escape(model)}\s*:\s*)\w+", rf"\g<1>{word}", line)
        return "\n".join(lines)
    return re.sub(rf"(Result\({re.escape(model)}\)\s*:\s*)\w+", rf"\g<1>{word}", text)


# --------------------------------------------------------------------------- explain


def _explain(path: str, test: Litmus, spec: ModelSpec, menu: Menu, args: argparse.Namespace, several: bool) -> int:
    e = explain(test, spec, menu, timeout=args.timeout)
    if args.json:
        print(json.dumps(explanation_json(e)), flush=True)
    else:
        print(explanation_text(e))
        print(flush=True)
    return {"explained": EXIT_OK, "reachable": EXIT_FAIL, "unknown": EXIT_UNKNOWN}[e.status]
