"""`verifier report ROWS --html DIR` (reports/html.py, reports/svg.py): the page for a batch,
rendered by a real headless browser (Chromium from the distribution) when one is installed."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from verifier.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
GUP = ROOT / "litmus" / "gup"
CHROMIUM = next((c for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)


def png_facts(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the image data) of a PNG, read by hand."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, i = b"", 8
    while i < len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        if kind == b"IDAT":
            idat += data[i + 8:i + 8 + n]
        i += 12 + n
    return width, height, len(set(zlib.decompress(idat)))


@pytest.fixture(scope="module")
def gup_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("report")
    rows = d / "rows.jsonl"
    r = subprocess.run([sys.executable, "-m", "verifier.cli", "batch", str(GUP), "--model", "lkmm,x86-tso",
                        "-j", "2", "-q", "--json", str(rows)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert main(["report", str(rows), "--html", str(d / "html"), "--title", "litmus/gup"]) == 0
    return d / "html" / "index.html"


def test_the_page_has_the_table_the_witnesses_and_the_proofs(gup_report: Path) -> None:
    page = gup_report.read_text()
    tests = sorted(GUP.glob("*.litmus.yaml"))
    assert page.count('<tr class="test-row">') == len(tests)
    assert page.count("<svg ") >= 1 and 'class="edge rf"' in page  # witnesses as SVG
    assert "Rests on:" in page or "No single axiom is needed" in page  # proofs of the Nevers
    assert "<script" not in page and "<link" not in page and 'src="http' not in page  # one self-contained file
    for svg in re.findall(r"<svg .*?</svg>", page, re.S):
        ET.fromstring(svg)  # every picture is well-formed XML


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt install chromium)")
def test_a_real_browser_renders_the_gup_report(gup_report: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    url = gup_report.as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr
    assert dom.stdout.count('class="test-row"') == len(sorted(GUP.glob("*.litmus.yaml")))
    shot = tmp_path / "gup.png"
    r = subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1400,1800", url],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and shot.is_file(), r.stderr
    width, height, colours = png_facts(shot.read_bytes())
    assert (width, height) == (1400, 1800)
    assert colours > 50  # text, table borders and cell colours: not a blank page
