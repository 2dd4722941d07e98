"""book.toml + command-line overrides -> one validated BookConfig.

The keys, their types and their help text are declared once, in FIELDS: the loader
validates against it and `epubgen init` writes its commented template from it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from epubgen.errors import ConfigError

CONFIG_NAME = "book.toml"


@dataclass(frozen=True)
class Field:
    key: str
    kind: str
    """"text" (a string) or "list" (a string or a list of strings)."""
    help: str
    example: str


FIELDS = (
    Field("title", "text", "The book's title. Default: the folder's name.", '"The Lantern Keeper"'),
    Field("author", "list", "Author, or a list of authors.", '"Ash Vale"'),
    Field("translator", "list", "Translator, or a list of translators (dc:contributor, role trl).", '"Mo Lin"'),
    Field("language", "text", "Language of the text, as a BCP 47 tag. Default: en.", '"en"'),
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
)


@dataclass(frozen=True)
class BookConfig:
    title: str = ""
    author: tuple[str, ...] = ()
    translator: tuple[str, ...] = ()
    language: str = "en"
    description: str = ""
    publisher: str = ""
    source: str = ""
    subjects: tuple[str, ...] = ()
    identifier: str = ""


_FIELDS_BY_KEY = {field.key: field for field in FIELDS}


def load_config(input_path: Path, config_path: Path | None = None, overrides: dict[str, Any] | None = None) -> BookConfig:
    """Read book.toml (given, or found in the input folder) and apply command-line overrides.

    Overrides whose value is None or empty are ignored, so the CLI can pass every option.
    """
    values: dict[str, Any] = {}
    path = config_path or _default_config_path(input_path)
    if path is not None:
        values.update(_read_toml(path))
    for key, value in (overrides or {}).items():
        if value not in (None, (), [], ""):
            values[key] = value
    return BookConfig(**{key: _validated(key, value, path) for key, value in values.items()})


def config_template(title: str) -> str:
    """The commented book.toml that `epubgen init` writes."""
    lines = ["# epubgen book settings. Uncomment a line and fill it in; command-line options override it.", ""]
    for field in FIELDS:
        lines.append(f"# {field.help}")
        if field.key == "title":
            lines.append(f"title = {_toml_string(title)}")
        else:
            lines.append(f"# {field.key} = {field.example}")
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


def _validated(key: str, value: Any, path: Path | None) -> Any:
    where = path.name if path is not None else "options"
    field = _FIELDS_BY_KEY.get(key)
    if field is None:
        known = ", ".join(_FIELDS_BY_KEY)
        raise ConfigError(f"{where}: unknown key '{key}' (known keys: {known})")
    if field.kind == "text":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: '{key}' must be a string, not {_type_name(value)}")
        return value.strip()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: '{key}' must be a string or a list of strings, not {_type_name(value)}")
    return tuple(item.strip() for item in value if item.strip())


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", dict: "a table", list: "a list"}.get(
        type(value), type(value).__name__
    )


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
