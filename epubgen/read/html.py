"""Read saved chapter pages (.html/.htm): find the chapter's text, drop the page around it.

The body is found by the layouts in layouts.toml, else as the element holding most paragraph
text. Scripts, navigation, comments, share buttons and paragraphs the page's own CSS hides
(Royal Road hides its watermarks that way) are dropped. What is left becomes lines of text, one
per block, with emphasis kept as marks (see epubgen.marks) and <hr> as a scene break.
Nothing executable can pass: only text and marks leave this module, and the text is cleaned again
after the parser has decoded its character references (decode.sanitize_parsed).
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
import warnings
from functools import cache, partial
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString, PageElement, Tag, XMLParsedAsHTMLWarning

from epubgen.errors import InputError
from epubgen.files import MAX_IMAGE_BYTES, read_regular_file
from epubgen.headings import parse_heading
from epubgen.images import image_media_type, image_refusal
from epubgen.marks import EM_CLOSE, EM_OPEN, MARKS, STRONG_CLOSE, STRONG_OPEN, image_line, strip_marks
from epubgen.model import Illustration
from epubgen.names import printable
from epubgen.read.decode import sanitize_parsed

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
    markup, never_closed = close_unclosed(markup)
    soup = parse_markup(markup)
    tags, comments = _page_nodes(soup)
    heading = _page_heading(tags)
    names = _page_names(tags)
    selectors = [selector for selector in _layouts()["body_selectors"] if _may_match(selector, names)]
    _drop_page_chrome(tags, comments, [selector for selector in _layouts()["body_selectors"][:6] if selector in selectors])
    body = _chapter_body(soup, selectors)
    if body is None:
        raise InputError(f"{name}: no chapter text found in this page")
    page = Page([], warnings=[f"{name}: {_never_closed_warning(tag)}" for tag in never_closed])
    page.lines = block_lines(body, image_collector(page, name, load_image))
    if heading and not any(parse_heading(strip_marks(line)) for line in page.lines[:3]):
        page.lines.insert(0, heading)
    return page


_RAW_TEXT = ("script", "style", "iframe", "textarea", "title", "xmp", "noembed", "noframes")
"""Elements whose content the parser takes as text up to their end tag (to the end of the page,
when there is none)."""
_VOID = frozenset("area base basefont bgsound br col embed frame hr image img input keygen link meta param source track wbr".split())
"""The elements HTML never lets hold anything (the parsing spec's list)."""
_VOID_NESTING = ("embed", "source", "track", "wbr", "keygen", "bgsound", "image")
"""The void elements lxml's libxml2 (2.14) does not know as such: it nests what follows one in it,
up to the end of its parent."""
_OWN_CHILDREN = {"select": ("option", "optgroup", "hr")}
"""The only children an element of drop_tags may have, for those that have a short list of them: where
one that is never closed ends."""
_STARTS_TAG = re.compile(r"<(?:[a-z][a-z0-9-]*[\s/>]|/[a-z]|!)", re.IGNORECASE)
"""What starts a tag or a comment (not `a<b)` in a script)."""
_UNQUOTED_LAST_VALUE = re.compile(r"=\s*[^\s\"'=<>`]+/>$")
_SPACE = "\t\n\f\r "
_TOKEN = re.compile(
    r"<!--(?:-?>|[\s\S]*?--!?>|[\s\S]*)"
    r"|<(?:[!?]|/(?![a-z]))[^>]*>?"
    rf"|<(/?)([a-z][^{_SPACE}/>]*)"
    rf"(?:[{_SPACE}/]+|[^{_SPACE}/>][^{_SPACE}/>=]*(?:[{_SPACE}]*=[{_SPACE}]*(?:\"[^\"]*(?:\"|\Z)|'[^']*(?:'|\Z)|(?![\"'])[^{_SPACE}>]*))?)*>?",
    re.IGNORECASE,
)
"""A token of markup as the parser's tokenizer reads it (libxml2 2.14 tokenizes as HTML5 does):
a comment, ended by `-->` or `--!>` (`<!-->` is an empty one); a doctype, a processing instruction,
a CDATA section or another bogus comment, each ended by its first `>`; or a start or end tag, its
name in group 2, its attribute values in quotes holding any `>` or `<`. A token that runs to the end
of the markup does not end with `>`."""


@cache
def _followed_tags() -> frozenset[str]:
    """The elements close_unclosed() follows: raw text elements, the void ones the parser nests
    things in, and the other elements of drop_tags."""
    containers = [tag for tag in _layouts()["drop_tags"] if tag not in _VOID and tag not in _RAW_TEXT]
    return frozenset((*_RAW_TEXT, "plaintext", *_VOID_NESTING, *containers))


@cache
def _end_tag(tag: str) -> re.Pattern[str]:
    return re.compile(rf"</{tag}[\s/>]", re.IGNORECASE)


def close_unclosed(markup: str) -> tuple[str, list[str]]:
    """The markup with an end tag put in wherever the parser would otherwise nest the rest of the
    page (or of the element around) in an element of drop_tags, so that dropping it drops none of
    the story; and the names of the elements that were never closed, for a warning.

    - A void element the parser would nest things in (_VOID_NESTING) is ended right after its start tag.
    - A raw text element (_RAW_TEXT) never closed is ended before the first tag after its start:
      its own text (a script's code, a title) stays in it, and what follows is markup again.
    - Another element of drop_tags never closed is taken to hold nothing, and ended right after its
      start tag (where the author meant it to end cannot be told; what followed it stays, judged
      on its own by the rest of the sanitiser): a browser shows most of them (<nav>, <header>,
      <form>, <button> ...) with everything the parser put in them. One with a short list of
      children (_OWN_CHILDREN: a <select> and its options) ends before the first tag that is not one.

    The markup is scanned token by token as the parser's tokenizer reads it (_TOKEN): every tag is
    passed over whole, its attribute values with it, before its name is looked at; comments,
    doctypes and the like are passed over where a token may start, never inside a tag; raw text is
    passed over to its end tag. An element is never closed when no end tag of its name follows its
    start, the end tags taken by the innermost start tags of the name.
    """
    followed = _followed_tags()
    ends: list[tuple[int, str]] = []
    open_starts: dict[str, list[int]] = {}
    never_closed: list[str] = []
    # Per raw text element, a position after which the markup holds no end tag of it (a search found
    # none): a page of thousands never closed is not searched to its end for each.
    no_end_after: dict[str, int] = {}
    position = 0
    while (found := _TOKEN.search(markup, position)) is not None:
        position = found.end()
        if not found[0].endswith(">"):
            break
        tag = (found[2] or "").lower()
        if tag not in followed:
            continue
        if tag == "plaintext":
            break
        if found[1] or (found[0].endswith("/>") and not _UNQUOTED_LAST_VALUE.search(found[0])):
            if found[1] and open_starts.get(tag):
                open_starts[tag].pop()
        elif tag in _RAW_TEXT:
            end = _end_tag(tag).search(markup, position) if position < no_end_after.get(tag, len(markup) + 1) else None
            if end is None:
                no_end_after[tag] = position
                first_tag = _STARTS_TAG.search(markup, position)
                position = first_tag.start() if first_tag is not None else len(markup)
                ends.append((position, tag))
                never_closed.append(tag)
            else:
                position = end.end()
        elif tag in _VOID_NESTING:
            ends.append((position, tag))
        else:
            open_starts.setdefault(tag, []).append(position)
    for tag, starts in open_starts.items():
        ends += [(_unclosed_end(markup, tag, start), tag) for start in starts]
        never_closed += [tag] * bool(starts)
    if not ends:
        return markup, []
    ends.sort(key=lambda end: end[0])
    pieces, previous = [], 0
    for at, tag in ends:
        pieces += [markup[previous:at], f"</{tag}>"]
        previous = at
    pieces.append(markup[previous:])
    return "".join(pieces), list(dict.fromkeys(never_closed))


def _unclosed_end(markup: str, tag: str, start: int) -> int:
    """Where an element of drop_tags that is never closed ends, its start tag ending at start: there,
    or for one of _OWN_CHILDREN, before the first tag that is not one of its children."""
    if tag not in _OWN_CHILDREN:
        return start
    children = _OWN_CHILDREN[tag]
    return next((token.start() for token in _TOKEN.finditer(markup, start) if token[2] and token[2].lower() not in children), len(markup))


def _never_closed_warning(tag: str) -> str:
    if tag in _RAW_TEXT:
        return f"a <{tag}> is never closed: what follows it is read as the page"
    if tag in _OWN_CHILDREN:
        return f"a <{tag}> is never closed: what follows its {' and '.join(_OWN_CHILDREN[tag][:2])}s is kept"
    return f"a <{tag}> is never closed: what follows it is kept, as if it held nothing"


def images_beside(page_file: Path) -> ImageLoader:
    """Load <img> sources from the disk for a saved page: only regular files inside the page's own
    folder (chapter pages are read from the top of the input folder, so that is the folder the user
    named) once every symlink is resolved, never a device, a FIFO or a name with a NUL byte
    (epubgen.files.read_regular_file). A `file:` URL is a path like any other; remote images cannot
    be had."""

    def load(source: str) -> bytes | str:
        shown = _shown_source(source)
        path = _local_path(source)
        if path is None:
            return f"remote image {shown} left out"
        try:
            return read_regular_file(page_file.parent / path, "image", MAX_IMAGE_BYTES, inside=page_file.parent)
        except InputError as error:
            reason = str(error).rpartition(": ")[2]  # after the path it names
        if reason == "image not found":
            return f"image {shown} not found beside the page, left out"
        if reason.startswith("image "):
            return f"image {shown} {reason.removeprefix('image ')}, left out"
        return f"image {shown} left out: {reason}"

    return load


_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def _local_path(source: str) -> Path | None:
    """The path an <img> src names on the disk (percent-escapes decoded), relative to the page unless
    absolute; None for a remote one."""
    location = source.split("#")[0].split("?")[0]
    if location.startswith("//"):
        return None
    if _URL_SCHEME.match(location):
        url = urlsplit(location)
        if url.scheme.lower() != "file" or url.netloc.lower() not in ("", "localhost"):
            return None
        location = url.path
    return Path(posixpath.normpath(unquote(location)))  # `sub/../a.png` is `a.png`, whether sub exists or not, as in a URL


def _shown_source(source: str) -> str:
    """An <img> src as warnings show it: its first 80 characters, on one printable line."""
    return printable(source[:80])


def image_collector(page: Page, name: str, load_image: ImageLoader | None) -> Callable[[Tag], str | None]:
    """What block_lines calls for each <img>: loads it into the page's images and gives its image
    line. Only an image that decodes whole and is not too large goes in (epubgen.images.image_refusal).
    Each src is loaded, checked and warned about once in the page: a page may show one image many times."""
    checked: dict[str, tuple[bytes, str] | str] = {}

    def collect(tag: Tag) -> str | None:
        source = (tag.get("src") or "").strip()
        if load_image is None or not source:
            return None
        if source not in checked:
            checked[source] = _checked_image(source, load_image)
            if isinstance(checked[source], str):
                page.warnings.append(f"{name}: {checked[source]}")
        image = checked[source]
        if isinstance(image, str):
            return None
        page.images.append(Illustration(*image, _one_line(tag.get("alt") or "").strip()))
        return image_line(len(page.images) - 1)

    return collect


def _checked_image(source: str, load_image: ImageLoader) -> tuple[bytes, str] | str:
    """An <img> src's bytes and media type, or why it is left out (a one-line warning)."""
    loaded = load_image(source)
    if isinstance(loaded, str):
        return loaded
    refusal = image_refusal(loaded)
    if refusal is not None:
        return f"image {_shown_source(source)} {refusal}, left out"
    return loaded, image_media_type(loaded)


def _one_line(text: str) -> str:
    """Text a parser decoded, cleaned (sanitize_parsed) and on one line, its runs of spaces made one."""
    return _SPACES.sub(" ", sanitize_parsed(text.replace("\n", " ")).replace("\n", " "))


_BLOCK = object()
"""Where a block element ends, on block_lines' stack."""


def block_lines(element: Tag, on_image: Callable[[Tag], str | None] | None = None) -> list[str]:
    """An element's text as lines: one per block element or <br>, emphasis as marks, <hr> as a
    scene break, an <img> as an image line when on_image gives one.

    The text is cleaned once the parser has decoded it (sanitize_parsed): no character reference
    brings in a control, a zero-width character or one of epubgen.marks' own. Emphasis inside the
    same emphasis adds no mark. The element is walked with a stack of its own, not by recursion: a
    page may nest thousands of elements."""
    lines: list[str] = []
    current: list[str] = []
    open_emphasis = dict.fromkeys((EM_CLOSE, STRONG_CLOSE), 0)

    def end_line() -> None:
        text = _SPACES.sub(" ", "".join(current)).strip()
        if text.strip(MARKS + " "):
            lines.append(text)
        current.clear()

    stack: list[tuple[Iterator[PageElement], object]] = [(iter(element.contents), None)]
    while stack:
        children, ending = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if ending is _BLOCK:
                end_line()
            elif ending is not None:
                open_emphasis[ending] -= 1
                if not open_emphasis[ending]:
                    current.append(ending)
        elif isinstance(child, Comment):
            continue
        elif isinstance(child, NavigableString):
            current.append(sanitize_parsed(child.replace("\n", " ")).replace("\n", " "))
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
            open_emphasis[closing] += 1
            if open_emphasis[closing] == 1:
                current.append(opening)
            stack.append((iter(child.contents), closing))
        elif child.name in _BLOCKS:
            end_line()
            stack.append((iter(child.contents), _BLOCK))
        else:
            stack.append((iter(child.contents), None))
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
        text = _one_line(candidate.get_text(" ")).strip()
        if parse_heading(text):
            return text
    title_tag = next((tag for tag in tags if tag.name == "title"), None)
    title = _one_line(title_tag.get_text(" ")).strip() if title_tag is not None else ""
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
    drop = _Dropper()
    for element in tags:
        if element.name in drop_tags and not _decomposed(element):
            drop(element)
    drop = _Dropper()
    for comment in comments:
        if not _decomposed(comment):
            drop(comment)
    drop = _Dropper()
    story = _StoryShare(tags)
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
            or (words & junk and not _holds_body(element, body_selectors) and not story.most_of_it_in(element))
        ):
            drop(element)


class _Dropper:
    """Drops elements (and comments) given in document order, each in constant time: BeautifulSoup
    finds an element's place among its siblings by a walk from the first one, which made a page of
    tens of thousands of siblings to drop (a run of <embed>s) take minutes. The places of a parent's
    many children are looked up once; a child's place is then that, less the siblings dropped
    before it (nothing else changes the parent meanwhile), given to extract() by its private
    _self_index (a test fails if bs4 drops it)."""

    _MANY = 32

    def __init__(self) -> None:
        self._places: dict[int, tuple[dict[int, int], list[int]]] = {}

    def __call__(self, element: PageElement) -> None:
        parent = element.parent
        places = self._places.get(id(parent)) if parent is not None else None
        if places is None and parent is not None and len(parent.contents) > self._MANY:
            places = self._places[id(parent)] = ({id(child): index for index, child in enumerate(parent.contents)}, [0])
        if places is not None:
            index, dropped = places
            element.extract(_self_index=index[id(element)] - dropped[0])
            dropped[0] += 1
        if isinstance(element, Tag):
            element.decompose()
        else:
            element.extract()


def _decomposed(element: PageElement) -> bool:
    """Tag.decomposed without its cost: on a live tag, BeautifulSoup looks `_decomposed` up as a child
    tag of that name (Tag.__getattr__ is find()), a search of the tag's whole subtree, for every tag
    of the page (a third of the time a page took). decompose() sets the attribute (a test fails if
    bs4 stops)."""
    return bool(vars(element).get("_decomposed", False))


class _StoryShare:
    """How the page's paragraph text is shared among its elements. An element named like chrome
    that holds most of it is kept: a `<div class="share">` the page never closes holds the story
    the parser put in it (up to its parent's end: it is the parent's last element), which dropping
    it would lose. Paragraphs are measured only when such an element holds one."""

    def __init__(self, tags: list[Tag]):
        self._tags = tags
        self._lengths: dict[int, int] | None = None

    def most_of_it_in(self, element: Tag) -> bool:
        if element.find_next_sibling(True) is not None or element.find("p") is None:
            return False
        if self._lengths is None:
            self._lengths = {id(tag): len(tag.get_text(strip=True)) for tag in self._tags if tag.name == "p"}
        total = sum(self._lengths.values())
        held = sum(self._lengths.get(id(paragraph), 0) for paragraph in element.find_all("p"))
        return total >= MIN_BODY_CHARACTERS and held * 2 > total


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
