"""Saved pages, hostile or broken (issue 19, items 1, 3, 10 and the page images of 17): an <img> reads
only regular files inside the input folder; no element the sanitiser drops takes the story after it
along; character references bring in nothing XML forbids, no zero-width junk and none of our own
marks; thousands of nested elements are walked without recursion; only images that decode go in."""

from __future__ import annotations

import inspect
import io
import os
import random
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from bs4 import Tag
from PIL import Image

from conftest import NS, OpenedEpub, assert_valid, write_chapters
from epubgen.builder import build
from epubgen.cli import main
from epubgen.config import BookConfig
from epubgen.marks import EM_CLOSE, EM_OPEN, IMAGE, MARKS, STRONG_CLOSE, STRONG_OPEN
from epubgen.read.decode import sanitize, sanitize_parsed
from epubgen.read.html import _VOID, _VOID_NESTING, _layouts, block_lines, close_unclosed, html_to_lines, images_beside, parse_markup

STORY = "The ferryman counted the lanterns twice, and twice he came up one short of the night before."
FIXTURES = Path(__file__).parent.parent / "fixtures"


def page(body: str, title: str = "Chapter 3: The Ferry") -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body><div id='chapter-content'>{body}</div></body></html>"


def image_bytes(format: str, size: tuple[int, int] = (48, 32)) -> bytes:
    """A picture of noise (so that half of its file is half of its pixels) in format."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, random.Random(size[0] * 1000 + size[1]).randbytes(size[0] * size[1] * 3)).save(buffer, format=format)
    return buffer.getvalue()


PNG = image_bytes("PNG")


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail, rather than hang, when the block takes longer (a FIFO opened for reading blocks)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: something was opened that blocks")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# Item 1: an <img> reads nothing outside the input folder, and nothing that is not a regular file


def _escapes(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An input folder whose page points its images everywhere: {src: what the warning says}."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(PNG)
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "link.png").symlink_to(outside / "secret.png")
    os.mkfifo(folder / "pipe.png")
    secret = (outside / "secret.png").as_posix()
    refused = {
        secret: "refused (outside the input folder)",
        "../outside/secret.png": "refused (outside the input folder)",
        "%2e%2e/outside/secret.png": "refused (outside the input folder)",
        "%2E%2E%2Foutside%2Fsecret.png": "refused (outside the input folder)",
        f"file://{secret}": "refused (outside the input folder)",
        f"file://localhost{secret}": "refused (outside the input folder)",
        "link.png": "refused (outside the input folder)",
        "/dev/zero": "refused (outside the input folder)",
        "pipe.png": "refused (not a regular file)",
        "map%00.png": "refused (a NUL byte in its name)",
        ".": "refused (not a regular file)",
    }
    return folder, refused


def _escape_page(refused: dict[str, str], inside: list[str]) -> str:
    sources = [*refused, *inside]
    return page("".join(f"<p>Paragraph {n}: {STORY}</p><p><img src='{source}' alt='picture {n}'></p>" for n, source in enumerate(sources)) + f"<p>The end. {STORY}</p>")


def test_hostile_pages_an_img_reads_only_regular_files_inside_the_input_folder(tmp_path: Path) -> None:
    folder, refused = _escapes(tmp_path)
    (folder / "map.png").write_bytes(PNG)
    inside = ["map.png", f"file://{(folder / 'map.png').as_posix()}", (folder / "map.png").as_posix(), "./sub/../map.png"]
    markup = _escape_page(refused, inside)
    (folder / "0001.html").write_text(markup, encoding="utf-8")
    with deadline(20):
        result = html_to_lines(markup, "0001.html", images_beside(folder / "0001.html"))
    assert result.warnings == [f"0001.html: image {source[:80]} {reason}, left out" for source, reason in refused.items()]
    assert [image.data for image in result.images] == [PNG] * len(inside)
    assert [image.alt for image in result.images] == [f"picture {n}" for n in range(len(refused), len(refused) + len(inside))]
    paragraphs = [line for line in result.lines if not line.startswith(IMAGE)]
    assert paragraphs == ["Chapter 3: The Ferry"] + [f"Paragraph {n}: {STORY}" for n in range(len(refused) + len(inside))] + [f"The end. {STORY}"]


def test_hostile_pages_a_device_is_refused_even_inside_the_input_folder() -> None:
    with deadline(20):
        assert images_beside(Path("/dev/epubgen.html"))("zero") == "image zero refused (not a regular file), left out"
        assert images_beside(Path("/dev/epubgen.html"))("/dev/stdin").endswith("left out")


def test_hostile_pages_an_image_in_a_folder_beside_the_pages_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "input"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "map.png").write_bytes(PNG)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "secret.png").write_bytes(PNG)
    with deadline(20):
        load = images_beside(folder / "0001.html")
        assert load("images/map.png") == PNG
        assert load("../images/secret.png") == "image ../images/secret.png refused (outside the input folder), left out"
        assert load("missing.png") == "image missing.png not found beside the page, left out"


def test_hostile_pages_a_warning_shows_a_src_on_one_printable_line(tmp_path: Path) -> None:
    load = images_beside(tmp_path / "0001.html")
    warning = load("x\u001b[31m\u001b[2J\nevil\u202e.png")
    assert warning == "image x\ufffd[31m\ufffd[2J evil\ufffd.png not found beside the page, left out"  # as epubgen.names.printable shows it
    assert load("https://example.test/" + "a" * 200).endswith("a" * 59 + " left out")


def test_hostile_pages_a_book_from_a_page_pointing_everywhere_holds_only_its_own_image(tmp_path: Path) -> None:
    folder, refused = _escapes(tmp_path)
    (folder / "map.png").write_bytes(PNG)
    (folder / "0001.html").write_text(_escape_page(refused, ["map.png"]), encoding="utf-8")
    with deadline(60):
        result = build(folder, BookConfig(title="The Ferry"), tmp_path / "book.epub")
    book = OpenedEpub(result.path)
    assert [name for name in book.names if name.startswith("EPUB/images/chapter-")] == ["EPUB/images/chapter-0001-1.png"]
    assert len([warning for warning in result.book.warnings if "left out" in warning]) == len(refused)
    assert book.paragraphs(0)[-1] == f"The end. {STORY}"
    assert_valid(book.path)


# Item 3: an element the sanitiser drops never takes the story after it along

DROPPED = _layouts()["drop_tags"]
FORMS = ["<{tag}>", "<{tag} class='menu' data-x='a>b'>Chrome words", "<{tag}/>", "<{tag} />", "<{tag}><span>Inner</span>"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("tag", DROPPED)
def test_hostile_pages_no_dropped_element_swallows_the_paragraphs_after_it(tag: str, form: str) -> None:
    opening = form.format(tag=tag)
    markup = page(f"<p>One. {STORY}</p>{opening}<p>Two. {STORY}</p><div><p>Three. {STORY}</p></div><p>Four <em>at last</em>. {STORY}</p>")
    lines = html_to_lines(markup, "0003.html").lines
    for expected in (f"One. {STORY}", f"Two. {STORY}", f"Three. {STORY}", f"Four {EM_OPEN}at last{EM_CLOSE}. {STORY}"):
        assert expected in lines, (opening, lines)


@pytest.mark.parametrize("tag", [tag for tag in DROPPED if tag not in _VOID])
def test_hostile_pages_a_dropped_element_closed_properly_still_drops_all_it_holds(tag: str) -> None:
    markup = page(f"<p>One. {STORY}</p><{tag}><p>Chrome inside.</p></{tag}><p>Two. {STORY}</p>")
    assert html_to_lines(markup, "0003.html").lines == ["Chapter 3: The Ferry", f"One. {STORY}", f"Two. {STORY}"]


@pytest.mark.parametrize("tag", _VOID_NESTING)
def test_hostile_pages_a_void_element_holds_nothing_wherever_it_stands(tag: str) -> None:
    """The parser nests what follows these in them: inside a paragraph they must not take the next
    paragraphs in, nor move them out of the body the fallback finds by its paragraphs' parent."""
    space = "" if tag == "wbr" else " "
    markup = f"<html><body><div><p>One{space}<{tag}>two. {STORY}</p><p>Three. {STORY}</p><p>Four. {STORY}</p></div></body></html>"
    assert html_to_lines(markup, "0003.html").lines == [f"One{space}two. {STORY}", f"Three. {STORY}", f"Four. {STORY}"]


def test_hostile_pages_an_embed_in_a_flash_object_closed_by_the_object_is_dropped_with_it() -> None:
    markup = page(f"<p>One. {STORY}</p><object data='a.swf'><param name='q' value='1'><embed src='a.swf'>Get Flash</object><p>Two. {STORY}</p>")
    page_ = html_to_lines(markup, "0003.html")
    assert page_.lines == ["Chapter 3: The Ferry", f"One. {STORY}", f"Two. {STORY}"] and page_.warnings == []


def test_hostile_pages_an_element_never_closed_is_warned_about_and_its_code_never_read() -> None:
    markup = page(f"<p>One. {STORY}</p><script>if (a<b) {{ secret('x'); }}<p>Two. {STORY}</p><nav class='site-nav'>Home<p>Three. {STORY}</p>")
    result = html_to_lines(markup, "0003.html")
    assert result.lines == ["Chapter 3: The Ferry", f"One. {STORY}", f"Two. {STORY}", "Home", f"Three. {STORY}"]
    assert result.warnings == [
        "0003.html: a <script> is never closed: what follows it is read as the page",
        "0003.html: a <nav> is never closed: what follows it is kept, as if it held nothing",
    ]


def test_hostile_pages_a_select_never_closed_ends_with_its_options() -> None:
    options = "".join(f"<option value='{n}'>Chapter {n}: Somewhere" for n in range(1, 60))
    markup = page(f"<p>One. {STORY}</p><select onchange='go()'>{options}<p>Two. {STORY}</p><p>Three. {STORY}</p>")
    assert html_to_lines(markup, "0003.html").lines == ["Chapter 3: The Ferry", f"One. {STORY}", f"Two. {STORY}", f"Three. {STORY}"]


def test_hostile_pages_a_title_never_closed_is_the_title_and_the_page_follows() -> None:
    markup = f"<html><head><title>Chapter 9: The Weir<body><div id='chapter-content'><p>One. {STORY}</p><p>Two. {STORY}</p></div></body></html>"
    assert html_to_lines(markup, "0009.html").lines == ["Chapter 9: The Weir", f"One. {STORY}", f"Two. {STORY}"]


@pytest.mark.parametrize(
    "hidden",
    [
        "<!-- <nav> <script> <embed> -->",
        "<!--><nav>",  # an empty comment: the <nav> after it is a tag
        "<script>document.write('<nav><select><textarea>');</script>",
        "<style>nav::after { content: '<nav>'; }</style>",
        "<textarea><nav></textarea>",
        "<iframe><nav></iframe>",
        "<nav title='</nav>'></nav>",
    ],
)
def test_hostile_pages_tags_in_comments_raw_text_and_attributes_are_not_tags(hidden: str) -> None:
    markup = page(f"<p>One. {STORY}</p>{hidden}<p>Two. {STORY}</p>")
    result = html_to_lines(markup, "0003.html")
    assert result.lines[-2:] == [f"One. {STORY}", f"Two. {STORY}"]
    assert (result.warnings == []) is (hidden != "<!--><nav>")


IN_ATTRIBUTES = [
    "<p title='x <header> y'>Words.</p>",
    "<p title=\"<script>\">Words.</p>",
    "<p data-menu='<select><option>1'>Words.</p>",
    "<p title='<textarea>' class=\"<nav>\">Words.</p>",
    "<p title=\"<plaintext>\">Words.</p>",
    "<p title='<!--'>Words.</p>",
    "<p title=<embed>Words.</p>",  # unquoted: the value ends at the `>`, as the parser reads it
    "<p title='a'data-x=\"<nav>\">Words.</p>",
    "<a href='#' title=\"<!DOCTYPE html><?xml?><![CDATA[\">Words.</a>",
]


@pytest.mark.parametrize("tagged", IN_ATTRIBUTES)
def test_hostile_pages_tag_like_text_in_any_tags_attribute_is_no_tag(tagged: str) -> None:
    markup = page(f"<p>One. {STORY}</p>{tagged}<p>Two <embed src=x.swf>again. {STORY}</p><script>var a;</script><!-- c --><p>Three. {STORY}</p>")
    result = html_to_lines(markup, "0003.html")
    assert result.lines == ["Chapter 3: The Ferry", f"One. {STORY}", "Words.", f"Two again. {STORY}", f"Three. {STORY}"]
    assert result.warnings == []


def test_hostile_pages_an_alt_text_naming_a_tag_is_kept_as_written(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(PNG)
    markup = page(f"<p>One. {STORY}</p><p><img alt=\"Fig. 2 <embed> diagram\" src=a.png></p><p>Two. {STORY}</p>")
    result = html_to_lines(markup, "0003.html", images_beside(tmp_path / "0003.html"))
    assert [image.alt for image in result.images] == ["Fig. 2 <embed> diagram"] and result.warnings == []
    assert close_unclosed(markup) == (markup, [])


def test_hostile_pages_a_comment_opening_in_an_attribute_hides_no_end_tag() -> None:
    markup = page(f"<p>One. {STORY}</p><nav><a href='/'>Home</a> <a title=\"<!--\" href='/toc'>Contents</a></nav><p>Two. {STORY}</p><!-- c --><p>Three. {STORY}</p>")
    result = html_to_lines(markup, "0003.html")
    assert result.lines == ["Chapter 3: The Ferry", f"One. {STORY}", f"Two. {STORY}", f"Three. {STORY}"]
    assert result.warnings == []


@pytest.mark.parametrize(
    "bogus",
    [
        "<!DOCTYPE html SYSTEM 'about:legacy-compat' <nav>",
        "<?php echo '<nav>'; ?>",
        "<![CDATA[ <nav> ]]>",
        "<!x <nav>",
        "</ <nav>",
    ],
)
def test_hostile_pages_a_doctype_instruction_or_cdata_ends_where_the_parser_ends_it(bogus: str) -> None:
    """The parser ends each at its first `>`: here the one of the <nav> in it, which is no tag (what
    follows that `>` is text)."""
    markup = page(f"<p>One. {STORY}</p>{bogus}<p>Two. {STORY}</p>")
    result = html_to_lines(markup, "0003.html")
    assert result.lines[1] == f"One. {STORY}" and result.lines[-1] == f"Two. {STORY}" and len(result.lines) <= 4
    assert result.warnings == []


def test_hostile_pages_a_cdata_section_in_a_page_ends_at_its_first_angle_bracket() -> None:
    """As the parser reads a page: what follows that `>` is markup, a <nav> there a tag never closed."""
    markup = page(f"<p>One. {STORY}</p><![CDATA[ a > b <nav> ]]><p>Two. {STORY}</p>")
    result = html_to_lines(markup, "0003.html")
    assert result.lines == ["Chapter 3: The Ferry", f"One. {STORY}", "b ]]>", f"Two. {STORY}"]
    assert result.warnings == ["0003.html: a <nav> is never closed: what follows it is kept, as if it held nothing"]


def test_hostile_pages_a_templates_content_is_markup_read_as_the_page_is() -> None:
    template = "<template><p title='<nav>'>Chrome.</p><!-- <header> --><embed src=x.swf><p>More chrome.</p></template>"
    markup = page(f"<p>One. {STORY}</p>{template}<p>Two. {STORY}</p>")
    result = html_to_lines(markup, "0003.html")
    assert result.lines == ["Chapter 3: The Ferry", f"One. {STORY}", f"Two. {STORY}"] and result.warnings == []


def test_hostile_pages_a_well_formed_page_is_parsed_as_it_was() -> None:
    for path in sorted((FIXTURES / "html").glob("*.html")) + sorted((FIXTURES / "html-images").glob("*.html")):
        markup = path.read_text(encoding="utf-8")
        assert close_unclosed(markup) == (markup, []), path.name


@pytest.mark.parametrize("element", ["<embed>x ", "<nav>x ", "<script>x ", "<select>x ", "<p hidden>x</p>", "<p class='share'>x</p>", "<!-- x -->"])
def test_hostile_pages_sixty_thousand_of_one_element_take_no_time(element: str) -> None:
    """Each never closed, or each dropped: BeautifulSoup's own decompose() takes quadratic time over
    siblings (it looks an element's place up from the first one)."""
    markup = page(element * 60_000 + f"<p>Last. {STORY}</p>")
    with deadline(30):
        assert html_to_lines(markup, "0003.html").lines[-1] == f"Last. {STORY}"


def test_hostile_pages_the_bs4_internals_that_keep_dropping_fast_are_still_there() -> None:
    """_Dropper passes Tag.extract() the private _self_index (a public extract() looks the place up
    from the first sibling: 20,000 dropped siblings took 12 times as long, and the time grows as
    their square), and _decomposed reads the attribute decompose() sets (the public `decomposed`
    searches a live tag's subtree: the benchmark pages took twice as long). A bs4 that changes
    either fails here, not silently."""
    assert "_self_index" in inspect.signature(Tag.extract).parameters
    soup = parse_markup("<html><body><p>a</p><p>b</p><p>c</p></body></html>")
    first, second, third = soup.find_all("p")
    assert "_decomposed" not in vars(second)
    assert second.extract(_self_index=1) is second and [tag.text for tag in soup.body.contents] == ["a", "c"]
    third.decompose()
    assert vars(third)["_decomposed"] is True and third.decomposed


# Item 10: references decoded, then sanitised; deep nesting walked without recursion

REFERENCES = "&#1;&#x8;&#xB;&#12;&#127;&#x81;&#x8D;&#xFFFE;&#xFFFF;&#x1FFFE;&#x10FFFF;&#xFDD0;&#xFDD1;&#xFDD2;&#xFDD3;&#xFDD4;&#xFDEF;&#x200B;&shy;&ZeroWidthSpace;&NoBreak;&#x2060;&#xFEFF;&#x180E;"


def _clean(text: str) -> bool:
    return sanitize(text) == text and not any(mark in text for mark in MARKS + IMAGE) and "\n" not in text


def test_hostile_pages_character_references_bring_in_nothing_sanitize_drops() -> None:
    markup = page(
        f"<h1>Chapter 3{REFERENCES}: The Ferry</h1>"
        f"<p>One{REFERENCES}. {STORY}</p>"
        f"<p>&#xFDD4;0</p>"  # an image line, as epubgen.marks writes one
        f"<p><em>Two&#xFDD1;</em>{REFERENCES}<strong>&#xFDD0;three</strong>.</p>"
        f"<p>Line&#13;break&#x2028;and&#x85;more, e&#x301;cole.</p>",
        title=f"Chapter 3{REFERENCES}",
    )
    lines = html_to_lines(markup, "0003.html").lines
    assert lines == ["Chapter 3: The Ferry", f"One. {STORY}", "0", f"{EM_OPEN}Two{EM_CLOSE}{STRONG_OPEN}three{STRONG_CLOSE}.", "Line break and\u2026more, \u00e9cole."]


def test_hostile_pages_references_in_the_title_and_in_alt_text_are_sanitised_too(tmp_path: Path) -> None:
    (tmp_path / "map.png").write_bytes(PNG)
    markup = page(f"<p>{STORY}</p><p><img src='map.png' alt='A&#xFDD0; map{REFERENCES}&#10;of&#13;the road'></p>", title=f"Chapter 4{REFERENCES}: Salt")
    result = html_to_lines(markup, "0004.html", images_beside(tmp_path / "0004.html"))
    assert result.lines[0] == "Chapter 4: Salt"
    assert [image.alt for image in result.images] == ["A map of the road"]


def test_hostile_pages_an_epub_documents_references_are_sanitised_by_the_same_block_lines() -> None:
    soup = parse_markup(f"<html><body><p>A{REFERENCES}<em>b&#xFDD1;</em>&#xFDD4;1</p></body></html>")
    assert block_lines(soup.body) == [f"A{EM_OPEN}b{EM_CLOSE}1"]


def test_hostile_pages_sanitize_parsed_cleans_every_character_as_sanitize_does() -> None:
    changed = [char for char in map(chr, range(0x110000)) if sanitize(f"a{char}b") != f"a{char}b"]
    assert len(changed) > 2000  # controls, surrogates, noncharacters, zero-width and NFC singletons
    assert all(sanitize_parsed(f"a{char}b") == sanitize(f"a{char}b") for char in changed)


NESTING = ["span", "b", "i", "em", "strong", "font", "div", "blockquote", "section", "a", "sup", "small"]


@pytest.mark.parametrize("tag", NESTING)
def test_hostile_pages_five_thousand_nested_elements_are_walked_without_recursion(tag: str) -> None:
    deep = f"<{tag}>" * 5000 + f"Deep. {STORY}" + f"</{tag}>" * 5000
    lines = html_to_lines(page(f"<p>Before. {STORY}</p>{deep}<p>After. {STORY}</p>"), "0003.html").lines
    marks = {"b": STRONG_OPEN, "strong": STRONG_OPEN, "i": EM_OPEN, "em": EM_OPEN}
    opening = marks.get(tag, "")
    closing = {STRONG_OPEN: STRONG_CLOSE, EM_OPEN: EM_CLOSE}.get(opening, "")
    assert lines == ["Chapter 3: The Ferry", f"Before. {STORY}", f"{opening}Deep. {STORY}{closing}", f"After. {STORY}"]


def test_hostile_pages_alternating_emphasis_nested_thousands_deep_is_two_marks() -> None:
    deep = "<b><i>" * 3000 + "Deep." + "</i></b>" * 3000
    soup = parse_markup(f"<html><body><p>{deep}</p></body></html>")
    assert block_lines(soup.body) == [f"{STRONG_OPEN}{EM_OPEN}Deep.{EM_CLOSE}{STRONG_CLOSE}"]


def test_hostile_pages_a_hostile_page_builds_from_the_command_line_into_a_valid_book(tmp_path: Path) -> None:
    nested = "".join(f"<section>{f'<{tag}>' * 5000}Deep in {tag}. {STORY}{f'</{tag}>' * 5000}</section>" for tag in ("span", "b", "div", "i"))
    chapter_one = page(f"<p>Before{REFERENCES}. {STORY}</p>{nested}<p>After &#xFDD4;0 and &#xFDD0;. {STORY}</p>", title="Chapter 1: Deep")
    chapter_two = page(f"<p>One. {STORY}</p><embed src='x.swf'><p>Two. {STORY}</p><nav>Harbour<p>Three. {STORY}</p>", title="Chapter 2: Open")
    folder = write_chapters(tmp_path / "input", {"0001.html": chapter_one, "0002.html": chapter_two})
    out = tmp_path / "book.epub"
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(out), "--title", "Deep Water", "-q"])
    assert result.exit_code == 0, result.output
    book = OpenedEpub(out)
    first = book.paragraphs(0)
    assert first[0] == f"Before. {STORY}" and first[-1] == f"After 0 and . {STORY}"
    assert [paragraph for paragraph in first if paragraph.startswith("Deep in ")] == [f"Deep in {tag}. {STORY}" for tag in ("span", "b", "div", "i")]
    assert len(book.chapter(0).findall(".//x:strong", NS)) == 1 and not book.chapter(0).findall(".//x:strong//x:strong", NS)
    assert book.paragraphs(1) == [f"One. {STORY}", f"Two. {STORY}", "Harbour", f"Three. {STORY}"]
    assert "a <nav> is never closed" in result.stderr
    text = book.text()
    assert _clean(text.replace("\n", " ")) and "\ufdd4" not in text
    assert_valid(out)


# Item 17: only page images that decode whole go in

FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP"}
SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff\xe0", "gif": b"GIF89a", "webp": b"RIFF\x10\x00\x00\x00WEBPVP8 "}


def _broken_images(folder: Path) -> list[str]:
    """Beside a good PNG: a fake (its signature, then junk) and a truncated copy of each format."""
    names = []
    for extension, format in FORMATS.items():
        good = image_bytes(format, (120, 90))
        broken = {"fake": SIGNATURES[extension] + b"\x00not an image at all" * 20, "truncated": good[: len(good) // 2]}
        for kind, data in broken.items():
            (folder / f"{kind}.{extension}").write_bytes(data)
            names.append(f"{kind}.{extension}")
    return names


def test_hostile_pages_fake_and_truncated_images_are_left_out_with_a_warning_naming_page_and_src(tmp_path: Path) -> None:
    folder = tmp_path / "input"
    folder.mkdir()
    names = _broken_images(folder)
    (folder / "good.png").write_bytes(PNG)
    images = "".join(f"<p>Before {name}. {STORY}</p><img src='{name}'>" for name in names)
    (folder / "0001.html").write_text(page(f"{images}<img src='good.png' alt='good'><p>The end. {STORY}</p>"), encoding="utf-8")
    result = build(folder, BookConfig(title="Broken Pictures"), tmp_path / "book.epub")
    assert [warning for warning in result.book.warnings if "decodes" in warning] == [
        f"0001.html: image {name} is not an image that decodes whole (a fake or a broken file), left out" for name in names
    ]
    book = OpenedEpub(result.path)
    assert [name for name in book.names if name.startswith("EPUB/images/chapter-")] == ["EPUB/images/chapter-0001-1.png"]
    assert book.files["EPUB/images/chapter-0001-1.png"] == PNG
    assert book.paragraphs(0)[-1] == f"The end. {STORY}"
    assert_valid(book.path)


@pytest.mark.parametrize("extension", FORMATS)
def test_hostile_pages_a_whole_image_of_each_format_still_goes_in(tmp_path: Path, extension: str) -> None:
    (tmp_path / f"picture.{extension}").write_bytes(image_bytes(FORMATS[extension]))
    result = html_to_lines(page(f"<p>{STORY}</p><img src='picture.{extension}'>"), "0001.html", images_beside(tmp_path / "0001.html"))
    assert result.warnings == [] and [image.media_type for image in result.images] == [f"image/{'jpeg' if extension == 'jpg' else extension}"]


FERRY_STORY = [
    "The ferry left the quay an hour before dawn, its lamps still lit against the fog.",
    "Mira counted the crates twice and found one more than the manifest allowed.",
    "Nobody on the deck would say who had carried it aboard, or when.",
]


@pytest.mark.parametrize("opening", ['<div class="share">Share this:', '<div id="social-bar"><a href="#">Tweet</a>', '<div class="ads-wrapper">', '<section class="comments-top">'])
def test_hostile_a_chrome_element_never_closed_keeps_the_story_the_parser_put_in_it(opening: str) -> None:
    """Named like chrome but never closed, the element holds every later paragraph: it is kept rather than lose them."""
    markup = f"<html><body>{opening}<div class='entry'>" + "".join(f"<p>{line}</p>" for line in FERRY_STORY) + "</div></body></html>"
    lines = html_to_lines(markup, "0001.html").lines
    assert all(line in lines for line in FERRY_STORY), lines


def test_hostile_a_closed_chrome_element_still_goes() -> None:
    markup = "<html><body><div class='share'>Share this: Tweet</div><div class='entry'>" + "".join(f"<p>{line}</p>" for line in FERRY_STORY) + "</div></body></html>"
    lines = html_to_lines(markup, "0001.html").lines
    assert lines == FERRY_STORY
