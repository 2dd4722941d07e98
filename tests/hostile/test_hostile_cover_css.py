"""Hostile covers and stylesheets (issue 19, items 1, 8, 17 and 18): files that are not regular
files or are too big, images that do not decode whole, CSS that does not parse or names files
that are not in the book."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from ebooklib import epub
from PIL import Image

from conftest import OpenedEpub, assert_valid, write_chapters
from epubgen.cli import main
from epubgen.errors import InputError
from epubgen.files import MAX_IMAGE_BYTES, MAX_STYLESHEET_BYTES
from epubgen.package.cover import given_cover
from epubgen.package.stylesheet import user_stylesheet, vetted_stylesheet

CHAPTERS = {"001.txt": "Chapter 1: One\n\nFirst.\n", "002.txt": "Chapter 2: Two\n\nSecond.\n"}
CAPS = {"cover": MAX_IMAGE_BYTES, "css": MAX_STYLESHEET_BYTES}


def build_cli(*args: str) -> tuple[int, list[str]]:
    """Run `epubgen build ARGS` in this process: the exit code and the lines of stderr."""
    result = CliRunner().invoke(main, ["build", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr.strip().splitlines()


def assert_refused(folder: Path, output: Path, *named: str) -> None:
    code, lines = build_cli(str(folder), "-o", str(output), "-q")
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert all(part in lines[0] for part in named), lines
    assert not output.exists()


def image(format: str, size: tuple[int, int] = (60, 90)) -> bytes:
    """A real image, noisy enough that a cut one is missing pixels."""
    picture = Image.effect_noise(size, 80).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, format=format)
    return buffer.getvalue()


WHY_REFUSED = {"dev-zero": "not a regular file", "fifo": "not a regular file", "folder": "not a regular file", "over-cap": "larger than", "nul-name": "NUL"}


def hostile_file(tmp_path: Path, kind: str, family: str) -> Path:
    """A path to something that is not a readable, reasonably sized file."""
    if family == "dev-zero":
        return Path("/dev/zero")
    path = tmp_path / f"my-{kind}"
    if family == "fifo":
        os.mkfifo(path)
    elif family == "folder":
        path.mkdir()
    elif family == "over-cap":
        with path.open("wb") as file:
            file.truncate(CAPS[kind] + 1)
    elif family == "nul-name":
        return tmp_path / "my\x00cover"
    return path


@pytest.mark.parametrize("family", ["dev-zero", "fifo", "folder", "over-cap", "nul-name"])
@pytest.mark.parametrize("kind", ["cover", "css"])
def test_a_cover_or_stylesheet_that_is_no_regular_file_of_a_fair_size_is_refused(tmp_path: Path, kind: str, family: str) -> None:
    folder = write_chapters(tmp_path / "novel", CHAPTERS)
    path = hostile_file(folder, kind, family)
    toml_path = str(path).replace("\x00", "\\u0000")
    (folder / "book.toml").write_text(f'{kind} = "{toml_path}"\n')
    why = "outside the input folder" if family == "dev-zero" else WHY_REFUSED[family]
    assert_refused(folder, tmp_path / "book.epub", "my" if family == "nul-name" else str(path), why)


def test_a_cover_or_stylesheet_name_with_a_nul_byte_is_refused_by_the_reader_too(tmp_path: Path) -> None:
    for read in (lambda path: given_cover(path, None), user_stylesheet):
        with pytest.raises(InputError, match=r"my\ufffdfile: .* refused \(a NUL byte in its name\)$"):
            read(f"{tmp_path}/my\x00file")


@pytest.mark.parametrize("family", ["dev-zero", "fifo", "over-cap"])
@pytest.mark.parametrize("kind", ["cover", "css"])
def test_the_command_line_options_refuse_them_too(tmp_path: Path, kind: str, family: str) -> None:
    folder = write_chapters(tmp_path / "novel", CHAPTERS)
    path = hostile_file(tmp_path, kind, family)
    output = tmp_path / "book.epub"
    code, lines = build_cli(str(folder), "-o", str(output), "-q", f"--{kind}", str(path))
    assert (code, len(lines), lines[0].startswith("error: ")) == (1, 1, True), lines
    assert str(path) in lines[0] and WHY_REFUSED[family] in lines[0], lines
    assert not output.exists()


def damaged(data: bytes, damage: str) -> bytes:
    if damage == "truncated":
        return data[: len(data) // 2]
    return data[:12] + b"\x00not an image at all" * 20


@pytest.mark.parametrize("damage", ["truncated", "fake"])
@pytest.mark.parametrize("format", ["PNG", "JPEG", "GIF", "WEBP"])
def test_a_given_cover_that_does_not_decode_whole_is_refused(tmp_path: Path, format: str, damage: str) -> None:
    folder = write_chapters(tmp_path / "novel", CHAPTERS)
    cover = tmp_path / f"cover.{format.lower()}"
    cover.write_bytes(damaged(image(format), damage))
    (folder / "book.toml").write_text(f'cover = "{cover}"\n')
    assert_refused(folder, tmp_path / "book.epub", str(cover))


@pytest.mark.parametrize("format", ["PNG", "JPEG"])
def test_a_whole_cover_goes_in_as_it_is(tmp_path: Path, format: str) -> None:
    folder = write_chapters(tmp_path / "novel", CHAPTERS)
    data = image(format)
    (tmp_path / "cover").write_bytes(data)
    code, lines = build_cli(str(folder), "-o", str(tmp_path / "book.epub"), "-q", "--cover", str(tmp_path / "cover"))
    assert (code, lines) == (0, [])
    book = OpenedEpub(tmp_path / "book.epub")
    assert book.files[f"EPUB/images/cover.{'png' if format == 'PNG' else 'jpg'}"] == data
    if format == "JPEG":
        assert_valid(book.path)


def epub_with_cover(path: Path, cover: bytes) -> Path:
    book = epub.EpubBook()
    book.set_identifier("urn:uuid:12345678-1234-5678-1234-567812345678")
    book.set_title("The Salt Road")
    book.set_language("en")
    chapters = [epub.EpubHtml(title=f"Chapter {n}", file_name=f"c{n}.xhtml", content=f"<h1>Chapter {n}</h1><p>Road {n}.</p>") for n in (1, 2)]
    book.set_cover("cover.png", cover)
    for chapter in chapters:
        book.add_item(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    epub.write_epub(str(path), book)
    return path


@pytest.mark.parametrize("damage", ["truncated", "fake"])
@pytest.mark.parametrize("format", ["PNG", "JPEG"])
def test_an_input_epubs_broken_cover_gives_way_to_a_generated_one(tmp_path: Path, format: str, damage: str) -> None:
    broken = damaged(image(format), damage)
    source = epub_with_cover(tmp_path / "old.epub", broken)
    code, _ = build_cli(str(source), "-o", str(tmp_path / "book.epub"), "-q")
    assert code == 0
    book = OpenedEpub(tmp_path / "book.epub")
    assert Image.open(io.BytesIO(book.files["EPUB/images/cover.png"])).size == (1200, 1800)
    assert book.text().count("Road") == 2
    cover, warnings = given_cover("", broken)
    assert cover is None and len(warnings) == 1 and "the input EPUB's cover" in warnings[0]
    if (format, damage) == ("PNG", "truncated"):
        assert_valid(book.path)


def test_an_input_epubs_whole_cover_is_kept(tmp_path: Path) -> None:
    data = image("PNG")
    cover, warnings = given_cover("", data)
    assert (cover.data, cover.media_type, warnings) == (data, "image/png", ())


UNPARSABLE = {
    "unterminated-block": ("p { margin: 0", "line 1"),
    "unterminated-media": ("@media screen {\n  p { margin: 0 }\n", "line 1"),
    "unterminated-string": ('p { margin: 0 }\np::after { content: "open }', "line 2"),
    "garbage": ("p { margin: 0 }\n}}} @@@ {{{", "line 2"),
    "stray-brace": ("} p { margin: 0 }", "line 1, column 1"),
    "bad-string-at-rule-level": ('p { margin: 0 }\n"open\np { margin: 0 }', "line 2"),
    "bad-selector": ("p!! { margin: 0 }", "line 1"),
    "number-selector": ("h1 5 { margin: 0 }", "line 1"),
    "no-selector": ("{ margin: 0 }", "line 1"),
    "declaration-at-top": ("margin: 0;", "line 1"),
    "open-comment": ("p { margin: 0 }\n/* not closed", "line 2"),
    "nul-in-a-selector": ("p { margin: 0 }\r\na\x00b { margin: 0 }", "line 2, column 2"),
}


@pytest.mark.parametrize("case", UNPARSABLE)
def test_a_stylesheet_that_does_not_parse_is_refused_with_where(tmp_path: Path, case: str) -> None:
    css, where = UNPARSABLE[case]
    folder = write_chapters(tmp_path / "novel", {**CHAPTERS, "my.css": css})
    (folder / "book.toml").write_text('css = "my.css"\n')
    assert_refused(folder, tmp_path / "book.epub", str(folder / "my.css"), where)


def test_a_stylesheet_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "novel", {**CHAPTERS, "my.css": 'p::before { content: "caf\u00e9" }'.encode("latin-1")})
    (folder / "book.toml").write_text('css = "my.css"\n')
    assert_refused(folder, tmp_path / "book.epub", str(folder / "my.css"), "UTF-8")


KEPT = (
    "/* the user's own rules */\r\n"
    "p { text-indent: 1.5em; margin: 0 }\r\n"
    "h1 { font-family: 'Libre Baskerville', serif }\r\n"
    "p.scene::after { content: '\\2042'; display: block }\r\n"
    "@media (min-width: 40em) { p { margin: 0 2em } }\r\n"
    "@font-face { font-family: Local; src: local('Georgia') }\r\n"
    "@page { margin: 1em }\r\n"
    ".calibre1:first-child, div > p + p ~ p, a[href$='.xhtml']:not(.x) { font-size: 1em !important }\r\n"
    "@keyframes fade { from { opacity: 0 } 50%, 75% { opacity: .5 } to { opacity: 1 } }\r\n"
    ":root { --gap: 1em; --none: ; --nothing:; --comment: /**/ } p { margin-bottom: var(--gap, 0); font: italic bold 12px/30px Georgia, serif }\r\n"
    "div { background: url(data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==) }\r\n"
    "p.svg { background: url('data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxIiBoZWlnaHQ9IjEiLz4=') }\r\n"
    "@font-face { font-family: Inline; src: url(data:font/ttf;base64,AAEAAA==) format('truetype') }\r\n"
    "p.ie { _height: 1px; content: '\x00' } /* a NUL \x00 in a string or a comment is kept */\r\n"
)

DROPPED = {
    '@import url("https://x/a.css");\n': "@import",
    '@import "//cdn/x.css";\n': "@import",
    "@import 'local.css' screen;\n": "@import",
    '@IMPORT url(  "HTTP://X/b.css"  );\n': "@import",
    '@charset "iso-8859-1";\n': "@charset",
    "b { color: red; background: url(javascript:alert(1)) }\n": "background",
    'i { background-image: url( "JAVASCRIPT:alert(2)" ); color: blue }\n': "background-image",
    "q { background: URL( 'JavaScript:alert(3)' ) }\n": "background",
    "s { background: url(https://x/y.png) no-repeat }\n": "background",
    "u { cursor: url(//cdn/hand.cur), auto }\n": "cursor",
    'em { background: url("data:text/html,<script>alert(1)</script>") }\n': "background",
    "strong { background: url(../images/not-in-the-book.png) }\n": "background",
    "@font-face { font-family: Remote; src: url(https://x/f.woff2) format('woff2') }\n": "@font-face",
    '@font-face { font-family: Missing; src: url("fonts/f.woff") }\n': "@font-face",
    "@font-face { }\n": "@font-face",
    "dfn { background: url(not a url) }\n": "background",
    "bdo { direction: rtl; unicode-bidi: bidi-override }\n": "direction",
    "@media print { small { background: url(http://x/p.png) } }\n": "background",
}


def test_a_stylesheet_with_nothing_to_drop_goes_in_byte_identical(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "novel", {**CHAPTERS, "my.css": KEPT.encode()})
    code, lines = build_cli(str(folder), "-o", str(tmp_path / "book.epub"), "-q", "--css", str(folder / "my.css"))
    assert (code, lines) == (0, [])
    assert OpenedEpub(tmp_path / "book.epub").files["EPUB/styles/my.css"] == KEPT.encode()
    assert vetted_stylesheet(KEPT, "my.css") == (KEPT, ())


def test_imports_remote_and_script_urls_and_files_not_in_the_book_are_dropped_with_a_warning(tmp_path: Path) -> None:
    css = "".join(DROPPED) + KEPT
    cleaned, warnings = vetted_stylesheet(css, "my.css")
    assert len(warnings) == len(DROPPED) + 1  # the bdo rule holds two properties EPUB forbids
    for line, (rule, dropped) in enumerate(DROPPED.items(), 1):
        assert any(warning.startswith(f"my.css: line {line}, ") and dropped in warning for warning in warnings), (rule, warnings)
    for gone in ("@import", "charset", "javascript", "//", "script", "not-in-the-book", "fonts/f.woff", "direction", "unicode-bidi", "remote"):
        assert gone not in cleaned.lower(), gone
    assert cleaned.endswith(KEPT)
    assert "b { color: red; }" in cleaned and "i { color: blue }" in cleaned and "@media print { small { } }" in cleaned
    assert vetted_stylesheet(cleaned, "my.css") == (cleaned, ())
    long_data = "p { background: url(data:text/plain;base64," + "A" * 100_000 + ") }"
    assert len(vetted_stylesheet(long_data, "my.css")[1][0]) < 200

    folder = write_chapters(tmp_path / "novel", {**CHAPTERS, "my.css": css})
    code, _ = build_cli(str(folder), "-o", str(tmp_path / "book.epub"), "-q", "--css", str(folder / "my.css"))
    assert code == 0
    book = OpenedEpub(tmp_path / "book.epub")
    assert book.files["EPUB/styles/my.css"] == cleaned.encode()
    assert_valid(book.path)


def test_vetting_names_the_place_of_the_first_parse_error() -> None:
    with pytest.raises(InputError, match=r"^my\.css: not valid CSS at line 3, column 2 "):
        vetted_stylesheet("p { margin: 0 }\r\n\r\nq! { a: 1 }\nr! { b: 2 }", "my.css")


RECOVERED = {
    "p { *zoom: 1; color: red }\r\n": ("p { color: red }\r\n", "line 1, column 5: '*zoom: 1'"),
    "p { color: red; _height: 1px; margin 0 }\r\n": ("p { color: red; _height: 1px; }\r\n", "line 2, column 31: 'margin 0'"),
    "p{color:red;;}\r\n": ("p{color:red;}\r\n", "line 3, column 13: ';'"),
    "p{;color:red; /* kept */ ; }\r\n": ("p{color:red; /* kept */ }\r\n", "line 4, column 3: ';'"),
    "p {\r\n  margin: ;\r\n}\r\n": ("p {\r\n  }\r\n", "line 6, column 3: margin"),
    "p { margin: !important; --x: !important; --y: }\r\n": ("p { --y: }\r\n", "line 8, column 25: --x"),
    "p { color: red) }\r\n": ("p { }\r\n", "line 9, column 5: color"),
    "p {\r\n  margin: 0;\r\n  em { color: red }\r\n  color: blue\r\n}\r\n": ("p {\r\n  margin: 0;\r\n  color: blue\r\n}\r\n", "line 12, column 3: 'em { color: red }'"),
    "@page { @top-center { content: 'x' } margin: 1em }\r\n": ("@page { margin: 1em }\r\n", 'line 15, column 9: "@top-center'),
    'p::after { content: "open\r\n}\r\n': ("p::after { }\r\n", "line 16, column 12: content"),
    'p { background: url("open\r\n) }\r\n': ("p { }\r\n", "line 18, column 5: background"),
    "p { a: @x; b: <!--; c: -->; d: ^= x; e: f(;); f: [;]; g: {x}; h: f({x}); i: 1 }\r\n": ("p { i: 1 }\r\n", "line 20, column 63: h"),
}


def test_a_declaration_that_does_not_parse_is_dropped_with_where_and_the_rest_kept_as_written(tmp_path: Path) -> None:
    css = "".join(RECOVERED)
    cleaned, warnings = vetted_stylesheet(css, "my.css")
    assert cleaned == "".join(kept for kept, _ in RECOVERED.values())
    for _, (_, where) in RECOVERED.items():
        assert any(warning.startswith(f"my.css: {where}") for warning in warnings), (where, warnings)
    assert len(warnings) == 22, warnings
    assert vetted_stylesheet(cleaned, "my.css") == (cleaned, ())

    folder = write_chapters(tmp_path / "novel", {**CHAPTERS, "my.css": css})
    code, lines = build_cli(str(folder), "-o", str(tmp_path / "book.epub"), "--css", str(folder / "my.css"))
    assert code == 0 and sum("dropped" in line for line in lines) == 22, lines
    book = OpenedEpub(tmp_path / "book.epub")
    assert book.files["EPUB/styles/my.css"] == cleaned.encode()
    assert_valid(book.path)
