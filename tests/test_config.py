"""book.toml: every key declared once, validated, and overridden by the command line."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from epubgen.config import FIELDS, BookConfig, config_template, load_config
from epubgen.errors import ConfigError


def test_every_book_config_field_is_declared_with_help_text() -> None:
    assert [field.key for field in FIELDS] == [field.name for field in fields(BookConfig)]
    assert all(field.help for field in FIELDS)


def test_the_template_parses_and_every_example_value_validates(tmp_path: Path) -> None:
    assert tomllib.loads(config_template('A "quoted" \\ title')) == {"title": 'A "quoted" \\ title'}
    examples = "\n".join(f"{field.key} = {field.example}" for field in FIELDS)
    (tmp_path / "book.toml").write_text(examples)
    config = load_config(tmp_path)
    assert config.author == ("Ash Vale",)
    assert config.subjects == ("Fantasy", "Mystery")


def test_strings_become_one_item_lists_and_cli_overrides_win(tmp_path: Path) -> None:
    (tmp_path / "book.toml").write_text('title = "Toml"\nauthor = "One"\ntranslator = ["A", "B"]\n')
    config = load_config(tmp_path, overrides={"title": "Cli", "author": (), "language": None})
    assert (config.title, config.author, config.translator, config.language) == ("Cli", ("One",), ("A", "B"), "en")


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
    ],
)
def test_wrong_keys_and_types_are_errors_naming_the_key(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "book.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(tmp_path)
