"""The audit: `epubgen inspect` and `build --report` show every removal, with its rule and place."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lxml import html

from conftest import write_chapters

CHAPTERS = {
    "1.txt": "Chapter 1: One\n\nFirst line.\nThe fog rose. Find authorized novels in Webnovel, faster updates, better experience, Please click www.webnovel.com for visiting.\nLast line.\n\nNext Chapter\n",
    "2.txt": "Chapter 2: Two\n\nOnly story here.\n",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "epubgen", *args], capture_output=True, text=True)


def test_inspect_prints_totals_per_rule_and_writes_json_and_html(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "in", CHAPTERS)
    result = run("inspect", str(folder), "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "in: 2 chapters, 2 removals",
        "       1  host-notices:webnovel-authorized",
        "       1  reader-chrome:nav-line",
    ]
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["totals"] == {"host-notices:webnovel-authorized": 1, "reader-chrome:nav-line": 1}
    assert [(r["source"], r["line"], r["rule"]) for r in data["removals"]] == [
        ("1.txt", 4, "host-notices:webnovel-authorized"),
        ("1.txt", 7, "reader-chrome:nav-line"),
    ]
    assert data["removals"][0]["text"].startswith("Find authorized novels")


def test_the_html_report_shows_each_removal_in_its_context(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "in", CHAPTERS)
    assert run("inspect", str(folder), "--html", str(tmp_path / "r.html")).returncode == 0
    page = html.parse(str(tmp_path / "r.html")).getroot()
    assert [h.text for h in page.iter("h2")] == ["1.txt"]
    removed = page.find_class("removed")
    assert [p.text_content() for p in removed] == ["7Next Chapterreader-chrome:nav-line"]
    fragment = page.find(".//del")
    assert fragment.text.startswith("Find authorized novels")
    assert fragment.getparent().text_content().startswith("4The fog rose. Find")
    context = [p.text_content() for p in page.find_class("line")]
    assert any(text.startswith("5Last line.") for text in context)


def test_build_report_comes_from_the_same_record_as_the_book(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "in", CHAPTERS)
    result = run("build", str(folder), "-o", str(tmp_path / "b.epub"), "--report", str(tmp_path / "r.json"), "-q")
    assert result.returncode == 0, result.stderr
    removed = [r["text"] for r in json.loads((tmp_path / "r.json").read_text())["removals"]]
    from conftest import OpenedEpub

    text = OpenedEpub(tmp_path / "b.epub").text()
    assert "The fog rose." in text
    assert all(fragment not in text for fragment in removed)
