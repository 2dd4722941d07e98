"""book.toml + command-line overrides -> one validated BookConfig.

The keys, their types and their help text are declared once, in FIELDS: the loader
validates against it and `epubgen init` writes its commented template from it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from epubgen.errors import ConfigError
from epubgen.read.decode import sanitize

CONFIG_NAME = "book.toml"


NOTE_KINDS = ("TL", "ED", "PR", "AN")
NOTE_MODES = ("footnote", "endnote", "inline", "drop")


@dataclass(frozen=True)
class Field:
    key: str
    """The key in book.toml; a dotted key lives in a table: `notes.mode` is `mode` under `[notes]`."""
    kind: str
    """text (a string), list (a string or a list of strings), bool, number, or mapping (a table of strings)."""
    help: str
    example: str
    choices: tuple[str, ...] = ()
    """For text: the values allowed. For mapping: the keys allowed (values must be in value_choices)."""
    value_choices: tuple[str, ...] = ()


FIELDS = (
    Field("title", "text", "The book's title. Default: the folder's name.", '"The Lantern Keeper"'),
    Field("author", "list", "Author, or a list of authors.", '"Ash Vale"'),
    Field("translator", "list", "Translator, or a list of translators (dc:contributor, role trl).", '"Mo Lin"'),
    Field("language", "text", "Language of the text, as a BCP 47 tag. Default: en.", '"en"'),
    Field("original_title", "text", "The title in the original language, shown on the information page.", '"灯守"'),
    Field("description", "text", "A blurb shown by library views.", '"A keeper of lanterns finds one that burns backwards."'),
    Field("publisher", "text", "Publisher or hosting site.", '"Example Web Novels"'),
    Field("source", "text", "Where the chapters came from (a URL).", '"https://example.org/novel/lantern-keeper"'),
    Field("subjects", "list", "Genres or tags.", '["Fantasy", "Mystery"]'),
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
    ),
    Field("style", "text", "The stylesheet theme: default (indented paragraphs) or block (spaced paragraphs).", '"default"', choices=("default", "block")),
    Field("css", "text", "Your own CSS file, used instead of the theme, relative to this file.", '"my-style.css"'),
    Field(
        "info_page",
        "bool",
        "An information page after the title page (source, original title, credits, chapters, date). Default: true.",
        "true",
    ),
    Field("cover", "text", "A cover image (JPEG or PNG), relative to this file. Default: one is generated.", '"cover.jpg"'),
    Field("generate_cover", "bool", "Generate a cover (title, author, volume) when none is given. Default: true.", "true"),
    Field(
        "typography",
        "bool",
        "Typographic quotes, dashes and ellipses (English; other languages get the ellipsis only). Default: true.",
        "true",
    ),
    Field("plain_emphasis", "bool", "Read *word* and _word_ as emphasis and **word** as strong emphasis. Default: false.", "false"),
    Field("skip_bad", "bool", "Skip chapter files that cannot be read, with a warning, instead of stopping.", "false"),
    Field(
        "volume",
        "ranges",
        "Volumes by chapter ranges: a [[volume]] table each, with a title and its chapters as a range (\"1-120\").",
        '[{ title = "The Salt Road", chapters = "1-120" }]',
    ),
    Field("volumes.per_volume", "number", "Split into volumes of this many chapters (0: by the source's volume markers).", "100"),
    Field("volumes.single_file", "bool", "One EPUB with a nested table of contents instead of one EPUB per volume.", "false"),
    Field(
        "volumes.name",
        "text",
        "File name pattern for volume EPUBs: {title}, {volume}, {first}, {last}.",
        '"{title} - Vol {volume:02d} (Ch {first}-{last})"',
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
        "number",
        "Share of chapters (0-1) a line must appear in to count as repeated junk. Default: 0.4.",
        "0.4",
    ),
    Field("clean.repeated_min_chapters", "number", "The fewest chapters a repeated line must appear in. Default: 3.", "3"),
    Field(
        "notes.mode",
        "text",
        "What becomes of translator/editor/author notes: footnote (pop-up), endnote (a Notes section at the end), "
        "inline (left in place, styled as a note) or drop.",
        '"footnote"',
        choices=NOTE_MODES,
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


DEFAULT_VOLUME_NAME = "{title} - Vol {volume:02d} (Ch {first}-{last})"


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
    volume: tuple[tuple[str, int, int], ...] = ()
    volumes: VolumesConfig = dataclass_field(default_factory=VolumesConfig)
    clean: CleanConfig = dataclass_field(default_factory=CleanConfig)
    notes: NotesConfig = dataclass_field(default_factory=NotesConfig)


_FIELDS_BY_KEY = {field.key: field for field in FIELDS}
_PATH_KEYS = ("cover", "css")
"""Keys naming files: relative to book.toml when given there, to the current folder on the command line."""
_SECTIONS = {"volumes": VolumesConfig, "clean": CleanConfig, "notes": NotesConfig}


def load_config(input_path: Path, config_path: Path | None = None, overrides: dict[str, Any] | None = None) -> BookConfig:
    """Read book.toml (given, or found in the input folder) and apply command-line overrides.

    Override keys are dotted like FIELDS (`notes.mode`). Overrides whose value is None or
    empty are ignored, so the CLI can pass every option.
    """
    values: dict[str, Any] = {}
    path = config_path or _default_config_path(input_path)
    if path is not None:
        values.update(_flatten(_read_toml(path)))
    for key, value in (overrides or {}).items():
        if value not in (None, (), [], ""):
            values[key] = value
    where = path.name if path is not None else "options"
    validated = {key: _validated(key, value, where) for key, value in values.items()}
    sections = {
        name: section(**{key.split(".", 1)[1]: value for key, value in validated.items() if key.startswith(name + ".")})
        for name, section in _SECTIONS.items()
    }
    top = {key: value for key, value in validated.items() if "." not in key}
    for key in _PATH_KEYS:
        if top.get(key) and not (overrides or {}).get(key):
            top[key] = str((path.parent if path is not None else Path.cwd()) / top[key])
    return BookConfig(**top, **sections)


def config_template(title: str) -> str:
    """The commented book.toml that `epubgen init` writes: every key, with its help and an example."""
    lines = ["# epubgen book settings. Uncomment a line and fill it in; command-line options override it.", ""]
    section = ""
    for field in FIELDS:
        table, _, key = field.key.rpartition(".")
        if table != section:
            lines += [f"[{table}]", ""]
            section = table
        lines.append(f"# {field.help}")
        lines.append(f"title = {_toml_string(title)}" if field.key == "title" else f"# {key} = {field.example}")
        lines.append("")
    return "\n".join(lines)


def _default_config_path(input_path: Path) -> Path | None:
    candidate = (input_path if input_path.is_dir() else input_path.parent) / CONFIG_NAME
    return candidate if candidate.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None


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
        raise ConfigError(f"{where}: unknown key '{key}' (known keys: {', '.join(_FIELDS_BY_KEY)})")
    return _VALIDATORS[field.kind](field, value, where)


def _text(field: Field, value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: '{field.key}' must be a string, not {_type_name(value)}")
    value = sanitize(value).strip()
    if field.choices and value not in field.choices:
        raise ConfigError(f"{where}: '{field.key}' must be one of {', '.join(field.choices)}, not '{value}'")
    return value


def _list(field: Field, value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: '{field.key}' must be a string or a list of strings, not {_type_name(value)}")
    items = tuple(item for item in (sanitize(item).strip() for item in value) if item)
    for item in items:
        if field.choices and item not in field.choices:
            raise ConfigError(f"{where}: '{field.key}' items must be among {', '.join(field.choices)}, not '{item}'")
    return items


def _bool(field: Field, value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: '{field.key}' must be true or false, not {_type_name(value)}")
    return value


def _number(field: Field, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{where}: '{field.key}' must be a number of zero or more, not {_type_name(value)}")
    return value


def _ranges(field: Field, value: Any, where: str) -> tuple[tuple[str, int, int], ...]:
    """[[volume]] tables -> (title, first chapter, last chapter), in order."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"{where}: '{field.key}' must be [[{field.key}]] tables, not {_type_name(value)}")
    ranges = []
    for index, table in enumerate(value, 1):
        unknown = set(table) - {"title", "chapters"}
        if unknown:
            raise ConfigError(f"{where}: [[{field.key}]] {index}: unknown key '{sorted(unknown)[0]}' (known: title, chapters)")
        match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", str(table.get("chapters", "")))
        if match is None or int(match[1]) > int(match[2]):
            raise ConfigError(f"{where}: [[{field.key}]] {index}: chapters must be a range like \"1-120\", not {table.get('chapters')!r}")
        title = table.get("title", "")
        if not isinstance(title, str):
            raise ConfigError(f"{where}: [[{field.key}]] {index}: title must be a string")
        ranges.append((sanitize(title).strip(), int(match[1]), int(match[2])))
    return tuple(ranges)


def _mapping(field: Field, value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise ConfigError(f"{where}: '{field.key}' must be a table of strings, not {_type_name(value)}")
    for key, item in value.items():
        if field.choices and key not in field.choices:
            raise ConfigError(f"{where}: '{field.key}' keys must be among {', '.join(field.choices)}, not '{key}'")
        if field.value_choices and item not in field.value_choices:
            raise ConfigError(f"{where}: '{field.key}.{key}' must be one of {', '.join(field.value_choices)}, not '{item}'")
    return tuple(sorted(value.items()))


_VALIDATORS = {"text": _text, "list": _list, "bool": _bool, "number": _number, "mapping": _mapping, "ranges": _ranges}


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", dict: "a table", list: "a list"}.get(
        type(value), type(value).__name__
    )


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
