"""What a new user meets first (issue 18): the progress bars on a terminal, `epubgen init`, and the
metadata options of `epubgen build`."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import NS, OpenedEpub, assert_valid, write_chapters
from epubgen.cli import build_command, main
from epubgen.config import FIELDS, load_config
from epubgen.errors import ConfigError


def chapters(count: int, header: str = "") -> dict[str, str]:
    """count chapter files; with header, the same line on top of every one (the site's title bar)."""
    top = f"{header}\n\n" if header else ""
    return {f"{n:03d}.txt": f"{top}Chapter {n}: Part {n}\n\nThe keeper walked on, page {n}.\n" for n in range(1, count + 1)}


def run_on_terminal(*args: str, cwd: Path) -> str:
    """Everything `python -m epubgen ARGS` draws with its stdout and stderr on a terminal (a
    pseudo-terminal of 100 columns), read until the program has closed it."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    # Two workers, so that chapters are reported in bursts as a forked build reports them.
    env = {**os.environ, "EPUBGEN_JOBS": "2"}
    process = subprocess.Popen([sys.executable, "-m", "epubgen", *args], stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env)
    os.close(slave)
    drawn = bytearray()
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the program's end of the terminal is closed
            break
        if not data:
            break
        drawn += data
    os.close(master)
    assert process.wait() == 0, drawn.decode(errors="replace")
    return drawn.decode()


def last_state(drawn: str, label: str) -> str:
    """The last drawing of the bar labelled label: each is written over the one before, from the
    line's start (the cursor moves and line clearings between them left out)."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn)
    return [state for state in re.split(r"[\r\n]", text) if state.startswith(label)][-1]


# Item 1: progress bars.


def test_on_a_terminal_the_build_bar_ends_full_above_the_summary(tmp_path: Path) -> None:
    write_chapters(tmp_path / "long", chapters(240))
    drawn = run_on_terminal("build", "long", "-o", "long.epub", cwd=tmp_path)
    final = last_state(drawn, "Chapters")
    assert "100%" in final and "240/240" in final, final
    assert drawn.rindex("Chapters") < drawn.index("Wrote long.epub (240 chapters, ")


def test_on_a_terminal_the_library_bar_ends_full(tmp_path: Path) -> None:
    write_chapters(tmp_path / "library" / "ashes", chapters(60))
    write_chapters(tmp_path / "library" / "cinders", chapters(240))
    drawn = run_on_terminal("build-all", "library", "-o", "out", cwd=tmp_path)
    final = last_state(drawn, "Library")
    assert "100%" in final and "2/2" in final, final
    assert drawn.rindex("Library") < drawn.index("2 of 2 series built into out")


def test_off_a_terminal_only_the_summary_is_printed(tmp_path: Path) -> None:
    write_chapters(tmp_path / "long", chapters(60))
    result = subprocess.run([sys.executable, "-m", "epubgen", "build", "long", "-o", "long.epub"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.startswith("Wrote long.epub (60 chapters, ") and result.stdout.count("\n") == 1


# Item 7: epubgen init.


def built_title(folder: Path, output: Path) -> str:
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(output), "-q"])
    assert result.exit_code == 0, result.output
    return OpenedEpub(output).metadata("dc:title")[0]


def test_init_writes_the_detected_title_and_a_build_keeps_it(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "lantern_download", chapters(5, "The Lantern Keeper"))
    without = built_title(folder, tmp_path / "without.epub")
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    text = (folder / "book.toml").read_text()
    assert tomllib.loads(text)["title"] == "The Lantern Keeper"
    assert "# Detected from the chapters" in text
    assert built_title(folder, tmp_path / "with.epub") == without == "The Lantern Keeper"


def test_init_leaves_the_title_commented_when_none_is_detected(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "my_novel", chapters(5))
    without = built_title(folder, tmp_path / "without.epub")
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    text = (folder / "book.toml").read_text()
    assert "title" not in tomllib.loads(text)
    assert '\n# title = "' in text
    assert built_title(folder, tmp_path / "with.epub") == without == "my novel"


def test_init_still_writes_the_template_when_the_chapters_cannot_be_read(tmp_path: Path) -> None:
    """Reading them may need a setting (skip_bad, encoding) the user is about to fill in."""
    folder = write_chapters(tmp_path / "broken", {"001.txt": bytes(range(256)) * 4})
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    assert "title" not in tomllib.loads((folder / "book.toml").read_text())
    assert "warning: no title detected: " in result.stderr and "binary file" in result.stderr


# Item 14: metadata options, declared once in config.FIELDS.

COMMAND_OWN = {"input_path", "output", "config_path", "report", "force", "cache_dir", "quiet", "verbose"}
"""The parameters of `build` that are not settings of book.toml."""


def test_every_setting_option_is_made_from_its_field_and_helped_by_its_description() -> None:
    options = {option: param for param in build_command.params for option in param.opts}
    on_the_command_line = [field for field in FIELDS if field.option]
    for field in on_the_command_line:
        assert options[field.option].help == field.help, field.key
    settings = {param.name for param in build_command.params} - COMMAND_OWN
    assert len(settings) == len(on_the_command_line)
    assert {"--series", "--series-index", "--tags", "--description", "--publisher"} <= {field.option for field in on_the_command_line}


def test_the_calibre_style_flags_reach_the_opf(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "novel", chapters(2))
    output = tmp_path / "book.epub"
    result = CliRunner().invoke(
        main,
        ["build", str(folder), "-o", str(output), "--tags", "Fantasy, Mystery,", "--description", "A keeper of lanterns.", "--publisher", "Example Web Novels"],
    )
    assert result.exit_code == 0, result.output
    book = OpenedEpub(output)
    assert book.metadata("dc:subject") == ["Fantasy", "Mystery"]
    assert book.metadata("dc:description") == ["A keeper of lanterns."]
    assert book.metadata("dc:publisher") == ["Example Web Novels"]


def test_series_and_series_index_reach_the_opf(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "novel", chapters(2))
    output = tmp_path / "book.epub"
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(output), "--series", "The Lantern Cycle", "--series-index", "2"])
    assert result.exit_code == 0, result.output
    book = OpenedEpub(output)
    calibre = {meta.get("name"): meta.get("content") for meta in book.opf.findall("opf:metadata/opf:meta[@name]", NS)}
    assert (calibre["calibre:series"], calibre["calibre:series_index"]) == ("The Lantern Cycle", "2")
    assert book.meta_property("belongs-to-collection") == ["The Lantern Cycle"]
    assert book.meta_property("group-position") == ["2"]
    assert_valid(output)


def test_a_new_option_is_validated_as_its_book_toml_key(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "novel", chapters(2))
    result = CliRunner().invoke(main, ["build", str(folder), "--publisher", "Bad\x00"])
    assert (result.exit_code, result.stderr) == (1, "error: options: 'publisher' holds a NUL or a byte that is not text: 'Bad\\x00'\n")
    (folder / "book.toml").write_text("series_index = 0\n")
    with pytest.raises(ConfigError, match=r"book.toml: 'series_index' must be a whole number, 1 or more"):
        load_config(folder)
    result = CliRunner().invoke(main, ["build", str(folder), "--series-index", "two"])
    assert result.exit_code == 2 and "'two' is not a valid integer" in result.output


def test_a_bool_setting_can_be_switched_off_on_the_command_line_over_book_toml(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "novel", {**chapters(2), "book.toml": "skip_bad = true\n", "003.txt": bytes(range(256)) * 4})
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(tmp_path / "b.epub"), "--no-skip-bad"])
    assert result.exit_code == 1 and "binary file" in result.output
