"""Property tests for hostile and broken input (issue 19): folders of arbitrary files, names included.

Each example is a folder (its own name arbitrary too) of 1 to 6 files, sometimes with a book.toml and
sometimes with entries that are not regular files (a subfolder, a FIFO, symlinks to /etc/passwd, to
/dev/zero, to a chapter, to the folder, dangling, looping), built by the real command (`epubgen build
FOLDER -o OUT/out.epub --quiet`, in-process through click's CliRunner, under an alarm and a memory cap
so that a hang or a memory bomb fails the test instead of stalling the machine). The files: prose
chapters (below) as text in several encodings or as saved pages with hostile markup, arbitrary
bytes, arbitrary text with control characters and lone surrogates (written with `surrogatepass` or
`surrogateescape`), and book.toml files of plausible or arbitrary values for the keys of
epubgen.config.FIELDS, unknown keys or bytes that are not TOML. Whatever the folder holds, epubgen
must either

- exit 0 with a readable EPUB at the output path (a zip, `mimetype` first, its XHTML, OPF and NCX
  well-formed) that holds every prose line of the input (see below), its stderr only `warning: ...`
  lines; or
- exit non-zero having written nothing at the output path (no EPUB, no `.part` file), its stderr
  exactly one `error: ...` line (and perhaps `warning: ...` lines) that names the input folder, one
  of its files (as is, or with the characters that cannot be shown escaped or replaced), book.toml,
  one of its keys or a path it names; and, without a book.toml, not a prose chapter: a good chapter
  is never the file a build stops at;

never with a traceback, an exception other than SystemExit, or anything on stdout (--quiet). A second
test runs EPUBCheck (zero errors, zero warnings) on what a few folders build, among them one of
hostile names, pages and metadata.

What a "prose line" is. The test only claims lines it wrote itself to be plainly story text, so that
a line missing from the book is epubgen's fault, never the cleaner rightly removing junk:

- a sentence of 6 to 20 words drawn from a small list of ordinary words (WORDS: no word the junk
  rules, note labels, credit lines or heading patterns look for, such as chapter, next, previous,
  translator, patreon, read, novel, support; and no `v` or `w`, the letters of nearly every site
  name the watermark finder looks for in a line's letters run together), capitalised, with at most one
  comma, ending in a period; no quote, dash, dot run, digit, bracket, colon, `*` or `_`, so neither
  typography nor plain emphasis nor the notes finder can change it;
- or, for Chinese text, 11 to 29 common Han characters (no 第, 章 or 点: no heading, no site notice),
  with at most one `，`, ending in `。`;
- each with a name made for that line alone (`Kalor`, `李明华`), so that no two lines of a folder are
  alike: neither the detector of lines repeated across chapters nor the one of chapters downloaded
  twice has a reason to take one.

A text chapter may open with a heading (`Chapter N`, `第N章`), use any newline convention, and hold
after a line's period characters epubgen drops (controls, zero-width characters, a BOM, noncharacters)
or reads as line breaks (NEL, U+2028). A page may write a prose line's letters as character references,
put some of its words in emphasis, and its spaces as `&nbsp;`, tabs or line breaks.

A prose line is claimed only when it stands in a file epubgen reads as a chapter (a name not starting
with `.` and ending in `.txt`, `.html`, `.htm` or `.xhtml`, in any case, as epubgen.read.text says), in
the form its name says (prose text in a text file, a prose page in a page file), in an encoding the
file says (UTF-8; UTF-8 or UTF-16 with a BOM) or that detection reliably recognises (GB18030 for a
Chinese text of 60 characters or more, cp1252 for an English text of 200 or more with accented words),
and when the folder has no book.toml, or one that is TOML of known keys setting no `encoding` (a
wrong one misreads every file, rightly; the test sets no rules that remove text). A page holds its
prose paragraphs as siblings in one element (the reader takes the element holding most paragraph
text); hostile markup stands around and between them (a DOCTYPE with entities, hundreds of nested or
unclosed elements, unclosed tags, void elements such as `<embed>`, `<wbr>`, `<source>`, `<img
src="/etc/passwd">`, scripts, character references to control characters, noncharacters and to
epubgen's own mark characters), never splitting them up.

Comparison: the book's chapter text and the prose line are both NFC-composed with whitespace runs
collapsed to one space; the line must be a substring (hard-wrap joining and page layout may put
several lines in one paragraph).

EPUBGEN_PROPERTY_EXAMPLES and EPUBGEN_PROPERTY_EPUBCHECK_EXAMPLES (environment) set the number of
generated examples of the two tests (default 60 and 1), for longer sweeps.
"""

from __future__ import annotations

import codecs
import os
import re
import resource
import signal
import tempfile
import tomllib
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from conftest import OpenedEpub, epubcheck
from epubgen.cli import main

EXAMPLES = int(os.environ.get("EPUBGEN_PROPERTY_EXAMPLES", "60"))
EPUBCHECK_EXAMPLES = int(os.environ.get("EPUBGEN_PROPERTY_EPUBCHECK_EXAMPLES", "1"))

CHAPTER_SUFFIXES = (".txt", ".html", ".htm", ".xhtml")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
CONFIG_NAME = "book.toml"

WORDS = tuple(
    """the old man sat near fire and told long tale of his youth in hills she laughed at dark stream ran past
    stone gate quiet morning light fell across table cold rain struck roof as horses stamped their feet mud
    yard lamp flickered kitchen girl smiled boy counted coins under sky mountain pass lay empty silent garden
    apple trees bloomed early spring merchant sold silk spices market square soldiers marched through
    sleeping city bells rang temple far beyond forest lake shone like glass cat slept on hot sill storm
    passed harbor ships rocked gently sea sister hummed song mending nets children played beside brook
    until dusk came""".split()
)
ACCENTED_WORDS = ("café", "façade", "crème", "señora", "jalapeño", "déjà", "fiancée", "entrée", "piñata", "über")
SYLLABLES = ("ka", "lo", "mi", "re", "su", "ta", "no", "pe", "di", "fa", "go", "hu")
HAN = (
    "老人坐在火边讲了一个很长的故事她朋友们都门外等着他山上下雨天空里有小河水流过石桥村子"
    "孩玩耍到晚春花开满园商卖丝绸和香料市场钟声响起寺庙远方森林湖泊像镜"
)
SURNAMES = "李王张刘陈杨赵黄周吴"
GIVEN = "明华强军平芳娜敏静丽"

assert not any(set(word) & set("vw") for word in WORDS + ACCENTED_WORDS)
assert not set("第章点") & set(HAN + SURNAMES + GIVEN)


# The files of a folder


@dataclass(frozen=True)
class Entry:
    """One file of the input folder: its name (as the folder lists it), its bytes, the prose lines epubgen
    must carry into the book if it reads the file as a chapter, and what kind of content it is."""

    name: str
    data: bytes
    prose: tuple[str, ...] = ()
    kind: str = "junk"
    """text (prose in a text file), page (prose in an HTML page), or junk (no claim on the book)."""


@dataclass(frozen=True)
class Folder:
    entries: tuple[Entry, ...]
    config: bytes | None = None
    """The bytes of book.toml, if the folder has one."""
    config_keys: tuple[str, ...] = ()
    config_paths: tuple[str, ...] = ()
    """The keys book.toml sets and the path values (cover, css) it names, for the error check."""
    config_parses: bool = False
    """Whether book.toml is TOML that sets keys epubgen knows (the prose claim holds only then, or without one)."""
    claims_prose: bool = True
    """False when book.toml sets something that may rightly take prose away (encoding)."""
    specials: tuple[tuple[str, str], ...] = ()
    """(name, what) of entries that are not regular files: a folder, a FIFO, symlinks (see SPECIALS)."""
    folder_name: str = "in"
    """The name of the input folder itself."""


def listed_name(name: str) -> str:
    """The name as the folder lists it (bytes given as surrogates may make UTF-8 that lists as other characters)."""
    return os.fsdecode(os.fsencode(name))


def is_chapter_name(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in CHAPTER_SUFFIXES


def is_legal_name(name: str) -> bool:
    try:
        encoded = os.fsencode(name)
    except UnicodeEncodeError:
        return False
    return bool(encoded) and b"/" not in encoded and b"\0" not in encoded and encoded not in (b".", b"..") and len(encoded) <= 255


# Names

ORDINARY_STEMS = ("0001", "0002", "0010", "0100", "Chapter 3", "chapter-12", "第1章", "第12章 标题", "ch 2", "Ch.4", "c1")
ODD_STEMS = (
    "a b  c", " leading", "trailing ", "tab\there", "new\nline", "cr\rname", "\x01\x02\x7f", "\x1b[31mred", "naïve café",
    "ｆｕｌｌ", "🙂", "\u202eevil", "\u200bzero", "-rf", "--help", "~user", "$HOME", "*", "?", "[a]", "'quote\"", "\\back",
    ".hidden", "..dots", "...", "\udcff\udcfe", "bad\udce9byte", "e\u0301", "\u00e9", "\u2028sep", "CON", "a" * 200, "\ufdd0\ufffe",
)
EXTENSIONS = (".txt", ".TXT", ".Txt", ".html", ".HTML", ".htm", ".xhtml", ".epub", ".md", "", ".txt.bak", ".", ".toml", ".txt\n", ".txt ")
TEXT_EXTENSIONS = (".txt", ".TXT", ".Txt")
PAGE_EXTENSIONS = (".html", ".HTML", ".htm", ".xhtml", ".XHTML")
name_character = st.one_of(
    st.characters(exclude_characters="/\x00", exclude_categories=("Cs",)),
    st.sampled_from("\n\r\t\x01\x1b\x7f\x85\u2028 .-"),
    st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF),  # bytes that are not UTF-8, as Python lists them
)
stems = st.one_of(st.sampled_from(ORDINARY_STEMS), st.sampled_from(ODD_STEMS), st.text(name_character, min_size=0, max_size=24))


def names(extensions: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda stem, extension: stem + extension, stems, extensions).filter(is_legal_name).map(listed_name)


any_extension = st.sampled_from(EXTENSIONS)
text_extension = st.one_of(st.sampled_from(TEXT_EXTENSIONS), st.sampled_from(TEXT_EXTENSIONS), any_extension)
page_extension = st.one_of(st.sampled_from(PAGE_EXTENSIONS), st.sampled_from(PAGE_EXTENSIONS), any_extension)


# Prose


def latin_name(index: int) -> str:
    return (SYLLABLES[index // len(SYLLABLES) % len(SYLLABLES)] + SYLLABLES[index % len(SYLLABLES)] + "r").capitalize()


def han_name(index: int) -> str:
    return SURNAMES[index // 100 % 10] + GIVEN[index // 10 % 10] + GIVEN[index % 10]


@dataclass(frozen=True)
class Sentence:
    """A prose line before its name is known: words, where the name goes and where a comma goes."""

    words: tuple[str, ...]
    name_at: int
    comma_at: int | None
    han: bool = False

    def line(self, index: int) -> str:
        if self.han:
            text = list("".join(self.words))
            text.insert(min(self.name_at, len(text)), han_name(index))
            if self.comma_at is not None and 0 < self.comma_at < len(text):
                text.insert(self.comma_at, "，")
            return "".join(text) + "。"
        words = list(self.words)
        words.insert(min(self.name_at, len(words)), latin_name(index))
        if self.comma_at is not None and 0 < self.comma_at < len(words) - 1:
            words[self.comma_at] += ","
        words[0] = words[0][:1].upper() + words[0][1:]
        return " ".join(words) + "."


def sentences(accented: bool = False) -> st.SearchStrategy[Sentence]:
    vocabulary = st.sampled_from(WORDS + ACCENTED_WORDS) if accented else st.sampled_from(WORDS)
    return st.builds(
        Sentence,
        words=st.lists(vocabulary, min_size=5, max_size=19).map(tuple),
        name_at=st.integers(0, 19),
        comma_at=st.none() | st.integers(1, 18),
    )


han_sentences = st.builds(
    Sentence,
    words=st.lists(st.sampled_from(HAN), min_size=8, max_size=26).map(tuple),
    name_at=st.integers(0, 26),
    comma_at=st.none() | st.integers(2, 26),
    han=st.just(True),
)


class Names:
    """Hands each prose line of a folder its own name."""

    def __init__(self) -> None:
        self.next = 0

    def lines(self, drafts: list[Sentence]) -> list[str]:
        lines = [draft.line(self.next + index) for index, draft in enumerate(drafts)]
        self.next += len(drafts)
        return lines


def with_bom(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-le":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if encoding == "utf-16-be":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode(encoding)


GARNISH = ("", "\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\u200b", "\ufeff", "\x85", "\u2028", "\u2029", " \t ", "\x9f", "\ufffe", "\ufdd0", "\U0010ffff")
"""What a text may hold after a line's period: controls, zero-width characters, a BOM, other line breaks, noncharacters."""


def text_chapter(lines: list[str], heading: str | None, separator: str, newline: str, encoding: str, garnish: tuple[str, ...] = ()) -> bytes:
    if garnish:
        lines = [line + garnish[index % len(garnish)] for index, line in enumerate(lines)]
    text = (f"{heading}\n\n" if heading else "") + separator.join(lines) + "\n"
    return with_bom(text.replace("\n", newline), encoding)


# Pages: prose paragraphs as siblings in one element, hostile markup around and between them.

BEFORE_BODY = (
    "",
    "<!DOCTYPE html>",
    '<?xml version="1.0" encoding="iso-8859-1"?>',
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
    '<meta charset="shift_jis">',
    "<html><html><head></head>",
    "<![CDATA[ cdata ]]>",
)
AROUND = (
    "",
    "<script>document.write('<p>x</p>')</script>",
    '<embed src="movie.swf" type="application/x-shockwave-flash">',
    '<object data="/etc/passwd" type="text/plain"></object>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<img src="/etc/passwd">',
    '<img src="../../../../../../../../etc/passwd">',
    '<img src="file:///etc/passwd">',
    '<img src="data:image/png;base64,iVBORw0KGgo=">',
    '<img src="0001.txt">',
    '<img src="%2e%2e/%2e%2e/etc/passwd">',
    '<img src="">',
    "<img>",
    '<link rel="stylesheet" href="/etc/passwd">',
    '<style>p { display: none } .x { visibility: hidden }</style>',
    '<base href="file:///etc/">',
    "<form action=x><input value=y></form>",
    "&#1;&#0;&#x1F;&#xFFFE;&#xFFFF;&#xD800;&#x110000;&#99999999999;",
    "<p>&#1;</p>",
    "<p>&#xFDD0;&#xFDD2;</p>",
    "<p>&#xFDD4;0</p>",
    "<p>&#xFDD4;99</p>",
    "&#xFDD4;7",
    "<hr><hr/>",
    "<br><br/></br>",
    "<!-- a comment --!>",
    '<a href="javascript:alert(1)" onclick="x()">&#x202E;</a>',
    "<math><mi>x</mi></math>",
    "<table><tr><td></td></tr></table>",
    "<p></p><p> </p>",
    '<source src="/etc/passwd">',
    "<wbr>",
)
"""Put before or after the element of paragraphs, or between two paragraphs: each closed, or a void element."""
INSIDE = (
    "", " &#1;", " &#0;", " &#xFFFE;", " &#xFDD1;", '<embed src="x">', "<br>", "<span></span>", "<b></b>", "<i></i>", '<img src="/etc/passwd">',
    "<wbr>", '<source src="x">', "<track>",
)
"""Put after a paragraph's text: void elements (HTML5 has no end tag for embed, img, br, wbr, source, track) and closed ones."""
AFTER = (
    "",
    "<div><span><b><i><table><tr><td>",
    "<p>",
    "</div></div></div></div></body></html></html>",
    "<!-- never closed",
    "<![CDATA[ never closed",
    "<script>never closed",
    "<textarea>",
    "<",
    "&",
    "&#",
    "<title>Chapter 99</title>",
)


@dataclass(frozen=True)
class PageShape:
    before: str
    title: str | None
    around: tuple[str, ...]
    depth: int
    close_depth: bool
    container: str
    heading: bool
    inside: tuple[str, ...]
    between: tuple[str, ...]
    close_paragraphs: bool
    after: str
    markup: int = 0
    """How the prose is marked up (see marked_up): 0 as it is, 1 letters as character references, 2 words in
    emphasis, 3 spaces as `&nbsp;`, line breaks or tabs, 4 all of these."""


page_shapes = st.builds(
    PageShape,
    before=st.sampled_from(BEFORE_BODY),
    title=st.none() | st.sampled_from(["Chapter 7 | Site", "Chapter 2", "<b>", "&#1;", ""]),
    around=st.lists(st.sampled_from(AROUND), max_size=3).map(tuple),
    depth=st.one_of(st.just(0), st.integers(0, 12), st.integers(0, 400)),
    close_depth=st.booleans(),
    container=st.sampled_from(["", '<div id="chapter-content">', '<div class="text-left">', "<article>", "<main>", "<div>"]),
    heading=st.booleans(),
    inside=st.lists(st.sampled_from(INSIDE), max_size=3).map(tuple),
    between=st.lists(st.sampled_from(AROUND), max_size=3).map(tuple),
    close_paragraphs=st.booleans(),
    after=st.sampled_from(AFTER),
    markup=st.integers(0, 4),
)


def marked_up(line: str, markup: int, index: int) -> str:
    """A prose line as a page may hold it; its text, once parsed, is the line (whitespace aside)."""
    if markup in (1, 4):
        line = "".join(
            (f"&#{ord(c)};" if (position + index) % 2 else f"&#x{ord(c):X};") if c.isalpha() and (position + index) % 3 == 0 else c
            for position, c in enumerate(line)
        )
    words = line.split(" ")
    if markup in (2, 4) and len(words) > 3:
        first = index % (len(words) - 2)
        opening, closing = (("<i>", "</i>"), ("<b><em>", "</em></b>"), ("<strong>", "</strong>"))[index % 3]
        words[first] = opening + words[first]
        words[first + 1] += closing
    if markup in (3, 4) and len(words) > 2:
        gap = 1 + index % (len(words) - 1)
        return " ".join(words[:gap]) + ("&nbsp;", "\n", "\t", " \n  ")[index % 4] + " ".join(words[gap:])
    return " ".join(words)


def page_chapter(lines: list[str], shape: PageShape, number: int, encoding: str) -> bytes:
    head = f"<head><title>{shape.title}</title></head>" if shape.title is not None else ""
    parts = [shape.before, f"<html>{head}<body>", *shape.around, "<div>" * shape.depth, shape.container]
    if shape.heading:
        parts.append(f"<h1>Chapter {number}</h1>")
    for index, line in enumerate(lines):
        inside = shape.inside[index % len(shape.inside)] if shape.inside else ""
        parts.append(f"<p>{marked_up(line, shape.markup, index)}{inside}" + ("</p>" if shape.close_paragraphs else ""))
        if shape.between and index < len(lines) - 1:
            parts.append(shape.between[index % len(shape.between)])
    if shape.container:
        parts.append("</" + re.match(r"<(\w+)", shape.container)[1] + ">")
    if shape.close_depth:
        parts.append("</div>" * shape.depth)
    parts += [*shape.around, shape.after]
    if not shape.after:
        parts.append("</body></html>")
    return with_bom("\n".join(parts), encoding)


# Junk: arbitrary bytes, arbitrary text with control characters and lone surrogates

hostile_text = st.text(
    st.one_of(
        st.characters(),  # lone surrogates included
        st.sampled_from("\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9f\u2028\u2029\ufeff\ufffe\uffff\ufdd0\ufdd4\u202e\r\n<>&*-o0"),
    ),
    min_size=0,
    max_size=300,
)
escapable_text = st.text(
    st.one_of(st.characters(exclude_categories=("Cs",)), st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), st.sampled_from("\x00\x01\r\n")),
    max_size=300,
)
junk_data = st.one_of(
    st.binary(max_size=400),
    hostile_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    escapable_text.map(lambda text: text.encode("utf-8", "surrogateescape")),
    st.sampled_from([b"", b"\n\n", b"\x00" * 64, b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff\x00", b"PK\x03\x04", b"<html></html>", b"<p>&#1;</p>"]),
)


# book.toml


def toml_string(text: str) -> str:
    out = []
    for character in text:
        code = ord(character)
        if character in '"\\':
            out.append("\\" + character)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(character)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    """A key as TOML writes it: dotted (`notes.mode`, a key of a table) when it can be, else quoted."""
    return key if re.fullmatch(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*", key) else toml_string(key)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(key)} = {toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(value)


config_text = st.text(st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from("\n\r\t\x01\x7f\u2028{}%")), max_size=40)
any_toml = st.recursive(
    st.one_of(
        config_text,
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
    ),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(config_text, children, max_size=3)),
    max_leaves=6,
)
PATH_VALUES = ("missing.jpg", "/etc/passwd", "0001.txt", "", ".", "..", "book.toml", "../../../../etc/passwd", "a\nb.png", "\x01")
PLAUSIBLE = {
    "title": config_text,
    "author": st.one_of(config_text, st.lists(config_text, max_size=3)),
    "translator": st.one_of(config_text, st.lists(config_text, max_size=3)),
    "language": st.one_of(st.sampled_from(["en", "zh", "fr", "xx", "en-GB", "", "zh-Hans-CN", "123", "en\n", "i-klingon", "x-private", "en--", "de-"]), config_text),
    "original_title": config_text,
    "description": config_text,
    "publisher": config_text,
    "source": st.one_of(st.sampled_from(["https://example.org/x", "javascript:alert(1)", "file:///etc/passwd"]), config_text),
    "subjects": st.one_of(config_text, st.lists(config_text, max_size=3)),
    "identifier": st.one_of(st.sampled_from(["urn:isbn:9780000000000", "", "urn:uuid:x"]), config_text),
    "encoding": st.sampled_from(["utf-8", "gb18030", "cp1252", "nonsense", "hex", "rot13", "utf-16", "idna", "punycode", "utf-8\n", "unicode_escape", "raw_unicode_escape", "uu", "zlib"]),
    "style": st.sampled_from(["default", "block", "x", "default\n"]),
    "css": st.sampled_from(PATH_VALUES),
    "info_page": st.booleans(),
    "cover": st.sampled_from(PATH_VALUES),
    "generate_cover": st.booleans(),
    "typography": st.booleans(),
    "plain_emphasis": st.booleans(),
    "skip_bad": st.booleans(),
    "volume": st.lists(
        st.fixed_dictionaries({"chapters": st.one_of(st.sampled_from(["1-2", "2-1", "1-99999999999999999999", "0-0", "x"]), config_text)}, optional={"title": config_text}),
        max_size=3,
    ),
    "volumes.per_volume": st.one_of(st.integers(-3, 5), st.just(2**62), st.floats(allow_nan=True, allow_infinity=True)),
    "volumes.single_file": st.booleans(),
    "volumes.name": st.sampled_from(["{title}", "{title.__class__}", "{0}", "{volume:d}", "{", "}", "{nope}", "a/b", "", "\n"]),
    "clean.keep": st.lists(config_text, max_size=3),
    "clean.detect_repeated": st.booleans(),
    "notes.mode": st.one_of(st.sampled_from(["footnote", "endnote", "inline", "drop", "a\nb", ""]), config_text),
    "notes.by_kind": st.dictionaries(st.sampled_from(["TL", "ED", "PR", "AN", "XX", "\n"]), st.sampled_from(["drop", "inline", "x\ny"]), max_size=2),
    "notes.labels": st.dictionaries(st.one_of(st.sampled_from(["(", "[", "*", ".*", "\\", "Raw", "the", "\n"]), config_text), st.sampled_from(["TL", "ED", "AN", "XX"]), max_size=2),
}
TAKES_PROSE = ("encoding",)
"""book.toml keys with which a prose line may rightly miss the book."""
UNKNOWN_KEYS = ("nonsense", "title\nx", "[", "clean.nope", "", "notes.mode.x", "volumes")
config_key = st.integers(0, 9).flatmap(lambda n: st.sampled_from(UNKNOWN_KEYS) if n == 0 else st.sampled_from(sorted(PLAUSIBLE)))


@st.composite
def configs(draw: st.DrawFn) -> tuple[bytes, tuple[str, ...], tuple[str, ...], bool, bool]:
    """(bytes of book.toml, its keys, its path values, whether it is TOML of known keys, whether prose is claimed)."""
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.one_of(st.binary(max_size=80), config_text.map(str.encode)))
        try:
            empty = tomllib.loads(data.decode("utf-8")) == {}
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            empty = False
        return data, (), (), empty, empty
    keys = draw(st.lists(config_key, min_size=1, max_size=4, unique=True))
    values = {}
    for key in keys:
        plausible = PLAUSIBLE.get(key, any_toml)
        values[key] = draw(any_toml if draw(st.integers(0, 4)) == 0 else plausible)  # now and then a value of any type
    lines = [f"{toml_key(key)} = {toml_value(value)}" for key, value in values.items()]
    paths = tuple(value for key, value in values.items() if key in ("cover", "css") and isinstance(value, str))
    known = all(key in PLAUSIBLE for key in keys)
    claims = known and not any(key in TAKES_PROSE for key in keys)
    return "\n".join(lines).encode("utf-8"), tuple(keys), paths, known, claims


# Folders


@st.composite
def entries(draw: st.DrawFn, namer: Names) -> Entry:
    kind = draw(st.sampled_from(["text", "text", "han", "accented", "page", "page", "junk", "junk"]))
    heading_number = draw(st.integers(1, 3000))
    if kind == "junk":
        return Entry(draw(names(any_extension)), draw(junk_data))
    if kind == "page":
        lines = namer.lines(draw(st.lists(sentences(), min_size=1, max_size=6)))
        shape = draw(page_shapes)
        encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-be"]))
        name = draw(names(page_extension))
        return Entry(name, page_chapter(lines, shape, heading_number, encoding), tuple(lines), "page")
    if kind == "han":
        # GB18030 is detected, not declared: claimed for a text long enough to be recognised.
        drafts = draw(st.lists(han_sentences, min_size=1, max_size=8))
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030", "gb18030"]))
        heading = draw(st.none() | st.just(f"第{heading_number}章"))
    elif kind == "accented":
        drafts = draw(st.lists(sentences(accented=True), min_size=1, max_size=8))
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "cp1252"]))
        heading = draw(st.none() | st.just(f"Chapter {heading_number}"))
    else:
        drafts = draw(st.lists(sentences(), min_size=1, max_size=8))
        encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"]))
        heading = draw(st.none() | st.just(f"Chapter {heading_number}"))
    lines = namer.lines(drafts)
    separator = draw(st.sampled_from(["\n", "\n\n", "\n \n"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    garnish = draw(st.lists(st.sampled_from(GARNISH), max_size=3).map(tuple)) if encoding.startswith("utf") else ()
    data = text_chapter(lines, heading, separator, newline, encoding, garnish)
    name = draw(names(text_extension))
    claimed = encoding not in ("gb18030", "cp1252") or "".join(lines).isascii() or reliably_detected(lines, encoding)
    return Entry(name, data, tuple(lines) if claimed else (), "text" if claimed else "junk")


def reliably_detected(lines: list[str], encoding: str) -> bool:
    """Whether a text in an encoding without a signature is long enough for detection to be trusted."""
    text = "".join(lines)
    if encoding == "gb18030":
        return len(text) >= 60
    return sum(character > "\x7f" for character in text) >= 3 and len(text) >= 200


SPECIALS = ("folder", "fifo", "link to /etc/passwd", "link to /dev/zero", "link to a chapter", "link to the folder", "dangling link", "link loop", "link to ..")
"""Entries that are not regular files. None may hang the build or be read as a chapter's text from outside the folder."""


def make_special(path: Path, what: str, siblings: list[str]) -> None:
    if what == "folder":
        path.mkdir()
        (path / "0001.txt").write_bytes(b"A file in a subfolder.")
    elif what == "fifo":
        os.mkfifo(path)
    elif what == "link to /etc/passwd":
        path.symlink_to("/etc/passwd")
    elif what == "link to /dev/zero":
        path.symlink_to("/dev/zero")
    elif what == "link to a chapter":
        path.symlink_to(siblings[0] if siblings else "missing")
    elif what == "link to the folder":
        path.symlink_to(".")
    elif what == "dangling link":
        path.symlink_to("nowhere/at/all.txt")
    elif what == "link loop":
        path.symlink_to(path.name)
    elif what == "link to ..":
        path.symlink_to("..")


folder_names = st.one_of(st.just("in"), st.just("in"), names(st.sampled_from(["", "", ".txt", ".epub"])).filter(lambda name: name != CONFIG_NAME))


@st.composite
def folders(draw: st.DrawFn) -> Folder:
    namer = Names()
    files: list[Entry] = []
    for _ in range(draw(st.integers(1, 6))):
        entry = draw(entries(namer))
        if entry.name != CONFIG_NAME and entry.name not in {other.name for other in files}:
            files.append(entry)
    specials: list[tuple[str, str]] = []
    if draw(st.integers(0, 4)) == 0:
        for name, what in draw(st.lists(st.tuples(names(page_extension | text_extension), st.sampled_from(SPECIALS)), min_size=1, max_size=2)):
            if name != CONFIG_NAME and name not in {entry.name for entry in files} | {taken for taken, _ in specials}:
                specials.append((name, what))
    folder_name = draw(folder_names)
    if draw(st.integers(0, 2)) == 0:
        data, keys, paths, known, claims = draw(configs())
        return Folder(tuple(files), data, keys, paths, known, claims, tuple(specials), folder_name)
    return Folder(tuple(files), specials=tuple(specials), folder_name=folder_name)


# Running a build and judging it


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None
    exc_info: object
    output: Path
    out_folder: Path
    folder: Path
    listing: list[str] = field(default_factory=list)


BUILD_SECONDS = 120
BUILD_MEMORY = 4 * 1024**3


class Hung(Exception):
    """The build took more than BUILD_SECONDS: it hangs (on a FIFO, /dev/zero, a loop)."""


@contextmanager
def guarded() -> Iterator[None]:
    """A build that hangs raises Hung, one that eats memory MemoryError, instead of stalling the shared machine."""

    def alarm(signum: int, frame: object) -> None:
        raise Hung(f"the build ran for more than {BUILD_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = int(re.search(r"VmSize:\s+(\d+) kB", Path("/proc/self/status").read_text())[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (min(size + BUILD_MEMORY, hard) if hard != resource.RLIM_INFINITY else size + BUILD_MEMORY, hard))
    signal.alarm(BUILD_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_build(folder: Folder, root: Path) -> Outcome:
    input_folder = root / folder.folder_name
    input_folder.mkdir()
    for entry in folder.entries:
        (input_folder / entry.name).write_bytes(entry.data)
    for name, what in folder.specials:
        make_special(input_folder / name, what, [entry.name for entry in folder.entries])
    if folder.config is not None:
        (input_folder / CONFIG_NAME).write_bytes(folder.config)
    out_folder = root / "out"
    output = out_folder / "out.epub"
    with guarded():
        result = CliRunner().invoke(main, ["build", str(input_folder), "-o", str(output), "--quiet"], catch_exceptions=True)
    return Outcome(
        result.exit_code, result.stdout, result.stderr, result.exception, result.exc_info, output, out_folder, input_folder,
        sorted(os.listdir(input_folder)),
    )


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def shown_forms(name: str) -> set[str]:
    """The ways an error message may show a file name: as is, characters that cannot be shown escaped or
    replaced (by a space, `?`, U+FFFD or nothing), bytes that are not UTF-8 replaced or escaped (as stderr
    writes a lone surrogate)."""
    forms = {name, "".join(c if c.isprintable() else repr(c)[1:-1] for c in name), repr(name)[1:-1]}
    forms.add(name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    forms.add(name.encode("utf-8", "backslashreplace").decode("utf-8"))
    more = set()
    for form in forms:
        more.add(form.encode("utf-8", "backslashreplace").decode("utf-8"))
        more.add("".join(c if c.isprintable() else repr(c)[1:-1] for c in form))
        for stand_in in (" ", "?", "\ufffd", ""):  # or each character that cannot be shown stands for itself
            more.add("".join(c if c.isprintable() else stand_in for c in form))
    return {form for form in forms | more if form.strip()}


_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[ntrabfv0\\'\"])")


def skeleton(text: str) -> str:
    """A name or message with every character that may not be shown as itself (whitespace, control and
    unassigned characters, bytes that are not UTF-8, and their escapes or stand-ins) as one NUL per run:
    how a name is recognised in a message whatever it does with each such character."""
    text = _ESCAPE.sub("\0", text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    kept = "".join(c if c.isprintable() and not c.isspace() and c not in "\ufffd?" else "\0" for c in text)
    return re.sub("\0+", "\0", kept)


def claimed(folder: Folder) -> list[Entry]:
    """The files whose prose lines the book must hold: prose, read as chapters, in the form their name says
    (not a page read as text, or text read as a page)."""
    return [
        entry
        for entry in folder.entries
        if entry.prose and is_chapter_name(entry.name) and (entry.kind == "page") == entry.name.lower().endswith(HTML_SUFFIXES)
    ]


def check(folder: Folder, outcome: Outcome) -> None:
    if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
        # Raised again as it is, so that hypothesis tells apart failures by where epubgen raised them.
        outcome.exception.add_note("epubgen raised this instead of exiting with a one-line error")
        raise outcome.exception
    everything = outcome.stdout + outcome.stderr
    assert "Traceback" not in everything, everything
    assert outcome.stdout == "", f"--quiet printed on stdout: {outcome.stdout!r}"
    lines = outcome.stderr.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    errors = [line for line in lines if line.startswith("error: ")]
    others = [line for line in lines if not line.startswith(("error: ", "warning: "))]
    assert not others, f"stderr lines that are neither `error:` nor `warning:` (a message broken over lines?): {lines!r}"
    parts = sorted(path.name for path in outcome.out_folder.iterdir()) if outcome.out_folder.exists() else []
    if outcome.exit_code != 0:
        assert errors, f"exit {outcome.exit_code} needs an error line: {lines!r}"
        assert len(errors) == 1 or all(": cannot read the file" in line or ": this is" in line or ": no text" in line or ": the file is" in line or "not valid" in line for line in errors), (
            f"exit {outcome.exit_code}: several error lines are only for several unreadable files (one each): {lines!r}"
        )
        assert not outcome.output.exists(), f"exit {outcome.exit_code} but an EPUB was written: {lines!r}"
        assert not [name for name in parts if name.endswith(".part")], f"parts left behind: {parts}"
        named = {str(outcome.folder), CONFIG_NAME, *folder.config_keys, *folder.config_paths}
        for name in [*outcome.listing, str(outcome.folder)]:
            named |= shown_forms(name)
        for message in errors:
            named_here = any(candidate in message for candidate in named) or any(skeleton(name) in skeleton(message) for name in [*outcome.listing, str(outcome.folder)])
            assert named_here, f"the error names no file of the input: {message!r}"
            if folder.config is None:
                for entry in claimed(folder):
                    for form in shown_forms(entry.name):
                        assert not re.search(rf"(?:^error: |/){re.escape(form)}: ", message), f"a prose chapter was refused: {message!r}"
        return
    assert not errors, f"exit 0 with an error line: {lines!r}"
    assert outcome.output.is_file() and zipfile.is_zipfile(outcome.output), f"exit 0 but no EPUB at {outcome.output}: {parts}"
    book = OpenedEpub(outcome.output)
    assert book.names[0] == "mimetype"
    for name in book.names:
        if name.endswith((".xhtml", ".opf", ".ncx", ".xml")):
            etree.fromstring(book.files[name])  # well-formed, else this raises
    if folder.config is not None and not folder.claims_prose:
        return
    text = normalised(book.text())
    for entry in claimed(folder):
        for line in entry.prose:
            assert normalised(line) in text, f"prose line of {entry.name!r} lost: {line!r}\nwarnings: {lines!r}"


# Explicit examples: the known hostile cases, always run


def _prose(*indices: int, han: bool = False) -> list[str]:
    """Fixed prose lines for the explicit examples (each index gives another name)."""
    if han:
        return [Sentence(tuple("老人坐在火边讲了一个很长的故事她朋友们都在门外等着他"), 3, 9, True).line(index) for index in indices]
    words = tuple("the old man sat near the fire and told a long tale of his youth in the hills".split())
    return [Sentence(words, 4, 6).line(index) for index in indices]


def _text(name: str, lines: list[str], encoding: str = "utf-8", heading: str | None = "Chapter 1") -> Entry:
    return Entry(name, text_chapter(lines, heading, "\n\n", "\n", encoding), tuple(lines), "text")


PLAIN_SHAPE = PageShape("", None, (), 0, True, "", False, (), (), True, "")
HOSTILE_SHAPE = PageShape(
    before='<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    title="Chapter 7 | Site",
    around=('<img src="/etc/passwd">', "&#1;&#0;&#xFFFE;&#xD800;"),
    depth=300,
    close_depth=False,
    container='<div id="chapter-content">',
    heading=True,
    inside=(" &#1;", '<img src="/etc/passwd">'),
    between=('<img src="../../../../../../etc/passwd">', "<p>&#xFDD4;0</p>", "<p>&#xFDD0;&#xFDD2;</p>"),
    close_paragraphs=False,
    after="<div><span><b><i><table><tr><td>",
)
"""Everything at once: a DOCTYPE with entities, 300 unclosed levels, control character and mark references,
images outside the folder, unclosed paragraphs and tags."""


def _shape(**changes: object) -> PageShape:
    from dataclasses import replace

    return replace(PLAIN_SHAPE, **changes)


def _page(name: str, lines: list[str], shape: PageShape = PLAIN_SHAPE, encoding: str = "utf-8") -> Entry:
    return Entry(name, page_chapter(lines, shape, 1, encoding), tuple(lines), "page")


def _config(text: str, keys: tuple[str, ...], claims: bool = True, paths: tuple[str, ...] = ()) -> dict:
    return {"config": text.encode("utf-8"), "config_keys": keys, "config_paths": paths, "config_parses": True, "claims_prose": claims}


HOSTILE_EXAMPLES = [
    Folder((_text("0001.txt", _prose(1, 2)), _text("Chapter 3.txt", _prose(3, 4), "utf-8-sig"), _text("第1章.txt", _prose(5, 6, 7, han=True), "gb18030", "第1章"))),
    Folder((_text("new\nline.txt", _prose(1)), _text("\x1b[31mred.txt", _prose(2)), _page("tab\t.html", _prose(3, 4)))),
    Folder((_text(listed_name(os.fsdecode(b"\xff\xfe chapter.txt")), _prose(1)), _text(" .txt", _prose(2), "utf-16"))),
    Folder((_page("0001.html", _prose(1, 2, 3), HOSTILE_SHAPE), _page("0002.xhtml", _prose(4, 5), HOSTILE_SHAPE, "utf-16"))),
    Folder((_page("0001.htm", _prose(1, 2), _shape(depth=1000)),)),
    Folder((_page("0001.htm", _prose(1, 2), _shape(depth=300, close_depth=False)),)),
    Folder((_page("0001.html", _prose(1, 2, 3), _shape(inside=(" &#1;", " &#xFFFE;", " &#xFDD1;"))),)),
    Folder((_page("0001.html", _prose(1, 2, 3), _shape(between=("<p>&#xFDD4;0</p>", "<p>&#xFDD4;99</p>"))),)),
    Folder((_page("0001.html", _prose(1, 2, 3), _shape(between=('<img src="/etc/passwd">', '<img src="../../../../../../../../etc/passwd">'))),)),
    Folder((_page("0001.html", _prose(1, 2, 3), _shape(inside=('<embed src="x">',))),)),
    Folder((_page("0001.html", _prose(1, 2, 3), _shape(around=('<embed src="movie.swf">',))), _text("0002.txt", _prose(4)))),
    Folder((_page("0001.html", _prose(1, 2, 3), _shape(inside=("<wbr>",))),)),
    Folder((_page("0001.html", _prose(1, 2, 3), _shape(between=("<wbr>",))),)),
    Folder((_page("0001.html", _prose(1, 2, 3), _shape(inside=('<embed src="x">',), close_paragraphs=False)),)),
    Folder((_page("0001.html", _prose(1, 2, 3), _shape(close_paragraphs=False, after="<div><span><b><i><table><tr><td>", container="<div>")),)),
    Folder((_page("0001.html", _prose(1, 2), _shape(before=HOSTILE_SHAPE.before)),)),
    Folder((_text("0001.txt", _prose(1)), Entry("0002.txt", b"\x00\x01\x02\x03\xff\xfe\x80" * 20))),
    Folder((_text("0001.txt", _prose(1)), Entry("0002.txt", b"\x00\x01\x02\x03\xff\xfe\x80" * 20)), **_config("skip_bad = true", ("skip_bad",))),
    Folder((_text("0001.txt", _prose(1)), Entry("0002.txt", "a\ud800b\udfff\x00\x01\n".encode("utf-8", "surrogatepass")))),
    Folder((_text("0001.txt", _prose(1)), Entry("0002.html", b"<p>&#1;</p><p>&#xFDD4;0</p><p>&#xFDD4;5</p>"))),
    Folder((_text("0001.txt", _prose(1)),), **_config('notes.mode = "a\\nb"', ("notes.mode",))),
    Folder((_text("0001.txt", _prose(1)),), **_config('"title\\nx" = 1', ("title\nx",))),
    Folder((_text("0001.txt", _prose(1)),), **_config("volumes.per_volume = nan", ("volumes.per_volume",))),
    Folder((_text("0001.txt", _prose(1)), _text("0002.txt", _prose(2))), **_config("volumes.per_volume = inf", ("volumes.per_volume",))),
    Folder((_text("0001.txt", _prose(1)),), config=b"title = \xff\xfe", config_keys=()),
    Folder((_text("0001.txt", _prose(1)),), **_config('cover = "/etc/passwd"\ncss = "0001.txt"', ("cover", "css"), paths=("/etc/passwd", "0001.txt"))),
    Folder((_text("0001.txt", _prose(1)),), **_config('language = "en\\n"\nnotes.labels = { "(" = "TL", ".*" = "AN" }', ("language", "notes.labels"))),
    Folder((_text("0001.txt", _prose(1)),), **_config('volume = [{ chapters = "2-1" }, { chapters = "1-99999999999999999999" }]', ("volume",))),
    Folder((_text("0001.txt", _prose(1)),), **_config('encoding = "hex"', ("encoding",), claims=False)),
    Folder((Entry("notes.md", b"# notes"), Entry(".hidden.txt", b"Hidden text."), Entry("x.epub", b"PK\x03\x04"))),
    Folder((Entry("0001.txt", b""),)),
    Folder((_text("a" * 251 + ".txt", _prose(1)), _text("é" * 125 + ".txt", _prose(2)))),
    Folder((_text("\u00e9.txt", _prose(1)), _text("e\u0301.txt", _prose(2)), _page("\u00e9.html", _prose(3)), _page("e\u0301.html", _prose(4)))),
    Folder((_text("A.txt", _prose(1)), _text("a.txt", _prose(2)), _text("a.TXT", _prose(3)), _text("1.txt", _prose(4)), _text("01.txt", _prose(5)))),
    Folder((_text("0001.txt", _prose(1)),), specials=(("0002.txt", "link loop"), ("0003.html", "fifo"), ("0004.txt", "link to /dev/zero"))),
    Folder((_text("0001.txt", _prose(1)),), specials=(("0002.txt", "link to /etc/passwd"), ("0003.txt", "folder"), ("0004.txt", "dangling link"))),
    Folder((_text("0001.txt", _prose(1)), _text("0002.txt", _prose(2))), specials=(("0003.txt", "link to a chapter"), ("0004.htm", "link to the folder"))),
]


HOSTILE_METADATA = """
title = "\\u0001<b>&amp;]]>\\u202e A Title \\uFDD0 \\U0001F642"
author = ["", " ", "A\\nB", "<script>alert(1)</script>"]
translator = "Mo & Lin"
language = "zh-Hans-CN"
description = "]]> <!-- --> &#1; \\u0085 \\u2028"
subjects = ["\\t", "a"]
identifier = "urn:uuid:x"
source = "javascript:alert(1)"
"""
HOSTILE_BOOK = Folder(
    (*HOSTILE_EXAMPLES[1].entries, *HOSTILE_EXAMPLES[3].entries),
    **_config(HOSTILE_METADATA, ("title", "author", "translator", "language", "description", "subjects", "identifier", "source")),
    folder_name="\x01 in\nput \ufdd0",
)
"""Hostile names (of the folder, of files), hostile pages and hostile metadata in one book, for EPUBCheck."""
HOSTILE_EXAMPLES.append(HOSTILE_BOOK)


def _with_examples(test):
    for folder in reversed(HOSTILE_EXAMPLES):
        test = example(folder=folder)(test)
    return test


@_with_examples
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(folder=folders())
def test_any_folder_builds_a_book_with_all_its_prose_or_fails_in_one_line(folder: Folder) -> None:
    with tempfile.TemporaryDirectory() as root:
        check(folder, run_build(folder, Path(root)))


@example(folder=HOSTILE_BOOK)
@settings(
    max_examples=EPUBCHECK_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(folder=folders())
def test_what_a_hostile_folder_builds_epubcheck_accepts(folder: Folder) -> None:
    with tempfile.TemporaryDirectory() as root:
        outcome = run_build(folder, Path(root))
        check(folder, outcome)
        if outcome.exit_code == 0:
            report = epubcheck(outcome.output)
            assert report.clean, "EPUBCheck:\n" + "\n".join(report.messages)
