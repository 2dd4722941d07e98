"""Removal rules as data: the built-in groups in rules/*.toml and the user's own from book.toml.

Rules of one kind are compiled into one alternation, so a line is matched against a whole
group in one regex call; the name of the alternative that matched tells which rule it was.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from epubgen.config import CleanConfig
from epubgen.errors import ConfigError

KINDS = ("line", "fragment", "cut")
RULE_GROUPS = ("reader-chrome", "host-notices", "anti-theft", "begging", "blog-chrome")


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    """line: the whole (stripped) line matches; fragment: removed wherever it stands; cut: this line and the rest."""
    pattern: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    """The rules of each kind compiled together."""

    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", {kind: _alternation([r for r in self.rules if r.kind == kind]) for kind in KINDS})

    def match_line(self, text: str) -> str | None:
        """The id of the line rule the whole text matches, if any."""
        return _whole_line_rule(self._compiled["line"], text)

    def match_cut(self, text: str) -> str | None:
        return _whole_line_rule(self._compiled["cut"], text)

    def fragments(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, rule id) of every fragment in text."""
        pattern = self._compiled["fragment"]
        if pattern is None:
            return []
        return [(m.start(), m.end(), _matched_rule(m)) for m in pattern.finditer(text) if m.end() > m.start()]


@cache
def builtin_rules(group: str) -> tuple[Rule, ...]:
    """The rules of one built-in group, read from its TOML file."""
    data = tomllib.loads(resources.files("epubgen.clean").joinpath(f"rules/{group}.toml").read_text(encoding="utf-8"))
    return tuple(
        Rule(id=f"{group}:{entry['id']}", kind=entry["kind"], pattern=entry["pattern"], examples=tuple(entry.get("examples", ())))
        for entry in data["rule"]
    )


def rule_set(config: CleanConfig) -> RuleSet:
    """Every enabled built-in rule, then the user's own."""
    builtin = [rule for group in RULE_GROUPS if group not in config.disable for rule in builtin_rules(group)]
    return _cached_rule_set(tuple(builtin) + user_rules(config))


def user_rules(config: CleanConfig) -> tuple[Rule, ...]:
    """book.toml's remove, remove_regex and cut_after as rules (literals escaped)."""
    rules = []
    for index, literal in enumerate(config.remove, 1):
        rules.append(Rule(f"user:remove-{index}", "fragment", re.escape(literal)))
    for index, pattern in enumerate(config.remove_regex, 1):
        _check_regex(pattern)
        rules.append(Rule(f"user:remove_regex-{index}", "fragment", pattern))
    for index, marker in enumerate(config.cut_after, 1):
        rules.append(Rule(f"user:cut_after-{index}", "cut", re.escape(marker)))
    return tuple(rules)


@cache
def _cached_rule_set(rules: tuple[Rule, ...]) -> RuleSet:
    return RuleSet(rules)


_ID_OF: dict[str, str] = {}
"""Group names in the compiled alternations (r0, r1, ...) -> rule ids."""


def _alternation(rules: list[Rule]) -> re.Pattern[str] | None:
    if not rules:
        return None
    parts = []
    for rule in rules:
        name = f"r{len(_ID_OF)}"
        _ID_OF[name] = rule.id
        parts.append(f"(?P<{name}>{rule.pattern})")
    return re.compile("|".join(parts), re.IGNORECASE)


def _whole_line_rule(pattern: re.Pattern[str] | None, text: str) -> str | None:
    if pattern is None:
        return None
    match = pattern.fullmatch(text.strip())
    return _matched_rule(match) if match else None


def _matched_rule(match: re.Match[str]) -> str:
    """The rule whose alternative matched (a user's pattern may hold capturing groups of its own)."""
    return next(_ID_OF[name] for name, value in match.groupdict().items() if value is not None)


def _check_regex(pattern: str) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ConfigError(f"clean.remove_regex: {pattern!r} is not a valid regular expression ({error})") from None
    if compiled.groupindex:
        raise ConfigError(f"clean.remove_regex: {pattern!r} uses named groups; use (?:...) instead")
