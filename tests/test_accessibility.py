"""DAISY Ace, the accessibility checker, finds nothing to report in the books we write.

Ace drives Chromium through puppeteer; .ci/run installs it (with Debian's Chromium) under
.ci/node. Without it the test is skipped on a developer's machine, and fails under CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from epubgen.builder import build
from epubgen.config import NotesConfig, load_config

REPO = Path(__file__).resolve().parent.parent
ACE = REPO / ".ci" / "node" / "node_modules" / ".bin" / "ace-cli"
CHROMIUM = shutil.which("chromium")


def ace_findings(epub: Path, report: Path) -> list[str]:
    environment = dict(os.environ, PUPPETEER_EXECUTABLE_PATH=CHROMIUM or "")
    subprocess.run([str(ACE), "-s", "-f", "-o", str(report), str(epub)], check=True, env=environment, timeout=600)
    data = json.loads((report / "report.json").read_text())
    return [
        f"{document['earl:testSubject']['url']}: {finding['earl:test']['dct:title']} ({finding['earl:test']['earl:impact']})"
        for document in data["assertions"]
        for finding in document.get("assertions", [])
    ]


@pytest.fixture
def ace_available() -> None:
    if not (ACE.exists() and CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Ace is not installed: .ci/run installs it under .ci/node")
        pytest.skip("Ace is not installed here: run .ci/run once to install it")


@pytest.mark.parametrize("notes", ["footnote", "endnote"])
def test_ace_reports_nothing_for_the_sample_book(ace_available: None, notes: str, tmp_path: Path) -> None:
    sample = REPO / "input" / "the-lantern-keeper"
    config = replace(load_config(sample), notes=NotesConfig(mode=notes))
    epub = build(sample, config, tmp_path / "book.epub").path
    assert ace_findings(epub, tmp_path / "ace") == []
