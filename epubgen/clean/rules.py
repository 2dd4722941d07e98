"""Removal rules as data: the built-in groups in rules/*.toml and the user's own from book.toml.

Each built-in rule names `hints`: lowercase words of which every match holds at least one.
A line is only run through the regular expressions of the rules whose hints it contains, so
the common case, a line of story, costs a few substring tests instead of a dozen regex scans.
A whole-line rule is not even looked at for a line starting with a character its pattern cannot
start with, nor for a line longer than its longest match (worked out from the parsed pattern:
first_character_class, longest_match; and remembered per first character and length range:
story lines open with a handful of characters, curly quotes and dashes included).
"""

from __future__ import annotations

import re
import re._constants as sre  # the parsed form of a pattern, for first_character_class
import re._parser as sre_parser
import tomllib
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import resources
from math import inf

from epubgen.config import CleanConfig, shown, user_regex
from epubgen.errors import ConfigError
from epubgen.structure import occurrences

KINDS = ("line", "fragment", "cut")
RULE_GROUPS = ("reader-chrome", "host-notices", "anti-theft", "begging", "blog-chrome")

LINE_BUDGET = 1.0
"""The seconds a user's regex may take on one line: a pattern that backtracks for ever on a line
(`(a|aa)+$`) stops the build with an error naming it instead of hanging it."""


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    """line: the whole (stripped) line matches; fragment: removed wherever it stands; cut: this line and the rest."""
    pattern: str
    hints: tuple[str, ...] = ()
    """Lowercase words of which every match holds one; none means the rule is always tried."""
    examples: tuple[str, ...] = ()
    timed: bool = False
    """A user's regex: compiled by the regex module (config.user_regex), each match with LINE_BUDGET."""
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", user_regex(self.pattern) if self.timed else re.compile(self.pattern, re.IGNORECASE))

    @property
    def finditer(self) -> Callable[[str], object]:
        return partial(self.compiled.finditer, timeout=LINE_BUDGET) if self.timed else self.compiled.finditer

    def may_match(self, lowered: str) -> bool:
        return not self.hints or any(hint in lowered for hint in self.hints)


_Check = tuple[str, tuple[str, ...], Callable[[str], object]]
"""A rule as the per-line loops use it: its id, its hints, and its compiled pattern's fullmatch or finditer."""


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    _checks: dict[str, tuple[_Check, ...]] = field(init=False, repr=False, compare=False)
    """Per kind, the rules in order as (id, hints, method): worked out once, not per line."""

    _firsts: dict[str, tuple[re.Pattern[str] | None, ...]] = field(init=False, repr=False, compare=False)
    """For the whole-line kinds: each rule's first_character_class."""

    _longest: dict[str, tuple[float, ...]] = field(init=False, repr=False, compare=False)
    """For the whole-line kinds: each rule's longest_match."""

    line_lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)
    """The bounded longest_match of the whole-line rules, sorted (for screen_key)."""

    _fragment_hints: frozenset[str] | None = field(init=False, repr=False, compare=False)
    """Every fragment rule's hints; None when a fragment rule has none."""

    def __post_init__(self) -> None:
        checks: dict[str, tuple[_Check, ...]] = {}
        for kind in KINDS:
            checks[kind] = tuple(
                (rule.id, rule.hints, rule.finditer if kind == "fragment" else rule.compiled.fullmatch)
                for rule in self._of_kind(kind)
            )
        object.__setattr__(self, "_checks", checks)
        object.__setattr__(self, "_firsts", {kind: tuple(first_character_class(rule.pattern) for rule in self._of_kind(kind)) for kind in ("line", "cut")})
        longest = {kind: tuple(longest_match(rule.pattern) for rule in self._of_kind(kind)) for kind in ("line", "cut")}
        object.__setattr__(self, "_longest", longest)
        object.__setattr__(self, "line_lengths", tuple(sorted({int(bound) for bounds in longest.values() for bound in bounds if bound < inf})))
        fragments = self._of_kind("fragment")
        hints = frozenset(hint for rule in fragments for hint in rule.hints) if all(rule.hints for rule in fragments) else None
        object.__setattr__(self, "_fragment_hints", hints)

    def checks_by_key(self, key: tuple[str, int]) -> tuple[tuple[_Check, ...], tuple[_Check, ...]]:
        """The cut rules and the line rules, in order, that a stripped line with key (screen_key) may
        match, as far as its first character and its length tell: for first_whole_line (the
        Cleaner keeps them, per key met: Cleaner.screen_for)."""
        return self._may_match("cut", *key), self._may_match("line", *key)

    def _may_match(self, kind: str, char: str, length_range: int) -> tuple[_Check, ...]:
        """The rules of kind (whole-line) that a line starting with char (or empty: "") and in the
        length range may match, in order. A rule whose longest match is the range's upper bound
        or more takes every line of the range."""
        shortest = self.line_lengths[length_range] if length_range < len(self.line_lengths) else inf
        return tuple(
            check
            for check, first, longest in zip(self._checks[kind], self._firsts[kind], self._longest[kind])
            if longest >= shortest and (not char or first is None or first.match(char))
        )

    def fragments(self, text: str, lowered: str | None = None, source: str = "", number: int = 0) -> list[tuple[int, int, str]]:
        """(start, end, rule id) of every fragment in text; lowered is text.lower() when the caller has it.

        text is line `number` of the chapter file `source`: the error a user's regex out of its time
        budget raises names them."""
        if lowered is None:
            lowered = text.lower()
        spans = []
        for rule_id, hints, finditer in self._checks["fragment"]:
            if hints:
                for hint in hints:
                    if hint in lowered:
                        break
                else:
                    continue
            try:
                spans += [(match.start(), match.end(), rule_id) for match in finditer(text) if match.end() > match.start()]
            except TimeoutError:
                raise ConfigError(self._too_slow(rule_id, source, number)) from None
        return spans

    def _too_slow(self, rule_id: str, source: str, number: int) -> str:
        pattern = next(rule.pattern for rule in self.rules if rule.id == rule_id)
        where = f"{source} line {number}" if source else "a line"
        return f"clean.remove_regex {shown(pattern)}: took too long on {where}; simplify the pattern"

    def fragment_hint_offsets(self, lowered: str) -> list[int] | None:
        """Where a fragment rule's hint starts in lowered (a whole chapter in lower case): no fragment
        rule can match a line holding none. None when a fragment rule has no hints (every line may hold
        one). A few searches over the chapter spare the test of every hint on every line."""
        if self._fragment_hints is None:
            return None
        return [offset for hint in self._fragment_hints for offset in occurrences(lowered, hint)]

    def _of_kind(self, kind: str) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.kind == kind)


def screen_key(stripped: str, line_lengths: tuple[int, ...]) -> tuple[str, int]:
    """What the whole-line rules a stripped line may match depend on: its first character (or ""),
    and its length range, the number of a RuleSet's line_lengths it exceeds."""
    return stripped[:1], bisect_left(line_lengths, len(stripped))


def first_whole_line(checks: tuple[_Check, ...], stripped: str, lowered: str) -> str | None:
    """The id of the first rule of checks (RuleSet.checks_by_key) whose hints lowered (stripped
    in lower case) holds and whose pattern matches all of stripped.

    A plain loop: this runs for every line of every chapter, so no generator, no method call per rule.
    """
    for rule_id, hints, fullmatch in checks:
        if hints:
            for hint in hints:
                if hint in lowered:
                    break
            else:
                continue
        if fullmatch(stripped) is not None:
            return rule_id
    return None


_CATEGORIES = {
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
}
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)
_AT_END = (sre.AT_END, sre.AT_END_STRING)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT))


class _Unknown(Exception):
    """A part of a pattern first_character_class does not follow."""


@cache
def first_character_class(pattern: str) -> re.Pattern[str] | None:
    """A pattern matching every character a match of pattern (case ignored) that is not empty can
    start with; None when that cannot be told. A line starting with another character needs no
    try at the pattern (a fullmatch of a line that is not empty, or a match that cannot be empty).

    For a match at the start of a stripped line that is not empty (so that `$` cannot match there:
    it would before a final line break). Worked out from the
    parsed pattern: what its first consuming element can match, over every alternative, and past
    optional and zero-width elements; a lookahead leading a sequence narrows what the sequence can
    start with (`(?=[^"]{0,300}$)` rules out a quote), other lookarounds are passed: the class is
    never too small. Matched with the regex engine itself, so case folding is the engine's own.
    """
    try:
        first, _ = _first_of_sequence(sre_parser.parse(pattern, re.IGNORECASE).data)
    except (_Unknown, re.error, TypeError, ValueError):
        return None
    return re.compile("|".join(sorted(first)) or "(?!)", re.IGNORECASE)


@cache
def longest_match(pattern: str) -> float:
    """The most characters a fullmatch of pattern (case ignored) of a stripped line can span; inf
    when unbounded or unknown. A lookahead leading the pattern (or each of its alternatives) that must
    reach the end of the line within n characters (`(?=[^"]{0,300}$)`) bounds it too (`$` matches
    only at the end of a line with no final line break)."""
    try:
        parsed = sre_parser.parse(pattern, re.IGNORECASE)
    except (re.error, TypeError, ValueError):
        return inf
    return _longest_of(parsed)


def _longest_of(sequence: sre_parser.SubPattern) -> float:
    if len(sequence.data) == 1 and sequence.data[0][0] is sre.BRANCH:
        return max(_longest_of(alternative) for alternative in sequence.data[0][1][1])
    bounds = [_width(sequence)]
    for op, argument in sequence.data:
        if op is not sre.ASSERT or argument[0] != 1:
            break
        ahead = argument[1]
        if ahead.data and ahead.data[-1][0] is sre.AT and ahead.data[-1][1] in _AT_END:
            bounds.append(_width(ahead))
    return min(bounds)


def _width(sequence: sre_parser.SubPattern) -> float:
    """The most characters sequence can match; inf when unbounded."""
    widest = sequence.getwidth()[1]
    return inf if widest >= sre.MAXREPEAT else widest


def _first_of_sequence(items: list) -> tuple[set[str], bool]:
    """(patterns of the first character, whether the sequence can match nothing at all). A leading
    lookahead holds where the sequence starts, so the first character of what it consumes there
    is one the lookahead's can start with too."""
    items = list(items)
    narrowing = []
    while items and items[0][0] is sre.ASSERT and items[0][1][0] == 1:  # a leading lookahead
        ahead, ahead_empty = _first_of_sequence(items.pop(0)[1][1])
        if not ahead_empty:
            narrowing.append("|".join(sorted(ahead)) or "(?!)")
    first: set[str] = set()
    empty = True
    for op, argument in items:
        characters, empty = _first_of(op, argument)
        first |= characters
        if not empty:
            break
    if narrowing and first:
        first = {"".join(f"(?={pattern})" for pattern in narrowing) + f"(?:{'|'.join(sorted(first))})"}
    return first, empty


def _first_of(op: object, argument: object) -> tuple[set[str], bool]:
    if op in (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY):
        return {_class_pattern(op, argument)}, False
    if op is sre.AT and argument in _AT_END:  # cannot match at the start of a text that is not empty
        return set(), False
    if op in _ZERO_WIDTH:
        return set(), True
    if op is sre.BRANCH:
        alternatives = [_first_of_sequence(alternative) for alternative in argument[1]]  # type: ignore[index]
        return set().union(*(first for first, _ in alternatives)), any(empty for _, empty in alternatives)
    if op is sre.SUBPATTERN:
        return _first_of_sequence(argument[-1])  # type: ignore[index]
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _first_of_sequence(argument)  # type: ignore[arg-type]
    if op in _REPEATS:
        low, high, item = argument  # type: ignore[misc]
        if high == 0:
            return set(), True
        first, empty = _first_of_sequence(item)
        return first, empty or low == 0
    raise _Unknown(op)


def _class_pattern(op: object, argument: object) -> str:
    """The regex matching one character as the parsed element does."""
    if op is sre.ANY:
        return "(?s:.)"
    if op is sre.LITERAL:
        return re.escape(chr(argument))  # type: ignore[arg-type]
    if op is sre.NOT_LITERAL:
        return f"[^{re.escape(chr(argument))}]"  # type: ignore[arg-type]
    parts = []
    for item_op, item in argument:  # type: ignore[attr-defined]
        if item_op is sre.NEGATE:
            parts.insert(0, "^")
        elif item_op is sre.LITERAL:
            parts.append(re.escape(chr(item)))
        elif item_op is sre.RANGE:
            parts.append(f"{re.escape(chr(item[0]))}-{re.escape(chr(item[1]))}")
        elif item_op is sre.CATEGORY and item in _CATEGORIES:
            parts.append(_CATEGORIES[item])
        else:
            raise _Unknown(item_op)
    return f"[{''.join(parts)}]"


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
        rules.append(Rule(f"user:remove_regex-{index}", "fragment", pattern, timed=True))
    for index, marker in enumerate(config.cut_after, 1):
        rules.append(Rule(f"user:cut_after-{index}", "cut", re.escape(marker), hints=(marker.lower(),)))
    return tuple(rules)


@cache
def _cached_rule_set(rules: tuple[Rule, ...]) -> RuleSet:
    return RuleSet(rules)

