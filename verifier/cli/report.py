"""`verifier report ROWS --html DIR`: a batch's rows (`batch --json`, or `compare --json`'s
rows written by `batch`) as one static HTML page, DIR/index.html (reports/html.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from verifier.analyses.proof import prove
from verifier.analyses.registry import resolve_model
from verifier.errors import InputError, UsageError
from verifier.frontends import parse_file
from verifier.reports.html import report_html
from verifier.reports.rows import Row, proof_json
from verifier.runner.run import read_rows

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    r = sub.add_parser("report", help="render batch rows (batch --json) as one static HTML page")
    r.add_argument("rows", metavar="ROWS", help="a JSON-lines file of rows, as `batch --json FILE` writes")
    r.add_argument("--html", required=True, metavar="DIR", help="write DIR/index.html")
    r.add_argument("--title", default=None, help="the page's title (default: the rows file's name)")
    r.add_argument("--no-proof", action="store_true",
                   help="do not work out the axioms each Never rests on (done by default, a few solver calls each)")


def run(args: argparse.Namespace) -> int:
    try:
        rows = read_rows(args.rows, repair=False)
        if not rows and not Path(args.rows).is_file():
            raise UsageError(f"cannot read {args.rows}: no such file")
        latest: dict[tuple[str, str], Row] = {(str(r["file"]), str(r["model"])): r for r in rows}
        rows = list(latest.values())
        sources: dict[str, str] = {}
        for f in {str(r["file"]) for r in rows}:
            try:
                sources[f] = Path(f).read_text(errors="replace")
            except OSError:
                pass
        proofs = {} if args.no_proof else _proofs(rows)
        out = Path(args.html)
        out.mkdir(parents=True, exist_ok=True)
        page = out / "index.html"
        page.write_text(report_html(rows, sources, proofs, args.title or f"verifier report: {Path(args.rows).name}"),
                        encoding="utf-8")
    except UsageError as e:
        print(f"verifier: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"verifier: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {page} ({len(rows)} rows)")
    return EXIT_OK


def _proofs(rows: list[Row]) -> dict[tuple[str, str], object]:
    """The axioms each Never rests on; a row whose test or model cannot be read again gets none."""
    out: dict[tuple[str, str], object] = {}
    for r in rows:
        if r.get("observation") != "Never":
            continue
        key = (str(r["file"]), str(r["model"]))
        if r.get("proof") is not None:
            out[key] = r["proof"]
            continue
        try:
            out[key] = proof_json(prove(parse_file(key[0]), resolve_model(key[1]), timeout=30.0))
        except (InputError, UsageError, OSError):
            continue
    return out
