"""A user's own stylesheet, vetted before it goes in a book, after the theme's.

CSS whose rules do not parse (by tinycss2, and by the stricter grammar EPUBCheck reads it with) is
refused, naming the line and column of the first error: a block, string or comment left open to
the end of the file, a bad selector, text that is no rule. So is a NUL outside a string or a
comment: CSS reads it as U+FFFD, EPUBCheck refuses it. What would make the book invalid is dropped
with a warning naming its line and column: a declaration that does not parse (an old browser
hack such as *zoom, an empty one, a rule nested in it), @import rules (the book holds no
stylesheet but the theme's and this one), URLs of files that are not in the book (remote, script,
local), the direction and unicode-bidi properties, a @charset other than UTF-8, a @font-face left
without a font. What is kept stays as it was written, line breaks and all.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import tinycss2

from epubgen.errors import InputError
from epubgen.files import MAX_STYLESHEET_BYTES, read_regular_file
from epubgen.names import printable, shown_name

_END_MARK = "/**/"
"""Put after the stylesheet when parsing: it is a node of its own at the top level only when every
block, string and comment of the stylesheet was closed."""

_RULE_BLOCKS = frozenset({"media", "supports", "layer", "container", "document", "-moz-document", "scope", "starting-style"})
"""At-rules whose block holds rules; the block of any other holds declarations."""

_KEYFRAMES = frozenset({"keyframes", "-webkit-keyframes", "-moz-keyframes"})
_FORBIDDEN_PROPERTIES = frozenset({"direction", "unicode-bidi"})
"""EPUB stylesheets must not set them (EPUBCheck CSS-001): a book's direction is in its markup."""

_SELECTOR_LITERALS = frozenset(".:,>+~*|")
_SELECTOR_TOKENS = frozenset({"whitespace", "comment", "ident", "hash", "[] block", "function"})
_KEYFRAME_TOKENS = frozenset({"whitespace", "comment", "ident", "percentage"})
_VALUELESS_TOKENS = frozenset({"at-keyword", "{} block"})
_VALUELESS_LITERALS = frozenset({";", "<!--", "-->", "~=", "|=", "^=", "$=", "*="})
"""Tokens EPUBCheck's grammar has no place for in a declaration's value, nested ones included."""
_LINE_BREAK = re.compile("\r\n|[\r\n\f]")
"""A line break as CSS reads one (tinycss2 counts lines by them)."""

_HELD_DATA = re.compile(
    r"data:(?:image/(?:png|jpeg|gif|webp|svg\+xml)|font/(?:woff2?|otf|ttf|sfnt|collection)|application/(?:font-woff|font-sfnt|vnd\.ms-opentype))"
    r";base64,[A-Za-z0-9+/]*={0,2}",
    re.IGNORECASE,
)
"""A data URL the book can hold: an image or a font of the EPUB core media types, in base64."""
_SHOWN_LENGTH = 60
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def user_stylesheet(path: str) -> tuple[str, tuple[str, ...]]:
    """The CSS file at path (book.toml's css or --css), vetted; and a warning for each thing dropped."""
    data = read_regular_file(Path(path), "stylesheet", MAX_STYLESHEET_BYTES)
    name = shown_name(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{name}: the stylesheet is not UTF-8 (a bad byte at offset {error.start})") from None
    return vetted_stylesheet(text, name)


def vetted_stylesheet(text: str, name: str) -> tuple[str, tuple[str, ...]]:
    """The CSS text with what would make the book invalid cut out, and a warning for each cut;
    InputError when it does not parse. Text with nothing to cut comes back as it is."""
    vetting = _Vetting(text, name)
    drops = vetting.stylesheet()
    if not drops:
        return text, ()
    return vetting.without(drops), tuple(drop.warning for drop in drops)


@dataclass(frozen=True)
class _Drop:
    start: int
    end: int
    warning: str


@dataclass(frozen=True)
class _Segment:
    """A declaration as CSS splits a block into them: its tokens (up to its ; or a {} block that
    ends it, leading whitespace left out), and where a cut dropping it starts and ends."""

    tokens: list[Any]
    start: int
    cut_end: int


class _Vetting:
    """One stylesheet's vetting. tinycss2 places a node by line and column in the text with its line
    breaks made \\n; lines are found in the text as written, so offsets and cuts are in it."""

    def __init__(self, text: str, name: str):
        self.source = text
        self.name = name
        self.line_starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]

    def stylesheet(self) -> list[_Drop]:
        self.check_nuls()
        nodes = tinycss2.parse_stylesheet(self.source + _END_MARK, skip_comments=False, skip_whitespace=False)
        last = nodes[-1]
        if last.type == "error":
            self.refuse(last, last.message)
        if last.type != "comment" or self.offset(last) != len(self.source):
            self.refuse(last, "a block, string or comment here is left open to the end of the file")
        return self.rules(nodes[:-1], len(self.source))

    def without(self, drops: list[_Drop]) -> str:
        """The source with the drops (in order, none overlapping) cut out."""
        kept, start = [], 0
        for drop in drops:
            kept.append(self.source[start : drop.start])
            start = drop.end
        return "".join(kept) + self.source[start:]

    def rules(self, nodes: list[Any], end: int, keyframes: bool = False) -> list[_Drop]:
        drops: list[_Drop] = []
        for node, start, node_end, cut_end in self.spans(nodes, end):
            if node.type == "error":
                self.refuse(node, node.message)
            if node.type == "qualified-rule":
                self.check_selector(node, keyframes)
                drops += self.declarations(node.content, node_end - 1)[0]
            elif node.type == "at-rule":
                drops += self.at_rule(node, start, node_end, cut_end)
        return drops

    def at_rule(self, rule: Any, start: int, end: int, cut_end: int) -> list[_Drop]:
        keyword = rule.lower_at_keyword
        if keyword == "import":
            return [self.drop(rule, start, cut_end, "@import", "the book holds no stylesheet but the theme's and this one")]
        self.check_tokens(rule.prelude)
        if keyword == "charset" and _charset(rule.prelude) != "utf-8":
            return [self.drop(rule, start, cut_end, "@charset", "the book's stylesheet is UTF-8")]
        if rule.content is None:
            return []
        if keyword in _RULE_BLOCKS or keyword in _KEYFRAMES:
            rules = tinycss2.parse_rule_list(rule.content, skip_comments=False, skip_whitespace=False)
            return self.rules(rules, end - 1, keyframes=keyword in _KEYFRAMES)
        drops, kept = self.declarations(rule.content, end - 1)
        if keyword == "font-face" and "src" not in kept:
            return [self.drop(rule, start, cut_end, "@font-face", "it names no font the book holds")]
        return drops

    def declarations(self, tokens: list[Any], end: int) -> tuple[list[_Drop], set[str]]:
        """What to drop from a block of declarations, and the names of the declarations kept."""
        drops: list[_Drop] = []
        kept: set[str] = set()
        for segment in self.segments(tokens, end):
            first = segment.tokens[0]
            declaration = _declaration(segment.tokens)
            if declaration is None:
                drops.append(self.drop(first, segment.start, segment.cut_end, self.shown(segment), _not_a_declaration(segment.tokens)))
                continue
            why = _unusable(declaration)
            if why is None:
                kept.add(declaration.lower_name)
            else:
                drops.append(self.drop(first, segment.start, segment.cut_end, declaration.name, why))
        return drops, kept

    def segments(self, tokens: list[Any], end: int) -> Iterator[_Segment]:
        """The declarations of a block (tokens ending at end): each runs to a ; (an empty one is that ;
        alone) or to a {} block, which makes it a nested rule, as tinycss2 reads them."""
        starts = [self.offset(token) for token in tokens] + [end]
        first = None
        for index, token in enumerate(tokens):
            if first is None and token.type in ("whitespace", "comment"):
                continue
            first = index if first is None else first
            if token == ";" or token.type == "{} block":
                after_whitespace = index + 1 < len(tokens) and tokens[index + 1].type == "whitespace"
                yield _Segment(tokens[first : index + 1], starts[first], starts[index + 2 if after_whitespace else index + 1])
                first = None
        if first is not None:
            yield _Segment(tokens[first:], starts[first], end)

    def shown(self, segment: _Segment) -> str:
        """A declaration dropped as a warning names it: as written, without its ; (unless it is one)."""
        written = self.source[segment.start : segment.cut_end].strip()
        return repr(_shown(written[:-1].strip() if len(written) > 1 and written.endswith(";") else written))

    def check_selector(self, rule: Any, keyframes: bool) -> None:
        """Refuse a rule without a selector, or one with a token EPUBCheck's grammar has no place for."""
        allowed = _KEYFRAME_TOKENS if keyframes else _SELECTOR_TOKENS
        literals = {","} if keyframes else _SELECTOR_LITERALS
        self.check_tokens(rule.prelude)
        for token in rule.prelude:
            if token.type not in allowed and not (token.type == "literal" and token.value in literals):
                self.refuse(token, f"{tinycss2.serialize([token])!r} in a selector")
        if _is_empty(rule.prelude):
            self.refuse(rule, "a rule without a selector")

    def check_tokens(self, tokens: Sequence[Any]) -> None:
        """Refuse the first parse error (a bad string or URL, an unmatched bracket) among tokens, nested ones included."""
        for token in _all_tokens(tokens):
            if token.type == "error":
                self.refuse(token, token.message)

    def check_nuls(self) -> None:
        """Refuse a NUL outside a string or a comment (EPUBCheck takes one in them)."""
        if "\0" not in self.source:
            return
        tokens = list(_all_tokens(tinycss2.parse_component_value_list(self.source)))
        starts = [self.offset(token) for token in tokens]
        for nul in re.finditer("\0", self.source):
            if tokens[bisect_right(starts, nul.start()) - 1].type not in ("string", "comment"):
                line = bisect_right(self.line_starts, nul.start())
                self.refuse_at(line, nul.start() - self.line_starts[line - 1] + 1, "a NUL character outside a string or a comment")

    def spans(self, nodes: list[Any], end: int) -> Iterator[tuple[Any, int, int, int]]:
        """Each node with its start and end offsets, and where a cut dropping it ends: after the
        whitespace that follows it."""
        starts = [self.offset(node) for node in nodes] + [end]
        for index, node in enumerate(nodes):
            after_whitespace = index + 1 < len(nodes) and nodes[index + 1].type == "whitespace"
            yield node, starts[index], starts[index + 1], starts[index + 2] if after_whitespace else starts[index + 1]

    def offset(self, node: Any) -> int:
        return self.line_starts[node.source_line - 1] + node.source_column - 1

    def drop(self, node: Any, start: int, end: int, what: str, why: str) -> _Drop:
        return _Drop(start, end, f"{self.name}: line {node.source_line}, column {node.source_column}: {what} dropped ({why})")

    def refuse(self, node: Any, why: str) -> NoReturn:
        self.refuse_at(node.source_line, node.source_column, why)

    def refuse_at(self, line: int, column: int, why: str) -> NoReturn:
        raise InputError(f"{self.name}: not valid CSS at line {line}, column {column} ({why})")


def _charset(prelude: list[Any]) -> str:
    strings = [token.value for token in prelude if token.type == "string"]
    return strings[0].lower() if strings else ""


def _all_tokens(tokens: Sequence[Any]) -> Iterator[Any]:
    """Tokens and the tokens nested in their functions and blocks, in the order they are written."""
    for token in tokens:
        yield token
        nested = getattr(token, "arguments", None) or getattr(token, "content", None)
        if isinstance(nested, list):
            yield from _all_tokens(nested)


def _declaration(tokens: list[Any]) -> Any | None:
    """The declaration tokens make (up to a ;), or None when they make none: empty, a rule nested
    in the block, or no name and colon before a value."""
    if tokens[0].type == "at-keyword" or tokens[-1].type == "{} block":
        return None
    parsed = tinycss2.parse_one_declaration(tokens[:-1] if tokens[-1] == ";" else tokens)
    return parsed if parsed.type == "declaration" else None


def _not_a_declaration(tokens: list[Any]) -> str:
    """Why tokens that make no declaration are dropped."""
    if tokens[0] == ";":
        return "an empty declaration"
    if tokens[0].type == "at-keyword" or tokens[-1].type == "{} block":
        return "a rule inside a block of declarations"
    return "not a declaration of a property and its value"


def _unusable(declaration: Any) -> str | None:
    """Why a declaration cannot be in the book, or None when it can."""
    for token in _all_tokens(declaration.value):
        if token.type == "error":
            return "a url(...) in it does not parse" if token.kind == "bad-url" else f"its value does not parse: {token.message}"
        if token.type in _VALUELESS_TOKENS or (token.type == "literal" and token.value in _VALUELESS_LITERALS):
            return f"{_shown(tinycss2.serialize([token]))!r} has no place in a value"
    if _is_empty(declaration.value) and (declaration.important or not declaration.name.startswith("--")):
        return "it has no value"
    if declaration.lower_name in _FORBIDDEN_PROPERTIES:
        return "EPUB stylesheets must not set it"
    for url in _urls(declaration.value):
        why = _unusable_url(url)
        if why is not None:
            return f"url({_shown(url)}) is {why}"
    return None


def _is_empty(tokens: Sequence[Any]) -> bool:
    """Whether tokens are whitespace and comments only (a custom property's value may be)."""
    return all(token.type in ("whitespace", "comment") for token in tokens)


def _urls(tokens: Sequence[Any]) -> Iterator[str]:
    """The URLs among tokens: url(x), url("x"), and those in nested functions and blocks."""
    for token in _all_tokens(tokens):
        if token.type == "url":
            yield token.value
        elif token.type == "function" and token.lower_name in ("url", "src"):
            yield from (argument.value for argument in token.arguments if argument.type == "string")


def _shown(text: str) -> str:
    """Text (a URL, a declaration) as a warning shows it: on one line, and short (a data URL may be megabytes long)."""
    text = printable(text)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 1] + "\u2026"


def _unusable_url(url: str) -> str | None:
    """What a URL names that the book cannot hold, or None when the book holds it: a fragment of
    the stylesheet's own, or an image or font given in the URL itself."""
    url = url.strip()
    if url.startswith("#") or _HELD_DATA.fullmatch(url):
        return None
    scheme = _SCHEME.match(url)
    if scheme is not None and scheme.group(1).lower() in ("javascript", "vbscript"):
        return "a script"
    if scheme is not None and scheme.group(1).lower() == "data":
        return "data of a type the book cannot hold"
    if scheme is not None or url.startswith("//"):
        return "a remote file"
    return "a file not in the book"
