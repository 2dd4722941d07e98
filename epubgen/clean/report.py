"""The audit report: what was removed, where, and by which rule, as JSON and as an HTML page.

Both are made from the same record of removals the book was built from. The HTML page shows
each removal among the lines around it, since people would rather look than read.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from lxml import etree
from lxml.builder import E

from epubgen.atomic import write_atomically
from epubgen.model import Removal, SourceChapter

CONTEXT_LINES = 2
_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 60em; line-height: 1.4; }
table { border-collapse: collapse; } td, th { padding: 0.2em 0.8em; text-align: left; border-bottom: 1px solid #ccc; }
.line { font-family: monospace; white-space: pre-wrap; margin: 0; padding: 0.1em 0.4em; }
.removed { background: #fdd; text-decoration: line-through; }
.gap { color: #888; }
del { background: #fdd; }
.rule { font-family: monospace; font-size: 0.85em; color: #a00; margin-left: 1em; text-decoration: none; }
.number { color: #888; display: inline-block; min-width: 4em; }
"""


def report_data(title: str, chapters: tuple[SourceChapter, ...], removals: tuple[Removal, ...]) -> dict:
    """The report as plain data (what the JSON file holds)."""
    return {
        "book": title,
        "chapters": len(chapters),
        "removed": len(removals),
        "totals": dict(sorted(Counter(removal.rule for removal in removals).items())),
        "removals": [
            {"source": r.source, "line": r.line, "rule": r.rule, "stage": r.stage, "text": r.text} for r in removals
        ],
    }


def write_report(path: Path, title: str, chapters: tuple[SourceChapter, ...], removals: tuple[Removal, ...]) -> None:
    """Write the report to path: JSON when its name ends in .json, else an HTML page."""
    if path.suffix.lower() == ".json":
        data = json.dumps(report_data(title, chapters, removals), ensure_ascii=False, indent=2).encode("utf-8")
    else:
        data = _html_report(title, chapters, removals)
    write_atomically(path, lambda file: file.write(data))


def _html_report(title: str, chapters: tuple[SourceChapter, ...], removals: tuple[Removal, ...]) -> bytes:
    totals = Counter(removal.rule for removal in removals)
    by_source: dict[str, list[Removal]] = {}
    for removal in removals:
        by_source.setdefault(removal.source, []).append(removal)
    body = E.body(
        E.h1(f"What epubgen removed from {title}"),
        E.p(f"{len(removals)} removals in {len(by_source)} of {len(chapters)} chapters."),
        E.table(E.tr(E.th("rule"), E.th("removals")), *(E.tr(E.td(rule), E.td(str(count))) for rule, count in sorted(totals.items()))),
        *(_chapter_section(chapter, by_source[chapter.source]) for chapter in chapters if chapter.source in by_source),
    )
    page = E.html(E.head(E.meta(charset="utf-8"), E.title(f"epubgen report: {title}"), E.style(_STYLE)), body, lang="en")
    return etree.tostring(page, method="html", encoding="utf-8", doctype="<!DOCTYPE html>")


def _chapter_section(chapter: SourceChapter, removals: list[Removal]) -> etree._Element:
    """The chapter's removals, each among the lines around it; overlapping windows merge."""
    text_of = {line.number: line.text for line in chapter.lines}
    removed_at: dict[int, list[Removal]] = {}
    for removal in removals:
        removed_at.setdefault(removal.line, []).append(removal)
    shown = sorted({n for line in removed_at for n in range(line - CONTEXT_LINES, line + CONTEXT_LINES + 1) if text_of.get(n, "").strip()})
    rows: list[etree._Element] = []
    for previous, number in zip([None, *shown], shown):
        if previous is not None and any(text_of.get(n, "").strip() for n in range(previous + 1, number)):
            rows.append(E.p("…", **{"class": "line gap"}))
        rows.append(_line_row(number, text_of[number], removed_at.get(number, [])))
    return E.section(E.h2(chapter.source), *rows)


def _line_row(number: int, text: str, removals: list[Removal]) -> etree._Element:
    rules = [E.span(removal.rule, **{"class": "rule"}) for removal in removals]
    whole = any(removal.text == text.strip() for removal in removals)
    if whole or not removals:
        return E.p(E.span(str(number), **{"class": "number"}), text, *rules, **{"class": "line removed" if whole else "line"})
    return E.p(E.span(str(number), **{"class": "number"}), *_marked_fragments(text, removals), *rules, **{"class": "line"})


def _marked_fragments(text: str, removals: list[Removal]) -> list:
    """The line's text with each removed fragment wrapped in <del>."""
    parts: list = []
    cursor = 0
    for removal in sorted(removals, key=lambda r: text.find(r.text)):
        start = text.find(removal.text, cursor)
        if start < 0:
            continue
        deleted = etree.Element("del")
        deleted.text = removal.text
        parts += [text[cursor:start], deleted]
        cursor = start + len(removal.text)
    parts.append(text[cursor:])
    return parts
