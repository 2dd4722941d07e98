"""Hostile settings: every book.toml value and option checked at load, the user's regexes run on a
time budget, and distinct volumes written to distinct files."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import OpenedEpub, assert_valid, write_chapters
from epubgen.builder import plan_outputs
from epubgen.cli import main
from epubgen.config import BookConfig, VolumesConfig, load_config
from epubgen.errors import ConfigError
from epubgen.model import Book, Chapter, Heading, Metadata, Volume


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_one_line_error(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0]


def story(tmp_path: Path, toml: str = "", chapters: int = 2) -> Path:
    folder = write_chapters(
        tmp_path / "story",
        {f"{number:03d}.txt": f"Chapter {number}: Day {number}\n\nThe keeper lit lamp {number}.\n" for number in range(1, chapters + 1)},
    )
    if toml:
        (folder / "book.toml").write_text(toml, encoding="utf-8")
    return folder


BAD_VALUES = [
    # (book.toml, the key, the value as the error shows it)
    ("[volumes]\nper_volume = 0.5", "volumes.per_volume", "0.5"),
    ("[volumes]\nper_volume = inf", "volumes.per_volume", "inf"),
    ("[volumes]\nper_volume = nan", "volumes.per_volume", "nan"),
    ("[volumes]\nper_volume = -1", "volumes.per_volume", "-1"),
    ("[volumes]\nper_volume = true", "volumes.per_volume", "true"),
    ('[volumes]\nper_volume = "10"', "volumes.per_volume", "'10'"),
    ("[clean]\nrepeated_share = inf", "clean.repeated_share", "inf"),
    ("[clean]\nrepeated_share = nan", "clean.repeated_share", "nan"),
    ("[clean]\nrepeated_share = 0", "clean.repeated_share", "0"),
    ("[clean]\nrepeated_share = 1.5", "clean.repeated_share", "1.5"),
    ("[clean]\nrepeated_min_chapters = 0", "clean.repeated_min_chapters", "0"),
    ("[clean]\nrepeated_min_chapters = 2.5", "clean.repeated_min_chapters", "2.5"),
    ("[clean]\nrepeated_min_chapters = -inf", "clean.repeated_min_chapters", "-inf"),
    ("[clean]\nremove_regex = 'a{99999999999}'", "clean.remove_regex", "a{99999999999}"),
    ("[clean]\nremove_regex = 'a{4294967294}'", "clean.remove_regex", "a{4294967294}"),
    ("[clean]\nremove_regex = '((a{1000}){1000}){1000}'", "clean.remove_regex", "((a{1000}){1000}){1000}"),
    (f"[clean]\nremove_regex = '{'(' * 5000}'", "clean.remove_regex", "((((("),
    (f"[clean]\nremove_regex = '{'(' * 5000 + 'a' + ')' * 5000}'", "clean.remove_regex", "((((("),
    (f"[clean]\nremove_regex = '{'(?:' * 200 + 'a' + ')' * 200}'", "clean.remove_regex", "(?:(?:"),
    ("[clean]\nremove_regex = ['fine', 'x{3,1}']", "clean.remove_regex", "x{3,1}"),
    ("[clean]\nremove_regex = '\\p{Nope}'", "clean.remove_regex", "'\\p{Nope}'"),
    ('[volumes]\nname = "{nope}"', "volumes.name", "{nope}"),
    ('[volumes]\nname = "{volume.nope}"', "volumes.name", "{volume.nope}"),
    ('[volumes]\nname = "{title.__class__}"', "volumes.name", "{title.__class__}"),
    ('[volumes]\nname = "{volume:999999999}"', "volumes.name", "{volume:999999999}"),
    ('[volumes]\nname = "{volume:.999999999f}"', "volumes.name", "{volume:.999999999f}"),
    ('[volumes]\nname = "{volume!r:>1000000}"', "volumes.name", "{volume!r:>1000000}"),
    ('[volumes]\nname = "{volume:{first}}"', "volumes.name", "{volume:{first}}"),
    ('[volumes]\nname = "{0}"', "volumes.name", "{0}"),
    ('[volumes]\nname = "{}"', "volumes.name", "{}"),
    ('[volumes]\nname = "{"', "volumes.name", "'{'"),
    ('[volumes]\nname = "Vol }"', "volumes.name", "Vol }"),
    ('[volumes]\nname = "{title:d}"', "volumes.name", "{title:d}"),
    ('[volumes]\nname = "vols/{volume}"', "volumes.name", "vols/{volume}"),
    ('[volumes]\nname = "."', "volumes.name", "'.'"),
    ('[volumes]\nname = ".."', "volumes.name", "'..'"),
    ('[volumes]\nname = "  "', "volumes.name", "''"),
    ('[volumes]\nname = "Book"', "volumes.name", "Book"),
    ('[volumes]\nname = "{title}"', "volumes.name", "{title}"),
    ('[volumes]\nname = "Vol {volume!s:.0}"', "volumes.name", "{volume!s:.0}"),
    (f'[volumes]\nname = "{"x" * 250} {{volume}}"', "volumes.name", "xxxx"),
    (f'[volumes]\nname = "{"卷" * 90} {{volume}}"', "volumes.name", "卷卷卷"),
    ('language = "english!"', "language", "english!"),
    ('language = "12"', "language", "'12'"),
    ('language = "en-"', "language", "'en-'"),
    ('language = "C"', "language", "'C'"),
    ('encoding = "no-such-codec"', "encoding", "no-such-codec"),
    ('encoding = "rot13"', "encoding", "rot13"),
    ('encoding = "base64"', "encoding", "base64"),
    ('title = "Nul\\u0000Title"', "title", "'Nul\\x00Title'"),
    ('author = ["A", "B\\u0000"]', "author", "'B\\x00'"),
    ('cover = "cover\\u0000.jpg"', "cover", "'cover\\x00.jpg'"),
    ('author = [["nested"]]', "author", "[['nested']]"),
    ('[notes]\nlabels = { "" = "TL" }', "notes.labels", "''"),
    ('[notes]\nlabels = { "  " = "TL" }', "notes.labels", "'  '"),
    ('[[volume]]\nchapters = "1-10"\n[[volume]]\nchapters = "5-20"', "volume", "'5-20'"),
    ('[[volume]]\nchapters = "11-20"\n[[volume]]\nchapters = "1-10"', "volume", "'1-10'"),
]


@pytest.mark.parametrize(("toml", "key", "shown"), BAD_VALUES)
def test_every_bad_value_is_refused_at_load_in_one_line_naming_key_and_value(tmp_path: Path, toml: str, key: str, shown: str) -> None:
    (tmp_path / "book.toml").write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path)
    message = str(refused.value)
    assert "\n" not in message and len(message) < 400, message
    assert message.startswith("book.toml: ")
    assert key in message and shown in message, message


@pytest.mark.parametrize(
    ("toml", "options", "words"),
    [
        ("", ["--language", "english!"], ["options", "language", "english!"]),
        ('language = "en"', ["--language", "12"], ["options", "language", "'12'"]),
        ("", ["--language", "en\udcff"], ["language", "\\udcff"]),
        ("", ["--encoding", "no-such-codec"], ["options", "encoding", "no-such-codec"]),
        ("[volumes]\nper_volume = nan", [], ["book.toml", "volumes.per_volume", "nan"]),
        ("[clean]\nremove_regex = '" + "(" * 5000 + "'", [], ["book.toml", "clean.remove_regex", "((((("]),
        ("[clean]\nremove_regex = 'a{4294967294}'", [], ["book.toml", "clean.remove_regex", "a{4294967294}"]),
        ('[volumes]\nname = "{volume:999999999}"', [], ["book.toml", "volumes.name", "{volume:999999999}"]),
        ('[volumes]\nname = "{volume.nope}"', [], ["book.toml", "volumes.name", "{volume.nope}"]),
    ],
)
def test_bad_values_through_the_command_line_are_one_line_errors(tmp_path: Path, toml: str, options: list[str], words: list[str]) -> None:
    folder = story(tmp_path, toml)
    result = cli("build", str(folder), "-o", str(tmp_path / "out.epub"), *options)
    assert_one_line_error(result, *words)
    assert not (tmp_path / "out.epub").exists()


def test_good_values_pass_and_are_normalised(tmp_path: Path) -> None:
    (tmp_path / "book.toml").write_text(
        'language = "zh_TW.UTF-8"\nencoding = "GB18030"\n[volumes]\nper_volume = 10\nname = "Vol {volume:03d} {title:.20}"\n'
        '[clean]\nrepeated_share = 1\nrepeated_min_chapters = 2\nremove_regex = ["^Ad: .{0,300}$"]\n'
        '[[volume]]\nchapters = "1-10"\n[[volume]]\nchapters = "11-20"\n',
        encoding="utf-8",
    )
    config = load_config(tmp_path, overrides={"language": "pt_br"})
    assert config.language == "pt-BR"
    assert (config.encoding, config.volumes.per_volume, config.clean.repeated_share) == ("GB18030", 10, 1)
    assert load_config(tmp_path).language == "zh-TW"


def test_a_locale_language_tag_is_written_normalised_and_the_book_is_valid(tmp_path: Path) -> None:
    folder = story(tmp_path, 'language = "en_US.UTF-8"\n')
    result = cli("build", str(folder), "-o", str(tmp_path / "book.epub"))
    assert result.exit_code == 0, result.output
    assert OpenedEpub(tmp_path / "book.epub").metadata("dc:language") == ["en-US"]
    assert_valid(tmp_path / "book.epub")
    result = cli("build", str(folder), "-o", str(tmp_path / "cli.epub"), "--language", "ko_KR")
    assert result.exit_code == 0, result.output
    assert OpenedEpub(tmp_path / "cli.epub").metadata("dc:language") == ["ko-KR"]


RUNAWAY = [
    # (pattern, a line it backtracks on for ever)
    ("(a|aa)+$", "a" * 40 + "!"),
    ("(a|a)+$", "a" * 40 + "!"),
    ("(.*?a){15}!", "a" * 40),
]


@pytest.mark.parametrize(("pattern", "line"), RUNAWAY)
def test_a_runaway_user_regex_is_a_one_line_error_naming_pattern_file_and_line(tmp_path: Path, pattern: str, line: str) -> None:
    folder = story(tmp_path, f"[clean]\nremove_regex = ['^Sponsored by .*$', '{pattern}']\n")
    (folder / "002.txt").write_text(f"Chapter 2: Day 2\n\nThe keeper lit a lamp.\n{line}\n", encoding="utf-8")
    result = cli("build", str(folder), "-o", str(tmp_path / "out.epub"))
    assert_one_line_error(result, "clean.remove_regex", pattern, "took too long on 002.txt line 4", "simplify the pattern")
    assert not (tmp_path / "out.epub").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="work is shared out among processes on Linux only")
def test_a_runaway_user_regex_in_a_worker_process_is_the_same_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPUBGEN_JOBS", "2")
    folder = story(tmp_path, "[clean]\nremove_regex = '(a|aa)+$'\n", chapters=240)
    (folder / "230.txt").write_text("Chapter 230: Day 230\n\n" + "a" * 40 + "!\n", encoding="utf-8")
    result = cli("build", str(folder), "-o", str(tmp_path / "out.epub"))
    assert_one_line_error(result, "clean.remove_regex", "(a|aa)+$", "took too long on 230.txt line 3")


@pytest.mark.parametrize(
    ("pattern", "line"),
    [("(a+)+$", "a" * 40 + "!"), (r"(\w+\s?)*$", "a" * 40 + "!"), ("(.*a){20}", "a" * 19 + "!" * 30)],
)
def test_patterns_that_backtrack_for_ever_elsewhere_finish_and_a_plain_regex_still_removes_its_lines(
    tmp_path: Path, pattern: str, line: str
) -> None:
    folder = story(tmp_path, f"[clean]\nremove_regex = ['^Sponsored by .*$', '{pattern}']\n")
    (folder / "002.txt").write_text(f"Chapter 2: Day 2\n\nSponsored by Lamp Oil Ltd\n{line}\nThe keeper slept.\n", encoding="utf-8")
    result = cli("build", str(folder), "-o", str(tmp_path / "out.epub"))
    assert result.exit_code == 0, result.output
    text = OpenedEpub(tmp_path / "out.epub").text()
    assert line in text and "The keeper slept." in text
    assert "Sponsored" not in text


def volume(number: int, *chapters: int | None) -> Volume:
    return Volume(number, "", tuple(Chapter(f"{n}.txt", Heading("chapter" if n else "title", Decimal(n) if n else None), (), ()) for n in chapters))


def series(*volumes: Volume) -> Book:
    return Book(Metadata(title="The Ledger"), tuple(c for v in volumes for c in v.chapters), "", volumes=volumes)


@pytest.mark.parametrize(
    ("pattern", "volumes", "clash"),
    [
        ("Part {first}", (volume(1, None), volume(2, None)), "volumes 1 and 2"),
        ("Vol {volume!s:.1}", (volume(1, 1), volume(10, 2)), "volumes 1 and 10"),
        ("Vol {volume:c}{first}", (volume(65, 5), volume(97, 5)), "volumes 65 and 97"),
        ("{title} {first}?", (volume(1, 5), volume(2, 5)), "volumes 1 and 2"),
    ],
)
def test_volumes_that_would_share_a_file_name_fail_before_anything_is_written(
    tmp_path: Path, pattern: str, volumes: tuple[Volume, ...], clash: str
) -> None:
    config = BookConfig(volumes=VolumesConfig(name=pattern))
    with pytest.raises(ConfigError) as refused:
        plan_outputs(series(*volumes), config, tmp_path, covers=False)
    message = str(refused.value)
    assert "\n" not in message and "volumes.name" in message and pattern in message and clash in message


def test_a_build_whose_volume_names_clash_writes_nothing(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "story", {"a.txt": "The Beginning\n\nOne.\n", "b.txt": "The Middle\n\nTwo.\n"})
    (folder / "book.toml").write_text('[volumes]\nper_volume = 1\nname = "Part {first}"\n', encoding="utf-8")
    result = cli("build", str(folder), "-o", str(tmp_path / "out"))
    assert_one_line_error(result, "volumes.name", "Part {first}", "volumes 1 and 2")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_long_title_is_shortened_to_fit_volume_file_names(tmp_path: Path) -> None:
    title = "The Keeper Who Lit The Lanterns Of The Salt Road " * 8
    folder = story(tmp_path, f'title = "{title}"\n[volumes]\nper_volume = 1\n', chapters=2)
    result = cli("build", str(folder), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    written = sorted((tmp_path / "out").glob("*.epub"))
    assert len(written) == 2
    assert all(len(path.name.encode()) <= 240 for path in written), written
    assert [path.name.endswith(f" Vol 0{n} (Ch {n}-{n}).epub") for n, path in enumerate(written, 1)] == [True, True]
    assert OpenedEpub(written[1]).metadata("dc:title") == [f"{title.strip()}, Volume 2"]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="FIFOs are a POSIX thing")
def test_a_settings_file_that_is_not_a_regular_file_inside_the_input_is_refused_unread(tmp_path: Path) -> None:
    folder = story(tmp_path)
    fifo = tmp_path / "pipe.toml"
    __import__("os").mkfifo(fifo)
    assert_one_line_error(cli("build", str(folder), "-o", str(tmp_path / "a.epub"), "--config", str(fifo)), "pipe.toml", "not a regular file")
    (tmp_path / "secret.toml").write_text('title = "Outside"\n', encoding="utf-8")
    (folder / "book.toml").symlink_to(tmp_path / "secret.toml")
    assert_one_line_error(cli("build", str(folder), "-o", str(tmp_path / "b.epub")), "book.toml", "outside the input folder")
    (folder / "book.toml").unlink()
    (folder / "book.toml").write_text("# " + "x" * (2 * 1024 * 1024) + "\n", encoding="utf-8")
    assert_one_line_error(cli("build", str(folder), "-o", str(tmp_path / "c.epub")), "book.toml", "larger than")
    (folder / "book.toml").write_text("a = " + "[" * 100_000 + "\n", encoding="utf-8")
    assert_one_line_error(cli("build", str(folder), "-o", str(tmp_path / "d.epub")), "book.toml", "not valid TOML")
    assert not any(tmp_path.glob("*.epub"))


@pytest.mark.parametrize("key", ["cover", "css"])
@pytest.mark.parametrize("named", ["../secret/photo.png", "{outside}/secret/photo.png", "link/photo.png"])
def test_hostile_config_a_book_toml_in_the_input_names_no_file_outside_it(tmp_path: Path, key: str, named: str) -> None:
    """A book.toml that came with a download must not pull in the user's private files."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "photo.png").write_bytes(b"private")
    folder = tmp_path / "series"
    folder.mkdir()
    (folder / "link").symlink_to(secret)
    (folder / "book.toml").write_text(f'{key} = "{named.format(outside=tmp_path)}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^book.toml: '{key}' names .*outside the input folder; give it with --{key} instead$"):
        load_config(folder)


def test_hostile_config_files_inside_the_input_or_named_on_the_command_line_are_fine(tmp_path: Path) -> None:
    folder = tmp_path / "series"
    (folder / "art").mkdir(parents=True)
    (folder / "book.toml").write_text('cover = "art/cover.png"\n', encoding="utf-8")
    assert load_config(folder).cover == str(folder / "art" / "cover.png")
    outside = tmp_path / "mine.css"
    assert load_config(folder, overrides={"css": str(outside)}).css == str(outside)
    given = tmp_path / "elsewhere.toml"
    given.write_text('css = "../mine.css"\n', encoding="utf-8")
    assert load_config(folder, config_path=given).css == str(tmp_path / ".." / "mine.css")


@pytest.mark.parametrize("identifier", ["urn:uuid:x", "URN:UUID:1234", "urn:uuid:", "urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-extra"])
def test_hostile_config_an_identifier_that_says_uuid_must_be_one(tmp_path: Path, identifier: str) -> None:
    folder = tmp_path / "series"
    folder.mkdir()
    (folder / "book.toml").write_text(f'identifier = "{identifier}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="^book.toml: 'identifier' says it is a UUID but is not one: "):
        load_config(folder)


def test_hostile_config_identifiers_that_are_fine_are_kept_or_normalised(tmp_path: Path) -> None:
    for given, kept in (
        ("isbn:9780000000002", "isbn:9780000000002"),
        ("URN:UUID:0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
    ):
        assert load_config(tmp_path, overrides={"identifier": given}).identifier == kept


@pytest.mark.parametrize("pattern", ["[[:digit:]]+ views", "[a&&b]", "[a||b]", "[a--b]x"])
def test_hostile_config_a_regex_set_that_engines_read_differently_is_refused(pattern: str) -> None:
    """Python's re and the regex module that runs user patterns read these sets apart: refused, not guessed."""
    with pytest.raises(ConfigError, match="has a set that engines read differently"):
        load_config(Path("."), overrides={"clean.remove_regex": [pattern]})
