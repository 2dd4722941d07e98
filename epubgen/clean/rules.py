"""Removal rules as data: the built-in groups in rules/*.toml and the user's own from book.toml.

Each built-in rule names `hints`: lowercase words of which every match holds at least one.
A line is only run through the regular expressions of the rules whose hints it contains, so
the common case, a line of story, costs a few substring tests instead of a dozen regex scans.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
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
    hints: tuple[str, ...] = ()
    """Lowercase words of which every match holds one; none means the rule is always tried."""
    examples: tuple[str, ...] = ()
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.pattern, re.IGNORECASE))

    def may_match(self, lowered: str) -> bool:
        return not self.hints or any(hint in lowered for hint in self.hints)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def match_line(self, text: str) -> str | None:
        """The id of the first line rule the whole text matches, if any."""
        return self._whole_line("line", text)

    def match_cut(self, text: str) -> str | None:
        return self._whole_line("cut", text)

    def fragments(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, rule id) of every fragment in text."""
        lowered = text.lower()
        return [
            (match.start(), match.end(), rule.id)
            for rule in self._of_kind("fragment")
            if rule.may_match(lowered)
            for match in rule.compiled.finditer(text)
            if match.end() > match.start()
        ]

    def _whole_line(self, kind: str, text: str) -> str | None:
        stripped = text.strip()
        lowered = stripped.lower()
        return next(
            (rule.id for rule in self._of_kind(kind) if rule.may_match(lowered) and rule.compiled.fullmatch(stripped)),
            None,
        )

    def _of_kind(self, kind: str) -> tuple[Rule, ...]:
        return _rules_of_kind(self, kind)


@cache
def _rules_of_kind(rule_set: RuleSet, kind: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in rule_set.rules if rule.kind == kind)


@cache
def builtin_rules(group: str) -> tuple[Rule, ...]:
    """The rules of one built-in group, read from its TOML file."""
    data = tomllib.loads(resources.files("epubgen.clean").joinpath(f"rules/{group}.toml").read_text(encoding="utf-8"))
    return tuple(
        Rule(
            id=f"{group}:{entry['id']}",
            kind=entry["kind"],
            pattern=entry["pattern"],
            hints=tuple(entry["hints"]),
            examples=tuple(entry.get("examples", ())),
        )
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
        rules.append(Rule(f"user:remove-{index}", "fragment", re.escape(literal), hints=(literal.lower(),)))
    for index, pattern in enumerate(config.remove_regex, 1):
        _check_regex(pattern)
        rules.append(Rule(f"user:remove_regex-{index}", "fragment", pattern))
    for index, marker in enumerate(config.cut_after, 1):
        rules.append(Rule(f"user:cut_after-{index}", "cut", re.escape(marker), hints=(marker.lower(),)))
    return tuple(rules)


@cache
def _cached_rule_set(rules: tuple[Rule, ...]) -> RuleSet:
    return RuleSet(rules)


def _check_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ConfigError(f"clean.remove_regex: {pattern!r} is not a valid regular expression ({error})") from None
