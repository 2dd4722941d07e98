"""Credit lines: `Translator: X  Editor: Y`, `Translated by X`. The names become metadata."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources

from epubgen.clean.rules import first_character_class

RULE_ID = "credits:credit-line"
_NAME_SEPARATORS = re.compile(r"\s*(?:[|,;/&]|\band\b|\s{2,})\s*")
_PLAIN_HANDLE = re.compile(r"[\w.\-]{1,30}")


@cache
def _credits_data() -> tuple[dict[str, str], re.Pattern[str], tuple[str, ...]]:
    data = tomllib.loads(resources.files("epubgen.clean").joinpath("rules/credits.toml").read_text(encoding="utf-8"))
    roles = data["roles"]
    with_by = [re.escape(role) for role in roles if role.endswith(" by")]
    with_colon = [re.escape(role) for role in roles if not role.endswith(" by")]
    marker = re.compile(
        rf"(?<![\w])(?:(?P<by>{'|'.join(sorted(with_by, key=len, reverse=True))})\s+"
        rf"|(?P<colon>{'|'.join(sorted(with_colon, key=len, reverse=True))})\s*[:：]\s*)",
        re.IGNORECASE,
    )
    return roles, marker, tuple(data["examples"])


def credit_examples() -> tuple[str, ...]:
    return _credits_data()[2]


def credit_start() -> Callable[[str], object]:
    """A test of whether a stripped line starts as a credit line does: the one parse_credits needs
    before it reads any further (a quick look for the loop over every line)."""
    return _credits_data()[1].match


def may_start_credit(first: str) -> bool:
    """Whether a stripped line starting with first (one character, or "") may pass credit_start:
    the few characters a role can start with (first_character_class: the marker never matches
    nothing, it holds a role)."""
    first_class = first_character_class(_credits_data()[1].pattern)
    return not first or first_class is None or first_class.match(first) is not None


def parse_credits(text: str) -> list[tuple[str, str]] | None:
    """[(relator code, name), ...] when the whole line is credits, else None."""
    roles, marker, _ = _credits_data()
    line = text.strip()
    if marker.match(line) is None:
        return None
    markers = list(marker.finditer(line))
    credits = []
    for here, following in zip(markers, markers[1:] + [None]):
        role = roles[(here["by"] or here["colon"]).lower()]
        names = line[here.end() : following.start() if following else len(line)]
        parts = [part for part in _NAME_SEPARATORS.split(names.strip(" |,;/")) if part]
        if not parts or not all(_looks_like_name(part) for part in parts):
            return None
        credits.extend((role, part) for part in parts)
    return credits


def _looks_like_name(text: str) -> bool:
    """A handle (`anon_reader`) or one to four capitalised words (`Mo Lin`), never a sentence."""
    if _PLAIN_HANDLE.fullmatch(text) and not text.endswith("."):
        return True
    words = text.split()
    return 1 <= len(words) <= 4 and all(word[0].isupper() or not word[0].isascii() for word in words) and text[-1] not in ".!?"
