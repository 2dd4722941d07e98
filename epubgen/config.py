"""book.toml + command-line overrides -> one validated BookConfig.

The keys, their types and their help text are declared once, in FIELDS: the loader
validates against it, `epubgen init` writes its commented template from it, and the
command line makes its setting options from it.
"""

from __future__ import annotations

import re
import re._constants as sre  # the parsed form of a user's regex, for _heaviest_repeat
import re._parser as sre_parser
import tomllib
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from string import Formatter
from typing import Any

import regex

from epubgen.errors import ConfigError
from epubgen.files import read_regular_file
from epubgen.language import language_tag
from epubgen.read.decode import sanitize

CONFIG_NAME = "book.toml"

MAX_CONFIG_BYTES = 1024 * 1024
"""The largest settings file read: a book.toml is a few hundred bytes."""


NOTE_KINDS = ("TL", "ED", "PR", "AN")
NOTE_MODES = ("footnote", "endnote", "inline", "drop")


@dataclass(frozen=True)
class Field:
    key: str
    """The key in book.toml; a dotted key lives in a table: `notes.mode` is `mode` under `[notes]`."""
    kind: str
    """text (a string), path (a file's, relative to book.toml when given there, else to the current
    folder), list (a string or a list of strings), bool, count (a whole number, least or more), share
    (a number above 0, up to 1), mapping (a table of strings) or ranges ([[volume]] tables)."""
    help: str
    """What the setting does: the comment above it in book.toml, and its option's help."""
    example: str
    choices: tuple[str, ...] = ()
    """For text: the values allowed. For mapping: the keys allowed (values must be in value_choices)."""
    value_choices: tuple[str, ...] = ()
    least: int = 0
    """For count: the smallest value allowed."""
    option: str = ""
    """The command-line option that overrides the setting (`--chapters-per-volume`), if it has one."""
    separator: str = ""
    """For a list option: what separates its items (`--tags a,b`); none: the option is repeated."""


FIELDS = (
    Field(
        "title",
        "text",
        "The book's title. Default: an input EPUB's, or the title on top of every chapter, else the folder's name.",
        '"The Lantern Keeper"',
        option="--title",
    ),
    Field("author", "list", "An author (a list for several; on the command line, repeat the option).", '"Ash Vale"', option="--author"),
    Field(
        "translator",
        "list",
        "A translator, as dc:contributor of role trl (a list for several; on the command line, repeat the option).",
        '"Mo Lin"',
        option="--translator",
    ),
    Field("language", "text", "Language of the text, as a BCP 47 tag (en, zh, ko...). Default: en.", '"en"', option="--language"),
    Field("original_title", "text", "The title in the original language, shown on the information page.", '"灯守"'),
    Field(
        "description",
        "text",
        "A blurb shown by library views.",
        '"A keeper of lanterns finds one that burns backwards."',
        option="--description",
    ),
    Field("publisher", "text", "Publisher or hosting site.", '"Example Web Novels"', option="--publisher"),
    Field("source", "text", "Where the chapters came from (a URL).", '"https://example.org/novel/lantern-keeper"'),
    Field(
        "subjects",
        "list",
        "Genres or tags (a list; on the command line, separated by commas).",
        '["Fantasy", "Mystery"]',
        option="--tags",
        separator=",",
    ),
    Field(
        "series",
        "text",
        "The series the book belongs to (calibre:series, belongs-to-collection).",
        '"The Lantern Cycle"',
        option="--series",
    ),
    Field(
        "series_index",
        "count",
        "The book's number in its series (calibre:series_index, group-position).",
        "2",
        least=1,
        option="--series-index",
    ),
    Field(
        "identifier",
        "text",
        "A stable identifier. Default: derived from title and authors, so a rebuild keeps its place in your library.",
        '"urn:isbn:9780000000000"',
    ),
    Field(
        "encoding",
        "text",
        "The chapter files' text encoding (gb18030, big5, shift_jis, euc_kr, cp1252...). Default: detected per file.",
        '"gb18030"',
        option="--encoding",
    ),
    Field(
        "style",
        "text",
        "The stylesheet theme: default (indented paragraphs) or block (spaced paragraphs).",
        '"default"',
        choices=("default", "block"),
        option="--style",
    ),
    Field("css", "path", "Your own CSS file, added after the theme's (in book.toml, relative to it).", '"my-style.css"', option="--css"),
    Field(
        "info_page",
        "bool",
        "An information page after the title page (source, original title, credits, chapters, date). Default: true.",
        "true",
    ),
    Field(
        "cover",
        "path",
        "A cover image, JPEG or PNG (in book.toml, relative to it). Default: one is generated.",
        '"cover.jpg"',
        option="--cover",
    ),
    Field("generate_cover", "bool", "Generate a cover (title, author, volume) when none is given. Default: true.", "true"),
    Field(
        "typography",
        "bool",
        "Typographic quotes, dashes and ellipses (English; other languages get the ellipsis only). Default: true.",
        "true",
        option="--typography",
    ),
    Field(
        "plain_emphasis",
        "bool",
        "Read *word* and _word_ as emphasis and **word** as strong emphasis. Default: false.",
        "false",
        option="--plain-emphasis",
    ),
    Field(
        "skip_bad",
        "bool",
        "Skip chapter files that cannot be read, with a warning, instead of stopping.",
        "false",
        option="--skip-bad",
    ),
    Field(
        "epub_entry_limit_mb",
        "count",
        "An EPUB given as input: the most megabytes one of its files may inflate to. Default: 256.",
        "256",
        least=1,
    ),
    Field(
        "epub_limit_mb",
        "count",
        "An EPUB given as input: the most megabytes all of its files together may inflate to. Default: 1024.",
        "1024",
        least=1,
    ),
    Field(
        "volume",
        "ranges",
        "Volumes by chapter ranges: a [[volume]] table each, with a title and its chapters as a range (\"1-120\").",
        '[{ title = "The Salt Road", chapters = "1-120" }]',
    ),
    Field(
        "volumes.per_volume",
        "count",
        "Split into volumes of this many chapters (0: by the source's volume markers).",
        "100",
        option="--chapters-per-volume",
    ),
    Field(
        "volumes.single_file",
        "bool",
        "One EPUB with a nested table of contents instead of one EPUB per volume.",
        "false",
        option="--single-file",
    ),
    Field(
        "volumes.name",
        "text",
        "File name pattern for volume EPUBs: {title}, {volume}, {first}, {last}.",
        '"{title} Vol {volume:02d} (Ch {first}-{last})"',
    ),
    Field("clean.remove", "list", "Lines or fragments to remove, exactly as written.", '["Join our Discord!"]'),
    Field("clean.remove_regex", "list", "Regular expressions: a whole-line match removes the line, else the matched part.", '["^Sponsored by .*$"]'),
    Field("clean.cut_after", "list", "Marker lines after which the rest of a chapter is junk (the marker goes too).", '["Recommended Reading"]'),
    Field("clean.keep", "list", "Lines never to remove, whatever rule matches them.", '["Ding!"]'),
    Field(
        "clean.disable",
        "list",
        "Built-in rule groups to switch off: reader-chrome, host-notices, anti-theft, begging, blog-chrome, credits, watermarks.",
        '["blog-chrome"]',
        choices=("reader-chrome", "host-notices", "anti-theft", "begging", "blog-chrome", "credits", "watermarks"),
    ),
    Field("clean.detect_repeated", "bool", "Find and remove lines repeated at the top or bottom of many chapters.", "true"),
    Field(
        "clean.repeated_share",
        "share",
        "Share of chapters (0-1) a line must appear in to count as repeated junk. Default: 0.4.",
        "0.4",
    ),
    Field("clean.repeated_min_chapters", "count", "The fewest chapters a repeated line must appear in. Default: 3.", "3", least=1),
    Field(
        "notes.mode",
        "text",
        "What becomes of translator/editor/author notes: footnote (pop-up), endnote (a Notes section at the end), "
        "inline (left in place, styled as a note) or drop.",
        '"footnote"',
        choices=NOTE_MODES,
        option="--notes",
    ),
    Field(
        "notes.by_kind",
        "mapping",
        "A different mode per kind of note: TL (translator), ED (editor), PR (proofreader), AN (author).",
        '{ AN = "drop" }',
        choices=NOTE_KINDS,
        value_choices=NOTE_MODES,
    ),
    Field(
        "notes.labels",
        "mapping",
        "Your own note labels, each with the kind it stands for: `(Raw: ...)` as a translator note.",
        '{ "Raw" = "TL", "Cleaner" = "ED" }',
        value_choices=NOTE_KINDS,
    ),
)


DEFAULT_VOLUME_NAME = "{title} Vol {volume:02d} (Ch {first}-{last})"


@dataclass(frozen=True)
class VolumesConfig:
    per_volume: int = 0
    single_file: bool = False
    name: str = DEFAULT_VOLUME_NAME


@dataclass(frozen=True)
class CleanConfig:
    remove: tuple[str, ...] = ()
    remove_regex: tuple[str, ...] = ()
    cut_after: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    detect_repeated: bool = True
    repeated_share: float = 0.4
    repeated_min_chapters: int = 3


@dataclass(frozen=True)
class NotesConfig:
    mode: str = "footnote"
    by_kind: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    def mode_for(self, kind: str) -> str:
        """The mode for a kind of note: its own if book.toml gives one, else the general mode."""
        return dict(self.by_kind).get(kind, self.mode)


@dataclass(frozen=True)
class BookConfig:
    title: str = ""
    author: tuple[str, ...] = ()
    translator: tuple[str, ...] = ()
    language: str = ""
    original_title: str = ""
    description: str = ""
    publisher: str = ""
    source: str = ""
    subjects: tuple[str, ...] = ()
    series: str = ""
    series_index: int = 0
    """0: none given."""
    identifier: str = ""
    encoding: str = ""
    style: str = "default"
    css: str = ""
    info_page: bool = True
    cover: str = ""
    generate_cover: bool = True
    typography: bool = True
    plain_emphasis: bool = False
    skip_bad: bool = False
    epub_entry_limit_mb: int = 256
    epub_limit_mb: int = 1024
    volume: tuple[tuple[str, int, int], ...] = ()
    volumes: VolumesConfig = dataclass_field(default_factory=VolumesConfig)
    clean: CleanConfig = dataclass_field(default_factory=CleanConfig)
    notes: NotesConfig = dataclass_field(default_factory=NotesConfig)


_FIELDS_BY_KEY = {field.key: field for field in FIELDS}
_SECTIONS = {"volumes": VolumesConfig, "clean": CleanConfig, "notes": NotesConfig}


def load_config(input_path: Path, config_path: Path | None = None, overrides: dict[str, Any] | None = None) -> BookConfig:
    """Read book.toml (given, or found in the input folder) and apply command-line overrides.

    Override keys are dotted like FIELDS (`notes.mode`). Overrides whose value is None or
    empty are ignored, so the CLI can pass every option.
    """
    validated: dict[str, Any] = {}
    folder = input_path if input_path.is_dir() else input_path.parent
    path = config_path or _default_config_path(folder)
    if path is not None:
        table = _read_toml(path, None if config_path else folder)
        validated.update((key, _validated(key, value, path.name)) for key, value in _flatten(table).items())
    for key, value in (overrides or {}).items():
        if value not in (None, (), [], ""):
            validated[key] = _validated(key, value, "options")
    sections = {
        name: section(**{key.split(".", 1)[1]: value for key, value in validated.items() if key.startswith(name + ".")})
        for name, section in _SECTIONS.items()
    }
    top = {key: value for key, value in validated.items() if "." not in key}
    for key in (field.key for field in FIELDS if field.kind == "path"):
        if top.get(key) and not (overrides or {}).get(key):
            top[key] = str((path.parent if path is not None else Path.cwd()) / top[key])
            if config_path is None:
                _refuse_outside(key, Path(top[key]), folder)
    return BookConfig(**top, **sections)


def _refuse_outside(key: str, named: Path, folder: Path) -> None:
    """A book.toml found in the input folder came with the input: the files it names must be in it
    too (symlinks resolved). The command line and a --config file may name any file."""
    try:
        inside = named.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        raise ConfigError(f"{CONFIG_NAME}: '{key}' names {shown(str(named))}, outside the input folder; give it with --{key} instead")


def config_template(detected_title: str = "") -> str:
    """The commented book.toml that `epubgen init` writes: every key, with its help and an example;
    the title filled in when one was detected in the chapters."""
    lines = ["# epubgen book settings. Uncomment a line and fill it in; command-line options override it.", ""]
    section = ""
    for field in FIELDS:
        table, _, key = field.key.rpartition(".")
        if table != section:
            lines += [f"[{table}]", ""]
            section = table
        lines.append(f"# {field.help}")
        if field.key == "title" and detected_title:
            lines.append("# Detected from the chapters (comment it out to have each build detect it again).")
            lines.append(f"title = {_toml_string(detected_title)}")
        else:
            lines.append(f"# {key} = {field.example}")
        lines.append("")
    return "\n".join(lines)


def _default_config_path(folder: Path) -> Path | None:
    """The input folder's book.toml, if there is anything of that name (read it says what is wrong with it)."""
    candidate = folder / CONFIG_NAME
    return candidate if candidate.exists() or candidate.is_symlink() else None


def _read_toml(path: Path, inside: Path | None) -> dict[str, Any]:
    """The settings file at path, a regular file of MAX_CONFIG_BYTES at most; inside the input folder
    when found there (inside)."""
    if not (path.exists() or path.is_symlink()):
        raise ConfigError(f"{path}: no such config file")
    data = read_regular_file(path, "config file", MAX_CONFIG_BYTES, inside)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply)") from None


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"notes": {"mode": "drop"}} -> {"notes.mode": "drop"}, except for the tables that are values."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = prefix + key
        if isinstance(value, dict) and dotted in _SECTIONS:
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _validated(key: str, value: Any, where: str) -> Any:
    field = _FIELDS_BY_KEY.get(key)
    if field is None:
        raise ConfigError(f"{where}: unknown key {shown(key)} (known keys: {', '.join(_FIELDS_BY_KEY)})")
    value = _VALIDATORS[field.kind](field, value, where)
    check = _VALUE_CHECKS.get(key)
    if check is None:
        return value
    try:
        return check(value)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def _text(field: Field, value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: '{field.key}' must be a string, not {_described(value)}")
    value = _string(field, value, where)
    if field.choices and value not in field.choices:
        raise ConfigError(f"{where}: '{field.key}' must be one of {', '.join(field.choices)}, not {shown(value)}")
    return value


def _list(field: Field, value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: '{field.key}' must be a string or a list of strings, not {_described(value)}")
    items = tuple(item for item in (_string(field, item, where) for item in value) if item)
    for item in items:
        if field.choices and item not in field.choices:
            raise ConfigError(f"{where}: '{field.key}' items must be among {', '.join(field.choices)}, not {shown(item)}")
    return items


_NOT_TEXT = re.compile(r"[\x00\ud800-\udfff]")


def _string(field: Field, value: str, where: str) -> str:
    """value without the characters XML cannot carry, stripped. A NUL, or a byte that was not text
    (an option in another encoding than the terminal's), is never meant: an error, not dropped."""
    if _NOT_TEXT.search(value):
        raise ConfigError(f"{where}: '{field.key}' holds a NUL or a byte that is not text: {shown(value)}")
    return sanitize(value).strip()


def _bool(field: Field, value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: '{field.key}' must be true or false, not {_described(value)}")
    return value


def _count(field: Field, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < field.least:
        raise ConfigError(f"{where}: '{field.key}' must be a whole number, {field.least} or more, not {_described(value)}")
    return value


def _share(field: Field, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ConfigError(f"{where}: '{field.key}' must be a number above 0, up to 1, not {_described(value)}")
    return value


def _ranges(field: Field, value: Any, where: str) -> tuple[tuple[str, int, int], ...]:
    """[[volume]] tables -> (title, first chapter, last chapter), in reading order, none overlapping."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"{where}: '{field.key}' must be [[{field.key}]] tables, not {_described(value)}")
    ranges: list[tuple[str, int, int]] = []
    for index, table in enumerate(value, 1):
        unknown = set(table) - {"title", "chapters"}
        if unknown:
            raise ConfigError(f"{where}: [[{field.key}]] {index}: unknown key {shown(sorted(unknown)[0])} (known: title, chapters)")
        chapters = table.get("chapters", "")
        match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", chapters) if isinstance(chapters, str) else None
        if match is None or int(match[1]) > int(match[2]):
            raise ConfigError(f"{where}: [[{field.key}]] {index}: chapters must be a range like \"1-120\", not {shown(chapters)}")
        if ranges and int(match[1]) <= ranges[-1][2]:
            raise ConfigError(
                f"{where}: [[{field.key}]] {index}: chapters {shown(chapters)} must come after volume {index - 1}'s, "
                f"which end at {ranges[-1][2]}"
            )
        title = table.get("title", "")
        if not isinstance(title, str):
            raise ConfigError(f"{where}: [[{field.key}]] {index}: title must be a string, not {_described(title)}")
        ranges.append((_string(field, title, where), int(match[1]), int(match[2])))
    return tuple(ranges)


def _mapping(field: Field, value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise ConfigError(f"{where}: '{field.key}' must be a table of strings, not {_described(value)}")
    items = {}
    for given, item in value.items():
        key = _string(field, given, where)
        if not key:
            raise ConfigError(f"{where}: '{field.key}' keys must not be blank, not {shown(given)}")
        if field.choices and key not in field.choices:
            raise ConfigError(f"{where}: '{field.key}' keys must be among {', '.join(field.choices)}, not {shown(key)}")
        if field.value_choices and item not in field.value_choices:
            raise ConfigError(f"{where}: '{field.key}.{key}' must be one of {', '.join(field.value_choices)}, not {shown(item)}")
        items[key] = item
    return tuple(sorted(items.items()))


_VALIDATORS = {"text": _text, "path": _text, "list": _list, "bool": _bool, "count": _count, "share": _share, "mapping": _mapping, "ranges": _ranges}


def _language(value: str) -> str:
    """A BCP 47 tag in its usual form (`en_US.UTF-8` -> `en-US`); empty: the default."""
    tag = language_tag(value) if value else ""
    if tag is None:
        raise ConfigError(f"'language' must be a language tag such as en, en-US or zh-Hant, not {shown(value)}")
    return tag


def _encoding(value: str) -> str:
    """The name of a text encoding Python can decode chapters in; empty: detected per file."""
    if value:
        try:
            "".encode(value)  # refuses both unknown names and codecs of other things than text (rot13, base64)
        except (LookupError, ValueError):
            raise ConfigError(f"'encoding' must be a text encoding such as utf-8, gb18030 or cp1252, not {shown(value)}") from None
    return value


def _identifier(value: str) -> str:
    """Any identifier; one that says it is a UUID (`urn:uuid:`) must be one, in its usual form."""
    if not value.lower().startswith("urn:uuid:"):
        return value
    try:
        return f"urn:uuid:{uuid.UUID(value[len('urn:uuid:'):])}"
    except ValueError:
        raise ConfigError(f"'identifier' says it is a UUID but is not one: {shown(value)}") from None


def _volume_name(value: str) -> str:
    check_volume_name(value)
    return value


def _user_regexes(patterns: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in patterns:
        user_regex(pattern)
    return patterns


_VALUE_CHECKS = {
    "language": _language,
    "encoding": _encoding,
    "identifier": _identifier,
    "volumes.name": _volume_name,
    "clean.remove_regex": _user_regexes,
}
"""What a value must be beyond its kind, for the keys that say more than a string: one line, without where."""


MAX_REPEAT_PRODUCT = 100_000
"""The most a user's regex may repeat anything, its nested repeat counts multiplied: compiling costs
time in proportion, and real rules repeat far less (`.{0,300}`)."""

MAX_GROUP_DEPTH = 50
"""The deepest a user's regex may nest its groups, far below what compiling it would recurse through."""

USER_REGEX_FLAGS = regex.IGNORECASE | regex.V0
"""A user's regex is matched in any case, with the syntax and meaning Python's re gives it."""


def user_regex(pattern: str) -> regex.Pattern[str]:
    """pattern (a book.toml remove_regex) compiled by the regex module, whose matches take a time
    budget; or a ConfigError in one line. Only what Python's re also reads is taken, and nothing
    repeated or nested so deep that compiling it would take for ever."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            parsed = sre_parser.parse(pattern, re.IGNORECASE)
        if _heaviest_repeat(parsed) > MAX_REPEAT_PRODUCT or _group_depth(parsed) > MAX_GROUP_DEPTH:
            raise ConfigError(f"clean.remove_regex: {shown(pattern)} repeats or nests too much; simplify it")
        return regex.compile(pattern, USER_REGEX_FLAGS)
    except FutureWarning:
        raise ConfigError(
            f"clean.remove_regex: {shown(pattern)} has a set that engines read differently ([[, --, && or || inside [...]); escape it"
        ) from None
    except (re.error, regex.error, OverflowError, RecursionError, MemoryError, ValueError, TypeError) as error:
        reason = _printable(str(error) or type(error).__name__)
        raise ConfigError(f"clean.remove_regex: {shown(pattern)} is not a valid regular expression ({reason})") from None


_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def _heaviest_repeat(items: sre_parser.SubPattern) -> int:
    """The largest product of repeat counts nested in a parsed pattern (an unbounded repeat counting its minimum)."""
    heaviest = 1
    for op, argument in items.data:
        if op in _REPEATS:
            low, high, body = argument
            count = low if high == sre.MAXREPEAT else high
            heaviest = max(heaviest, max(count, 1) * _heaviest_repeat(body))
        else:
            heaviest = max([heaviest, *map(_heaviest_repeat, _parts(argument))])
    return heaviest


def _group_depth(items: sre_parser.SubPattern) -> int:
    return max([0, *(1 + _group_depth(part) for _, argument in items.data for part in _parts(argument))])


def _parts(argument: object) -> list[sre_parser.SubPattern]:
    """The parsed subpatterns an element holds: a group's, a branch's alternatives, a lookaround's."""
    if isinstance(argument, sre_parser.SubPattern):
        return [argument]
    if isinstance(argument, (tuple, list)):
        return [part for item in argument for part in _parts(item)]
    return []


NAME_FIELDS = ("title", "volume", "first", "last")
"""The fields a volumes.name pattern may hold, each with a format spec or not."""

MAX_NAME_BYTES = 200
"""The longest volume file name, in UTF-8 bytes before `.epub`: with `.epub` and the temporary name an
EPUB is written under beside it, within the 255 bytes file systems allow."""

_UNSAFE_IN_FILE_NAMES = re.compile(r'[\x00-\x1f/\\:*?"<>|]')
_NUMBER = re.compile(r"\d+")


def volume_name(pattern: str, title: str, number: int, first: int, last: int) -> str:
    """The volumes.name pattern filled in, without the characters a file system may refuse ('' when none is left)."""
    try:
        name = pattern.format(title=title, volume=number, first=first, last=last)
    except (KeyError, IndexError, AttributeError, TypeError, ValueError, OverflowError) as error:
        raise ConfigError(f"volumes.name {shown(pattern)} is not a usable pattern ({_printable(str(error))})") from None
    return _UNSAFE_IN_FILE_NAMES.sub("", name).strip(" .")


def check_volume_name(pattern: str) -> None:
    """A ConfigError unless the volumes.name pattern gives each volume a file of its own: only
    NAME_FIELDS, no nested field, no width beyond a file name's, no folder, and two sample volumes
    named apart, neither name empty nor too long."""
    try:
        fields = [(name, spec) for _, name, spec, _ in Formatter().parse(pattern) if name is not None]
    except ValueError as error:
        raise ConfigError(f"volumes.name {shown(pattern)} is not a usable pattern ({_printable(str(error))})") from None
    if "/" in pattern or "\\" in pattern:
        raise ConfigError(f"volumes.name {shown(pattern)} holds a folder separator: it names a file, not a folder")
    for name, spec in fields:
        if name not in NAME_FIELDS:
            raise ConfigError(f"volumes.name {shown(pattern)}: unknown field {shown(name)} (known: {', '.join(NAME_FIELDS)})")
        if "{" in spec or any(int(number) > MAX_NAME_BYTES for number in _NUMBER.findall(spec)):
            raise ConfigError(f"volumes.name {shown(pattern)}: the format of {shown(name)} would make names too long or depend on other fields")
    one, two = (volume_name(pattern, "T", number, first, last) for number, first, last in ((1, 1, 100), (2, 101, 200)))
    if not one:
        raise ConfigError(f"volumes.name {shown(pattern)} makes an empty file name")
    if file_identity(one) == file_identity(two):
        raise ConfigError(f"volumes.name {shown(pattern)} gives every volume the same file name; the pattern must tell every volume apart ({{volume}} does)")
    if len(one.encode("utf-8")) > MAX_NAME_BYTES:
        raise ConfigError(f"volumes.name {shown(pattern)} makes file names longer than {MAX_NAME_BYTES} bytes")


def file_identity(name: str) -> str:
    """What tells two file names apart on every file system: neither case nor Unicode normalisation does."""
    return unicodedata.normalize("NFC", name).casefold()


def shown(value: Any) -> str:
    """A value as a one-line message shows it: a string quoted with its unprintable characters
    escaped, a long one cut in the middle; booleans as TOML writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = _printable(value if isinstance(value, str) else repr(value))
    return f"'{text}'" if isinstance(value, str) else text


def _printable(text: str) -> str:
    """text on one short line: unprintable characters escaped, a long text cut in the middle."""
    if len(text) > 80:
        text = f"{text[:60]}...{text[-12:]}"
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in text)


def _described(value: Any) -> str:
    """What a value of the wrong type is, for a message: `a number (3)`."""
    return f"{_type_name(value)} ({shown(value)})"


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", dict: "a table", list: "a list", str: "a string"}.get(
        type(value), type(value).__name__
    )


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
