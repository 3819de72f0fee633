"""A batch (or compare) as one static HTML page: the table of tests x models with outcomes,
then per test its source beside each model's answer: the witness as SVG (reports/svg.py),
or the axioms a Never rests on (analyses/proof.py, as `proof_json` gives them).  One file,
no scripts, no external resources: it can be attached to a mail or published by CI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from verifier.reports.rows import Row
from verifier.reports.svg import witness_svg
from verifier.reports.text import proof_lines

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 32px; border-top: 1px solid #ccc; padding-top: 12px; }
table.summary { border-collapse: collapse; margin: 12px 0; }
table.summary th, table.summary td { border: 1px solid #bbb; padding: 4px 10px; font-size: 13px; }
table.summary th { background: #f0f0f0; }
td.Never { background: #e3f4e3; } td.Sometimes, td.Always { background: #fdf0dc; }
td.unknown, td.unsupported, td.error { background: #ececec; } td.skipped { color: #999; }
td.fail, td.error { outline: 2px solid #c62828; outline-offset: -2px; font-weight: bold; }
.test { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
pre.source { background: #f7f7f7; border: 1px solid #ddd; padding: 8px; font-size: 12px; max-width: 640px;
             overflow-x: auto; }
.answer { border: 1px solid #ddd; padding: 8px; margin-bottom: 12px; }
.answer h3 { font-size: 14px; margin: 0 0 6px 0; }
pre.proof { font-size: 12px; white-space: pre-wrap; max-width: 760px; }
"""


def _anchor(file: str) -> str:
    return "t-" + "".join(ch if ch.isalnum() else "-" for ch in file)


def report_html(rows: Sequence[Row], sources: Mapping[str, str], proofs: Mapping[tuple[str, str], Any],
                title: str = "verifier report") -> str:
    """The page.  `sources`: each test file's text; `proofs`: (file, model) -> proof_json."""
    files = sorted({str(r["file"]) for r in rows})
    models = sorted({str(r["model"]) for r in rows})
    by_key = {(str(r["file"]), str(r["model"])): r for r in rows}
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{escape(title)}</title>",
           f"<style>{_CSS}</style></head><body>", f"<h1>{escape(title)}</h1>",
           f"<p>{len(files)} tests, {len(models)} models: {escape(', '.join(models))}.</p>",
           '<table class="summary"><thead><tr><th>test</th>'
           + "".join(f"<th>{escape(m)}</th>" for m in models) + "</tr></thead><tbody>"]
    for f in files:
        cells = []
        for m in models:
            r = by_key.get((f, m))
            if r is None:
                cells.append("<td></td>")
                continue
            outcome = str(r.get("outcome"))
            text = str(r.get("observation") or outcome)
            # coloured by the answer (Never green, reachable amber), outlined when not as expected
            css = f"{escape(str(r.get('observation') or ''))} {escape(outcome)}"
            cells.append(f'<td class="{css}">{escape(text)} <small>({escape(outcome)})</small></td>')
        out.append(f'<tr class="test-row"><td><a href="#{_anchor(f)}">{escape(f)}</a></td>{"".join(cells)}</tr>')
    out.append("</tbody></table>")
    for f in files:
        out.append(f'<h2 id="{_anchor(f)}">{escape(f)}</h2><div class="test">')
        out.append(f'<pre class="source">{escape(sources.get(f, "(source not readable)"))}</pre><div>')
        for m in models:
            r = by_key.get((f, m))
            if r is not None and r.get("outcome") != "skipped":
                out.append(_answer(r, proofs.get((f, m))))
        out.append("</div></div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _answer(r: Row, proof: Any) -> str:
    head = (f"<h3>{escape(str(r['model']))}: {escape(str(r.get('observation')))} "
            f"<small>{escape(str(r.get('condition') or ''))} · {escape(str(r.get('outcome')))}</small></h3>")
    body = ""
    if r.get("witness") is not None:
        body = witness_svg(r)
    elif proof is not None:
        body = '<pre class="proof">' + escape("\n".join(proof_lines(proof))) + "</pre>"
    elif r.get("note") and r.get("observation") in (None, "Unknown"):
        body = f"<p>{escape(str(r['note']))}</p>"
    return f'<div class="answer">{head}{body}</div>'
