"""Rows (see `rows.py`) as JUnit XML, the format CI systems (GitLab, Jenkins, GitHub actions)
show as a test report: a failing verdict appears with its witness, without reading logs.

One `<testsuite>` per model inside `<testsuites>`; one `<testcase>` per (file, model) row:

- `fail` -> `<failure type="mismatch">`, its text the human rendering (`row_text`), witness
  included, so the report alone says which execution broke the expectation;
- `error` / `unsupported` -> `<error type="error"|"unsupported">`: the test could not be run,
  which CI tools keep apart from a wrong answer;
- `unknown` -> `<skipped>`: no verdict (timeout, memory), neither a pass nor a failure;
- `skipped` -> `<skipped>`: the model does not apply to the test's dialect;
- `pass` / `forgiven` / `unjudged` -> a plain testcase; forgiven and unjudged carry their note
  in `<system-out>` so that the leniency stays visible.

Built with ElementTree, which escapes markup; characters XML 1.0 cannot hold at all (control
characters from a binary file's name or a crashed worker's message) are replaced by U+FFFD.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import PurePath

from verifier.reports.rows import Row
from verifier.reports.text import row_text

# Characters not allowed anywhere in an XML 1.0 document (not even as character references).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(text: object) -> str:
    return _NOT_XML.sub("\ufffd", "" if text is None else str(text))


def classname(file: str) -> str:
    """The file's directory, dotted (`litmus/classic/C-SB.litmus` -> `litmus.classic`), the way
    CI tools group test cases; root, `.` and `..` parts are dropped (a file in the current
    directory gets `litmus`, as a grouping must not be empty)."""
    parts = [p for p in PurePath(file).parent.parts if p not in (".", "..") and p != PurePath(p).anchor]
    return ".".join(parts) or "litmus"


def case_name(row: Row) -> str:
    """`<test name> [<model>]`: the model in the name keeps the cases of one file apart in
    tools that flatten suites."""
    test = row.get("test") or PurePath(str(row["file"])).name
    return f"{test} [{row['model']}]"


def _seconds(x: float) -> str:
    return f"{x:.3f}"


def _testcase(suite: ET.Element, row: Row) -> str:
    """Append the row's testcase to `suite`; return its outcome as a JUnit category."""
    case = ET.SubElement(suite, "testcase", {
        "classname": _clean(classname(str(row["file"]))),
        "name": _clean(case_name(row)),
        "file": _clean(row["file"]),
        "time": _seconds(float(row.get("seconds") or 0.0)),
    })
    outcome = row.get("outcome")
    note = _clean(row.get("note"))
    if outcome == "fail":
        ET.SubElement(case, "failure", {"message": note, "type": "mismatch"}).text = _clean(row_text(row))
        return "failures"
    if outcome in ("error", "unsupported"):
        ET.SubElement(case, "error", {"message": note, "type": str(outcome)}).text = _clean(row_text(row))
        return "errors"
    if outcome in ("unknown", "skipped"):
        ET.SubElement(case, "skipped", {"message": note})
        return "skipped"
    if outcome in ("forgiven", "unjudged"):
        ET.SubElement(case, "system-out").text = f"{outcome}: {note}"
    return "passed"


def junit_xml(rows: Sequence[Row], *, name: str = "verifier", seconds: float | None = None) -> str:
    """The JUnit XML document for `rows`.

    `seconds` is the run's wall time for `<testsuites time>` (a parallel batch takes less than
    the sum of its rows); without it the sum is used.  Suites are ordered by model and cases by
    file, so that the same rows always give the same document."""
    root = ET.Element("testsuites", {"name": _clean(name)})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    by_model: dict[str, list[Row]] = {}
    for row in sorted(rows, key=lambda r: (str(r["file"]), str(r["model"]))):
        by_model.setdefault(str(row["model"]), []).append(row)
    for model in sorted(by_model):
        suite = ET.SubElement(root, "testsuite", {"name": _clean(model)})
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite_time = 0.0
        for row in by_model[model]:
            category = _testcase(suite, row)
            counts["tests"] += 1
            if category in counts:
                counts[category] += 1
            suite_time += float(row.get("seconds") or 0.0)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", _seconds(suite_time))
        total_time += suite_time
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(total_time if seconds is None else seconds))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
