"""The `verifier` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import z3

from verifier.analyses.check import check
from verifier.analyses.proof import prove
from verifier.analyses.registry import AUTO, model_names
from verifier.cli import batch, compare, fences, report
from verifier.cli.options import megabytes, seconds
from verifier.errors import InputError, UsageError
from verifier.frontends import parse_file
from verifier.reports.dot import picture_stem, write_dot
from verifier.reports.herd import herd_block
from verifier.reports.rows import Row, problem_row, proof_json, verdict_json
from verifier.reports.text import row_text
from verifier.runner.memory import memory_cap

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_UNKNOWN = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"verifier: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="verifier", description="Prove or refute litmus-test conditions under memory models.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="check litmus tests against a model (herd7's Observation, with proof)")
    model_help = (f"model name ({', '.join(model_names())}), a .cat file, or a herd7 .cfg file "
                  "(e.g. the kernel's linux-kernel.cfg); comma-separate several.  Default: auto, each "
                  "test under its dialect's model: lkmm for kernel C, x86-tso for X86/X86_64, armv8 "
                  "for AArch64")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--model", default=AUTO, help=model_help)
    c.add_argument("--target", default=None,
                   help="with a .cat file: how C tests compile "
                        "(a column of encodings/kernel-c.tbl: C, x86-64 or arm64)")
    c.add_argument("--states", action="store_true", help="list every reachable final state")
    c.add_argument("--json", action="store_true", help="one JSON object per (file, model) on stdout")
    c.add_argument("--no-proof", action="store_true",
                   help="for a Never, skip working out which axioms it rests on (done by default: a few "
                        "solver calls, each exact)")
    c.add_argument("--herd", action="store_true",
                   help="print herd7's output for each (file, model) (implies --states; with several models "
                        "each block is preceded by 'Model NAME'); verifier-herd7 is herd7's whole command line")
    c.add_argument("--events", action="store_true",
                   help="witnesses also show each event as the model sees it (kind, tags, mapping class)")
    c.add_argument("--timeout", type=seconds, default=120.0, metavar="S",
                   help="seconds per (file, model); Unknown past it (default 120, as batch)")
    c.add_argument("--memory", type=megabytes, default=2048, metavar="MB",
                   help="address-space cap while checking; Unknown past it (default 2048, as batch; 0: none)")
    c.add_argument("--unroll", type=_bound, default=None, metavar="N",
                   help="times a backward jump may be taken (herd7's -unroll; default 2; a test's Unroll=N wins)")
    c.add_argument("--dot", metavar="FILE",
                   help="draw the witness as a Graphviz graph in FILE (and FILE.svg when Graphviz is installed)")
    batch.add_parser(sub, model_help)
    compare.add_parser(sub)
    fences.add_parsers(sub, model_help)
    report.add_parser(sub)
    return p


def _bound(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of times, found {text!r}")
    return int(text)


def passed(row: Row) -> bool:
    """Exit-status rule: the recorded expectation if any (see analyses/judge.py), else the
    condition must hold (`exists`: unreachable; `~exists`/`forall`: Ok)."""
    if row["matches"] is not None:
        return bool(row["matches"])
    if str(row["condition"]).startswith("exists"):
        return row["observation"] == "Never"
    return row["result"] == "Ok"


def _draw(path: Path, rows: list[dict]) -> None:  # type: ignore[type-arg]
    """`--dot FILE`: the witness in FILE; with several, FILE gets `.TEST.MODEL` before its suffix."""
    if not rows:
        print("note: no witness to draw (no checked condition is reachable)", file=sys.stderr)
    for row in rows:
        target = path
        if len(rows) > 1:
            target = path.with_name(f"{path.stem}.{picture_stem(row)}{path.suffix or '.dot'}")
        for note in write_dot(row, target):
            print(note, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`verifier check ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAIL


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "batch":
        return batch.run(args)
    if args.command == "compare":
        return compare.run(args)
    if args.command == "fences":
        return fences.run_fences(args)
    if args.command == "explain":
        return fences.run_explain(args)
    if args.command == "report":
        return report.run(args)
    try:
        models = [spec for _, spec in batch.models_of(args.model, args.target)]
    except (UsageError, InputError) as e:
        print(f"verifier: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    bad = failed = unknown = False
    drawn: list[dict] = []  # type: ignore[type-arg]
    cap = args.memory or None
    for path in args.files:
        try:
            with memory_cap(cap):
                test = parse_file(path)
        except InputError as e:
            print(str(e), file=sys.stderr)
            bad = True
            continue
        except OSError as e:
            print(f"{path}: cannot read: {e.strerror}", file=sys.stderr)
            bad = True
            continue
        except MemoryError:
            print(f"{path}: Unknown: the memory cap was reached while reading it (--memory {cap})", file=sys.stderr)
            unknown = True
            continue
        # With several models, a model that does not apply to this dialect (x86-tso and an
        # AArch64 test) is skipped, so one command can check a mixed library; with one model,
        # or when none applies, it is an error.
        applicable = batch.applicable(models, test.arch, args.model == AUTO)
        if not applicable:
            names = ", ".join(m.name for m in models)
            print(f"{path}:1:1: none of the models {names} applies to {test.arch} tests", file=sys.stderr)
            bad = True
            continue
        for spec in applicable:
            try:
                with memory_cap(cap):
                    v = check(test, spec, want_states=args.states or args.herd, timeout=args.timeout,
                              unroll=args.unroll)
                row = verdict_json(v)
                if v.observation == "Never" and not args.no_proof and not args.herd:
                    row["proof"] = proof_json(prove(test, spec, timeout=min(args.timeout, 60.0), unroll=args.unroll))
            except InputError as e:
                print(str(e), file=sys.stderr)
                bad = True
                continue
            except (UsageError, OSError) as e:
                print(f"verifier: {e}", file=sys.stderr)
                bad = True
                continue
            except MemoryError:
                row = problem_row(path, spec.name, "unknown", f"the memory cap was reached (--memory {cap})",
                                  test=test.name, reason="memory")
            except Exception as e:  # noqa: BLE001 - a bug of ours: say so, no traceback, no verdict
                if not (isinstance(e, z3.Z3Exception) and "memory" in str(e).lower()):
                    print(f"{path}: internal error under model {spec.name}: {type(e).__name__}: {e} "
                          "(please report; no verdict was given)", file=sys.stderr)
                    bad = True
                    continue
                row = problem_row(path, spec.name, "unknown", f"Z3 reached the memory cap (--memory {cap})",
                                  test=test.name, reason="memory")
            if row.get("witness") is not None:
                drawn.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
            elif args.herd:
                several = len(models) > 1 and args.model != AUTO
                print((f"Model {spec.name}\n" if several else "") + herd_block(row), end="", flush=True)
            else:
                print(row_text(row, args.states, args.events), flush=True)
            if row["observation"] == "Unknown":
                unknown = True
            elif not passed(row):
                failed = True
    if args.dot:
        try:
            _draw(Path(args.dot), drawn)
        except OSError as e:
            print(f"verifier: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if bad:
        return EXIT_BAD_INPUT
    if failed:
        return EXIT_FAIL
    return EXIT_UNKNOWN if unknown else EXIT_OK
