"""book.toml: every key declared once, validated, and overridden by the command line."""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path

import pytest

from epubgen.config import FIELDS, BookConfig, config_template, load_config
from epubgen.errors import ConfigError


def _setting_paths(config_class: type, prefix: str = "") -> list[str]:
    paths = []
    for field in fields(config_class):
        if is_dataclass(field.default_factory if field.default_factory is not MISSING else None):
            paths += _setting_paths(field.default_factory, f"{prefix}{field.name}.")
        else:
            paths.append(prefix + field.name)
    return paths


def test_every_setting_is_declared_once_with_help_text() -> None:
    assert [field.key for field in FIELDS] == _setting_paths(BookConfig)
    assert all(field.help and field.example for field in FIELDS)


def uncommented(template: str) -> str:
    return "\n".join(line[2:] if line.startswith("# ") and " = " in line else line for line in template.splitlines())


def test_the_template_parses_and_every_example_value_validates(tmp_path: Path) -> None:
    assert tomllib.loads(config_template('A "quoted" \\ title'))["title"] == 'A "quoted" \\ title'
    (tmp_path / "book.toml").write_text(uncommented(config_template("T")))
    config = load_config(tmp_path)
    assert config.author == ("Ash Vale",)
    assert config.subjects == ("Fantasy", "Mystery")
    assert config.notes.mode_for("AN") == "drop"
    assert config.notes.mode_for("TL") == "footnote"
    assert dict(config.notes.labels) == {"Raw": "TL", "Cleaner": "ED"}


def test_strings_become_one_item_lists_and_cli_overrides_win(tmp_path: Path) -> None:
    (tmp_path / "book.toml").write_text('title = "Toml"\nauthor = "One"\ntranslator = ["A", "B"]\n')
    config = load_config(tmp_path, overrides={"title": "Cli", "author": (), "language": None})
    assert (config.title, config.author, config.translator, config.language) == ("Cli", ("One",), ("A", "B"), "")


def test_a_single_file_input_finds_book_toml_beside_it(tmp_path: Path) -> None:
    (tmp_path / "book.toml").write_text('title = "Beside"\n')
    (tmp_path / "series.txt").write_text("text")
    assert load_config(tmp_path / "series.txt").title == "Beside"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('titel = "x"', "unknown key 'titel'"),
        ("title = 3", "'title' must be a string, not a number"),
        ("author = [1, 2]", "'author' must be a string or a list of strings, not a list"),
        ("subjects = true", "'subjects' must be a string or a list of strings, not a boolean"),
        ("[title]\nx = 1", "'title' must be a string, not a table"),
        ("[notes]\nmode = \"popup\"", "'notes.mode' must be one of footnote, endnote, inline, drop, not 'popup'"),
        ("[notes]\nby_kind = { XX = \"drop\" }", "'notes.by_kind' keys must be among TL, ED, PR, AN, not 'XX'"),
        ("[notes]\nby_kind = { AN = \"burn\" }", "'notes.by_kind.AN' must be one of footnote"),
        ("[notes]\nlabels = [\"Raw\"]", "'notes.labels' must be a table of strings, not a list"),
        ("[notes]\ncolour = 1", "unknown key 'notes.colour'"),
        ("[fonts]\nsize = 1", "unknown key 'fonts'"),
    ],
)
def test_wrong_keys_and_types_are_errors_naming_the_key(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "book.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(tmp_path)
