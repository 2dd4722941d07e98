"""Read saved chapter pages (.html/.htm): find the chapter's text, drop the page around it.

The body is found by the layouts in layouts.toml, else as the element holding most paragraph
text. Scripts, navigation, comments, share buttons and paragraphs the page's own CSS hides
(Royal Road hides its watermarks that way) are dropped. What is left becomes lines of text, one
per block, with emphasis kept as marks (see epubgen.marks) and <hr> as a scene break.
Nothing executable can pass: only text and marks leave this module.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
import warnings
from functools import cache, partial
from importlib import resources
from pathlib import Path
from urllib.parse import unquote

from bs4 import BeautifulSoup, Comment, NavigableString, PageElement, Tag, XMLParsedAsHTMLWarning

from epubgen.errors import InputError
from epubgen.headings import parse_heading
from epubgen.images import image_media_type
from epubgen.marks import EM_CLOSE, EM_OPEN, MARKS, STRONG_CLOSE, STRONG_OPEN, image_line, strip_marks
from epubgen.model import Illustration

MIN_BODY_CHARACTERS = 200
SCENE_BREAK = "* * *"
_BLOCKS = frozenset("p div section article blockquote li ul ol h1 h2 h3 h4 h5 h6 pre table tr td th dl dt dd figure figcaption main center".split())
_HEADINGS = frozenset(("h1", "h2", "h3", "h4"))
_EMPHASIS = {"em": (EM_OPEN, EM_CLOSE), "i": (EM_OPEN, EM_CLOSE), "strong": (STRONG_OPEN, STRONG_CLOSE), "b": (STRONG_OPEN, STRONG_CLOSE)}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^\s*(?:[a-z0-9]*)([.#])([\w-]+)\s*$", re.IGNORECASE)
_WORD_SPLIT = re.compile(r"[-_\s]+")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_COMPOUND = re.compile(r"([a-z][a-z0-9-]*)?((?:[.#][\w-]+)*)", re.IGNORECASE)
"""A compound selector of a tag name, ids and classes (`article`, `#content`, `div.chapter-inner`)."""
_ID_OR_CLASS = re.compile(r"[.#][\w-]+")
_SCREENABLE = re.compile(r"[\w\s.#>+~,-]+")
"""A selector of tags, ids and classes, combinators and commas only: what _may_match screens."""
_COMBINATORS = re.compile(r"\s*[>+~]\s*|\s+")


@cache
def _layouts() -> dict:
    return tomllib.loads(resources.files("epubgen.read").joinpath("layouts.toml").read_text(encoding="utf-8"))


def parse_markup(markup: str) -> BeautifulSoup:
    """Parse HTML or XHTML leniently: pages from the wild are rarely well-formed XML."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(markup, "lxml")


@dataclass
class Page:
    """What a page gives: its lines, its illustrations (image lines point at them), and warnings."""

    lines: list[str]
    images: list[Illustration] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


ImageLoader = Callable[[str], "bytes | str"]
"""Given an <img> src: the image's bytes, or why it cannot be had (a one-line reason)."""


def html_to_lines(markup: str, name: str, load_image: ImageLoader | None = None) -> Page:
    """The chapter text of a saved page as lines: its heading first when the page has one."""
    soup = parse_markup(markup)
    tags, comments = _page_nodes(soup)
    heading = _page_heading(tags)
    names = _page_names(tags)
    selectors = [selector for selector in _layouts()["body_selectors"] if _may_match(selector, names)]
    _drop_page_chrome(tags, comments, [selector for selector in _layouts()["body_selectors"][:6] if selector in selectors])
    body = _chapter_body(soup, selectors)
    if body is None:
        raise InputError(f"{name}: no chapter text found in this page")
    page = Page([])
    page.lines = block_lines(body, image_collector(page, name, load_image))
    if heading and not any(parse_heading(strip_marks(line)) for line in page.lines[:3]):
        page.lines.insert(0, heading)
    return page


def images_beside(page_file: Path) -> ImageLoader:
    """Load <img> sources from the disk beside a saved page; remote ones cannot be had."""

    def load(source: str) -> bytes | str:
        if re.match(r"^[a-z][a-z0-9+.-]*:", source, re.IGNORECASE):
            return f"remote image {source[:80]} left out"
        path = page_file.parent / unquote(source.split("#")[0].split("?")[0])
        try:
            return path.read_bytes()
        except OSError:
            return f"image {source[:80]} not found beside the page, left out"

    return load


def image_collector(page: Page, name: str, load_image: ImageLoader | None) -> Callable[[Tag], str | None]:
    """What block_lines calls for each <img>: loads it into the page's images and gives its image line."""
    def collect(tag: Tag) -> str | None:
        source = (tag.get("src") or "").strip()
        if load_image is None or not source:
            return None
        loaded = load_image(source)
        media_type = image_media_type(loaded) if isinstance(loaded, bytes) else None
        if media_type is None:
            page.warnings.append(f"{name}: {loaded if isinstance(loaded, str) else f'{source[:80]} is not an image'}")
            return None
        page.images.append(Illustration(loaded, media_type, _SPACES.sub(" ", tag.get("alt") or "").strip()))
        return image_line(len(page.images) - 1)

    return collect


def block_lines(element: Tag, on_image: Callable[[Tag], str | None] | None = None) -> list[str]:
    """An element's text as lines: one per block element or <br>, emphasis as marks, <hr> as a
    scene break, an <img> as an image line when on_image gives one."""
    lines: list[str] = []
    current: list[str] = []

    def end_line() -> None:
        text = _SPACES.sub(" ", "".join(current)).strip()
        if text.strip(MARKS + " "):
            lines.append(text)
        current.clear()

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                current.append(str(child).replace("\n", " "))
            elif child.name == "br":
                end_line()
            elif child.name == "hr":
                end_line()
                lines.append(SCENE_BREAK)
            elif child.name == "img" and on_image is not None:
                placeholder = on_image(child)
                if placeholder is not None:
                    end_line()
                    lines.append(placeholder)
            elif child.name in _EMPHASIS:
                opening, closing = _EMPHASIS[child.name]
                current.append(opening)
                walk(child)
                current.append(closing)
            elif child.name in _BLOCKS:
                end_line()
                walk(child)
                end_line()
            else:
                walk(child)

    walk(element)
    end_line()
    return lines


def _page_nodes(soup: BeautifulSoup) -> tuple[list[Tag], list[Comment]]:
    """The page's tags and comments, in document order, from one walk over it: what the steps below
    look through, instead of a find_all() of their own each (BeautifulSoup matches every node
    against a find_all's filter in Python)."""
    tags: list[Tag] = []
    comments: list[Comment] = []
    for node in soup.descendants:
        if isinstance(node, Tag):
            tags.append(node)
        elif isinstance(node, Comment):
            comments.append(node)
    return tags, comments


def _page_heading(tags: list[Tag]) -> str | None:
    """The chapter heading of the page: its first heading element that parses as one, else its <title>."""
    for candidate in [tag for tag in tags if tag.name in _HEADINGS][:12]:
        text = _SPACES.sub(" ", candidate.get_text(" ")).strip()
        if parse_heading(text):
            return text
    title_tag = next((tag for tag in tags if tag.name == "title"), None)
    title = title_tag.get_text(" ").strip() if title_tag is not None else ""
    for part in re.split(r"\s+[|\-–—]\s+", title):
        if parse_heading(part):
            return part.strip()
    return None


def _page_names(tags: list[Tag]) -> frozenset[str]:
    """Every tag name, `#id` and `.class` of the page's tags, in lower case: what a selector needs the
    page to hold to match anything in it (_may_match)."""
    names: set[str] = set()
    for element in tags:
        names.add(element.name.lower())
        element_id = element.get("id")
        if isinstance(element_id, str):
            names.add(f"#{element_id.lower()}")
        classes = element.get("class") or []
        names.update(f".{name.lower()}" for name in classes if isinstance(name, str))
    return frozenset(names)


def _may_match(selector: str, names: frozenset[str]) -> bool:
    """False when the selector can match nothing in the page (names: _page_names), so the page need not
    be searched for it (soupsieve walks every element for each selector, in Python: most of the time a
    page took): when each selector of its list has a compound selector that names a tag, id or class
    the page holds nowhere. Only selectors made of tags, ids, classes, combinators and commas are
    screened: anything quoted, escaped, bracketed or a pseudo-class is taken to match."""
    if not _SCREENABLE.fullmatch(selector):
        return True
    return any(all(map(partial(_compound_may_match, names=names), _COMBINATORS.split(part.strip()))) for part in selector.split(","))


def _compound_may_match(compound: str, names: frozenset[str]) -> bool:
    match = _COMPOUND.fullmatch(compound)
    if match is None:
        return True
    needed = ([match[1].lower()] if match[1] else []) + [part.lower() for part in _ID_OR_CLASS.findall(match[2])]
    return names.issuperset(needed)


def _drop_page_chrome(tags: list[Tag], comments: list[Comment], body_selectors: list[str]) -> None:
    """Drop what is never story text from the page (its tags and comments, _page_nodes); an element
    named like chrome (`nav-wrapper`) is kept when one of body_selectors (those of the first few
    layouts that may match in this page) finds something in it. What a dropped element held is
    dropped with it, and passed over when its turn comes."""
    hidden_classes, hidden_ids = _hidden_by_stylesheets(tags)
    junk = set(_layouts()["junk_words"])
    drop_tags = frozenset(_layouts()["drop_tags"])
    for element in tags:
        if element.name in drop_tags and not _decomposed(element):
            element.decompose()
    for comment in comments:
        if not _decomposed(comment):
            comment.extract()
    for element in tags:
        if _decomposed(element) or element.attrs is None:
            continue
        classes = element.get("class") or []
        element_id = element.get("id") or ""
        words = {word.lower() for value in [*classes, element_id] for word in _WORD_SPLIT.split(value) if word}
        if (
            _HIDDEN_STYLE.search(element.get("style") or "")
            or element.has_attr("hidden")
            or element.get("aria-hidden") == "true"
            or hidden_classes.intersection(classes)
            or element_id in hidden_ids
            or (words & junk and not _holds_body(element, body_selectors))
        ):
            element.decompose()


def _decomposed(element: PageElement) -> bool:
    """Tag.decomposed without its cost: on a live tag, BeautifulSoup looks `_decomposed` up as a child
    tag of that name (Tag.__getattr__ is find()), a search of the tag's whole subtree, for every tag
    of the page (a third of the time a page took)."""
    return bool(vars(element).get("_decomposed", False))


def _holds_body(element: Tag, body_selectors: list[str]) -> bool:
    """A wrapper whose name sounds like chrome (`nav-wrapper`) but which holds the chapter stays."""
    return any(element.select_one(selector) is not None for selector in body_selectors)


def _hidden_by_stylesheets(tags: list[Tag]) -> tuple[set[str], set[str]]:
    """Classes and ids that the page's <style> blocks hide with display:none or visibility:hidden."""
    classes: set[str] = set()
    ids: set[str] = set()
    for style in (tag for tag in tags if tag.name == "style"):
        for selectors, declarations in _CSS_RULE.findall(style.get_text()):
            if not _HIDDEN_STYLE.search(declarations):
                continue
            for selector in selectors.split(","):
                match = _SIMPLE_SELECTOR.match(selector)
                if match:
                    (classes if match[1] == "." else ids).add(match[2])
    return classes, ids


def _chapter_body(soup: BeautifulSoup, body_selectors: list[str]) -> Tag | None:
    """The first of body_selectors (the layouts that may match in this page, in order) that finds
    enough text, else the element holding most paragraph text."""
    for selector in body_selectors:
        found = soup.select_one(selector)
        if found is not None and len(found.get_text(strip=True)) >= MIN_BODY_CHARACTERS:
            return found
    return _most_paragraph_text(soup)


def _most_paragraph_text(soup: BeautifulSoup) -> Tag | None:
    """The generic fallback: the element whose own <p> children hold the most text."""
    scores: dict[int, tuple[int, Tag]] = {}
    for paragraph in soup.find_all("p"):
        parent = paragraph.parent
        if parent is None:
            continue
        length = len(paragraph.get_text(strip=True))
        previous = scores.get(id(parent), (0, parent))[0]
        scores[id(parent)] = (previous + length, parent)
    if not scores:
        body = soup.body
        return body if body is not None and body.get_text(strip=True) else None
    return max(scores.values(), key=lambda item: item[0])[1]
