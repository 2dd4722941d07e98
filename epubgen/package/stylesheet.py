"""A user's own stylesheet, vetted before it goes in a book, after the theme's.

CSS that does not parse (by tinycss2, and by the stricter grammar EPUBCheck reads it with) is
refused, naming the line and column of the first error. What would make the book invalid is
dropped with a warning: @import rules (the book holds no stylesheet but the theme's and this
one), URLs of files that are not in the book (remote, script, local), the direction and
unicode-bidi properties, a @charset other than UTF-8, a @font-face left without a font. What is
kept stays as it was written.
"""

from __future__ import annotations

import re
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

_HELD_DATA = re.compile(
    r"data:(?:image/(?:png|jpeg|gif|webp)|font/(?:woff2?|otf|ttf|sfnt|collection)|application/(?:font-woff|font-sfnt|vnd\.ms-opentype))"
    r";base64,[A-Za-z0-9+/]*={0,2}",
    re.IGNORECASE,
)
"""A data URL the book can hold: an image or a font of the EPUB core media types, in base64."""
_SHOWN_URL_LENGTH = 60
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


class _Vetting:
    """One stylesheet's vetting, in the text as tinycss2 reads it (its line breaks made \\n), where
    every node's line and column are an offset."""

    def __init__(self, text: str, name: str):
        self.source = text.replace("\0", "\ufffd").replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
        self.name = name
        self.line_starts = [0] + [match.end() for match in re.finditer("\n", self.source)]

    def stylesheet(self) -> list[_Drop]:
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
        self.check_semicolons(tokens)
        drops: list[_Drop] = []
        kept: set[str] = set()
        items = tinycss2.parse_blocks_contents(tokens, skip_comments=False, skip_whitespace=False)
        for item, start, _, cut_end in self.spans(items, end):
            if item.type == "error":
                self.refuse(item, item.message)
            if item.type in ("qualified-rule", "at-rule"):
                self.refuse(item, "a rule inside a block of declarations")
            if item.type != "declaration":
                continue
            why = self.unusable(item)
            if why is None:
                kept.add(item.lower_name)
            else:
                drops.append(self.drop(item, start, cut_end, item.name, why))
        return drops, kept

    def unusable(self, declaration: Any) -> str | None:
        """Why a declaration cannot be in the book, or None when it can."""
        if _has_bad_url(declaration.value):
            return "a url(...) in it does not parse"
        self.check_tokens(declaration.value)
        if all(token.type in ("whitespace", "comment") for token in declaration.value):
            self.refuse(declaration, f"{declaration.name} has no value")
        if declaration.lower_name in _FORBIDDEN_PROPERTIES:
            return "EPUB stylesheets must not set it"
        for url in _urls(declaration.value):
            why = _unusable_url(url)
            if why is not None:
                return f"url({_shown_url(url)}) is {why}"
        return None

    def check_selector(self, rule: Any, keyframes: bool) -> None:
        """Refuse a rule without a selector, or one with a token EPUBCheck's grammar has no place for."""
        allowed = _KEYFRAME_TOKENS if keyframes else _SELECTOR_TOKENS
        literals = {","} if keyframes else _SELECTOR_LITERALS
        self.check_tokens(rule.prelude)
        for token in rule.prelude:
            if token.type not in allowed and not (token.type == "literal" and token.value in literals):
                self.refuse(token, f"{tinycss2.serialize([token])!r} in a selector")
        if all(token.type in ("whitespace", "comment") for token in rule.prelude):
            self.refuse(rule, "a rule without a selector")

    def check_semicolons(self, tokens: list[Any]) -> None:
        """Refuse an empty declaration (a ; with no declaration before it): EPUBCheck's grammar has none."""
        after_semicolon = True
        for token in tokens:
            if token.type in ("whitespace", "comment"):
                continue
            is_semicolon = token.type == "literal" and token.value == ";"
            if is_semicolon and after_semicolon:
                self.refuse(token, "an empty declaration")
            after_semicolon = is_semicolon

    def check_tokens(self, tokens: Sequence[Any]) -> None:
        """Refuse the first parse error (a bad string or URL, an unmatched bracket) among tokens, nested ones included."""
        for token in tokens:
            if token.type == "error":
                self.refuse(token, token.message)
            nested = getattr(token, "arguments", None) or getattr(token, "content", None)
            if isinstance(nested, list):
                self.check_tokens(nested)

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
        raise InputError(f"{self.name}: not valid CSS at line {node.source_line}, column {node.source_column} ({why})")


def _charset(prelude: list[Any]) -> str:
    strings = [token.value for token in prelude if token.type == "string"]
    return strings[0].lower() if strings else ""


def _has_bad_url(tokens: Sequence[Any]) -> bool:
    """Whether a url(...) among tokens, nested ones included, does not parse (a quote, bracket or space in it)."""
    for token in tokens:
        if token.type == "error" and token.kind == "bad-url":
            return True
        nested = getattr(token, "arguments", None) or getattr(token, "content", None)
        if isinstance(nested, list) and _has_bad_url(nested):
            return True
    return False


def _urls(tokens: Sequence[Any]) -> Iterator[str]:
    """The URLs among tokens: url(x), url("x"), and those in nested functions and blocks."""
    for token in tokens:
        if token.type == "url":
            yield token.value
        elif token.type == "function" and token.lower_name in ("url", "src"):
            yield from (argument.value for argument in token.arguments if argument.type == "string")
        nested = getattr(token, "arguments", None) or getattr(token, "content", None)
        if isinstance(nested, list):
            yield from _urls(nested)


def _shown_url(url: str) -> str:
    """A URL as a warning shows it: on one line, and short (a data URL may be megabytes long)."""
    url = printable(url)
    return url if len(url) <= _SHOWN_URL_LENGTH else url[: _SHOWN_URL_LENGTH - 1] + "\u2026"


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
