"""`verifier compare`: one table, a row per test and a column per model.

The question a reviewer asks of a protocol variant is "on which models is this outcome
possible?": each cell is the observation under that model, marked against the expectation
the test records.  The checks run on the batch workers, so a library compares in parallel.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from verifier.cli.batch import EXIT_BAD_INPUT, exit_status, models_of, unlisted_rows
from verifier.cli.options import seconds
from verifier.errors import UsageError
from verifier.reports.rows import Row
from verifier.runner.discover import discover
from verifier.runner.run import default_workers, execute, plan

MARKS = {"pass": "", "forgiven": " ~", "fail": " !", "unjudged": " ?"}
LEGEND = ("no mark: as expected   ~: forgiven (LKMM's Sometimes, stronger here)   !: mismatch   "
          "?: no expectation   -: the model does not apply to the dialect")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    c = sub.add_parser("compare", help="a table of observations: a row per test, a column per model")
    c.add_argument("paths", nargs="+", metavar="FILE", help="files, directories (recursively) or globs")
    c.add_argument("--model", "--models", dest="models", default="sc,x86-tso,armv8,lkmm",
                   help="comma-separated models, one column each (default sc,x86-tso,armv8,lkmm: strongest "
                        "first; --models is the same option)")
    c.add_argument("--target", default=None, help="with a .cat file: how C tests compile (a kernel-c.tbl column)")
    c.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="worker processes (default: one per core)")
    c.add_argument("--timeout", type=seconds, default=120.0, metavar="S", help="seconds per (file, model); 0: none")
    c.add_argument("--json", action="store_true", help="the table as one JSON object")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except UsageError as e:
        print(f"verifier: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _run(args: argparse.Namespace) -> int:
    models = models_of(args.models, args.target)
    names = [spec.name for _, spec in models]
    found = discover(args.paths)
    if found.missing:
        raise UsageError(f"no litmus files at {', '.join(found.missing)}")
    timeout = args.timeout or None
    files = found.files  # the table has a row per file anyway
    tasks = plan(files, models, target=args.target, states=False, timeout=timeout, memory_mb=2048,
                 done=set())
    rows = unlisted_rows(found, models, set())
    rows.extend(ran.row for ran in execute(tasks, workers=args.jobs or default_workers(), timeout=timeout,
                                           memory_mb=2048))
    table = build_table([*(folder for folder, _ in found.unlisted), *files], names, rows)
    if args.json:
        print(json.dumps({"models": names, "rows": table}, indent=1))
    else:
        print(render(table, names))
    return exit_status(rows)


def build_table(files: list[str], models: list[str], rows: list[Row]) -> list[dict[str, Any]]:
    """Per file (in the given order): its test name and, per model, the cell or None."""
    by_key = {(r["file"], r["model"]): r for r in rows}
    table = []
    for f in files:
        cells: dict[str, Any] = {}
        test = None
        for m in models:
            r = by_key.get((f, m))
            if r is None or r.get("outcome") == "skipped":
                cells[m] = None
                continue
            test = test or r.get("test")
            cells[m] = {"observation": r.get("observation"), "expected": r.get("expected"),
                        "outcome": r.get("outcome"), "note": r.get("note")}
        table.append({"file": f, "test": test, "cells": cells})
    return table


def _cell(c: dict[str, Any] | None) -> str:
    if c is None:
        return "-"
    outcome = c["outcome"]
    if outcome in ("error", "unsupported"):
        return outcome.upper()
    if outcome == "unknown":
        return "Unknown"
    return f"{c['observation']}{MARKS.get(outcome, '')}"


def render(table: list[dict[str, Any]], models: list[str]) -> str:
    head = ["test", *models]
    body = [[t["test"] or t["file"], *(_cell(t["cells"][m]) for m in models)] for t in table]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)).rstrip() for r in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    problems = [
        f"  {t['file']} [{m}]: {c['note']}"
        for t in table for m in models
        if (c := t["cells"][m]) is not None and c["outcome"] in ("fail", "error", "unsupported", "unknown")
    ]
    lines.append("")
    lines.append(LEGEND)
    if problems:
        lines.append("not as expected:")
        lines.extend(problems)
    return "\n".join(lines)
