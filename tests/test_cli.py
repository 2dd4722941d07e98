"""The command line: what a user types, what they see, and the exit code."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import OpenedEpub, write_chapters
from epubgen import cli
from epubgen.cli import _exit_status, main


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m epubgen` as a user would, in a real process."""
    return subprocess.run([sys.executable, "-m", "epubgen", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def chapters(tmp_path: Path) -> Path:
    return write_chapters(tmp_path / "my_novel", {"001.txt": "Chapter 1: One\n\nFirst.\n", "002.txt": "Chapter 2: Two\n\nSecond.\n"})


def test_build_writes_output_slug_of_title_by_default_and_says_what_it_wrote(chapters: Path, tmp_path: Path) -> None:
    result = run("build", str(chapters), "--title", "The Lantern Keeper!", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "output" / "the-lantern-keeper.epub"
    assert written.is_file()
    assert result.stdout.startswith("Wrote output/the-lantern-keeper.epub (2 chapters, ")
    assert result.stdout.rstrip().endswith("KB)")


def test_build_options_override_book_toml(chapters: Path, tmp_path: Path) -> None:
    (chapters / "book.toml").write_text('title = "From Toml"\nauthor = "Toml Author"\nlanguage = "en"\n')
    output = tmp_path / "book.epub"
    result = run("build", str(chapters), "-o", str(output), "--author", "Cli One", "--author", "Cli Two", "--translator", "Tr")
    assert result.returncode == 0, result.stderr
    book = OpenedEpub(output)
    assert book.metadata("dc:title") == ["From Toml"]
    assert book.metadata("dc:creator") == ["Cli One", "Cli Two"]
    assert book.metadata("dc:contributor") == ["Tr"]


def test_quiet_prints_nothing_on_success(chapters: Path, tmp_path: Path) -> None:
    result = run("build", str(chapters), "-o", str(tmp_path / "b.epub"), "--quiet")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_off_a_terminal_a_long_build_draws_no_bar_and_quiet_prints_nothing(tmp_path: Path) -> None:
    """The bar itself is drawn on terminals only (tests/test_first_run_cli.py, in a pseudo-terminal)."""
    folder = write_chapters(tmp_path / "long", {f"{n:03d}.txt": f"Chapter {n}\n\nText {n}.\n" for n in range(1, 61)})
    runner = CliRunner()
    shown = runner.invoke(main, ["build", str(folder), "-o", str(tmp_path / "a.epub")])
    hidden = runner.invoke(main, ["build", str(folder), "-o", str(tmp_path / "b.epub"), "-q"])
    assert shown.exit_code == hidden.exit_code == 0
    assert shown.stderr == ""
    assert "60 chapters" in shown.stdout
    assert hidden.stderr == hidden.stdout == ""


def test_python_dash_m_and_the_console_script_are_the_same_command() -> None:
    assert run("--help").stdout.startswith("Usage: python -m epubgen")
    assert "build" in run("--help").stdout and "init" in run("--help").stdout



def test_the_program_ends_with_the_status_sys_exit_would_give() -> None:
    """`epubgen` ends its process itself once its output is flushed (cli.run): with click's status
    for a usage error, and sys.exit's for every other ending."""
    usage = run("build")
    assert usage.returncode == 2
    assert "Missing argument 'INPUT'" in usage.stderr
    assert [_exit_status(code) for code in (None, 0, 1, 2)] == [0, 0, 1, 2]




@pytest.mark.parametrize(("ending", "status"), [(None, 120), (SystemExit(2), 2)])
def test_output_lost_at_the_end_ends_with_status_120_as_python_s_own_shutdown(
    monkeypatch: pytest.MonkeyPatch, ending: SystemExit | None, status: int
) -> None:
    """What cannot be flushed (a full disk, a reader gone) is an error, unless main failed already."""

    class Full(io.StringIO):
        def flush(self) -> None:
            raise OSError(28, "No space left on device")

    def main() -> None:
        if ending is not None:
            raise ending

    ended: list[int] = []
    monkeypatch.setattr(sys, "stdout", Full())
    monkeypatch.setattr(cli, "main", main)
    monkeypatch.setattr(os, "_exit", ended.append)
    cli.run()
    assert ended == [status]


def test_a_program_started_with_its_output_closed_ends_as_main_says(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", {"1.txt": "Chapter 1\n\nText.\n"})
    result = subprocess.run(f'"{sys.executable}" -m epubgen build "{folder}" -o "{tmp_path / "b.epub"}" -q >&-', shell=True, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")
    assert (tmp_path / "b.epub").is_file()

def test_a_message_given_to_sys_exit_is_printed_and_ends_with_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_status("stopped: no space left") == 1
    assert capsys.readouterr().err == "stopped: no space left\n"

ERRORS = [
    (["build", "{tmp}/missing"], "missing: no such file or folder"),
    (["build", "{tmp}/empty"], "no chapter files (.txt, .html, .htm, .xhtml) in this folder"),
    (["build", "{tmp}/binary"], "data.txt: this is a binary file, not text"),
    (["build", "{tmp}/latin1", "--encoding", "klingon"], "'encoding' must be a text encoding such as utf-8, gb18030 or cp1252, not 'klingon'"),
    (["build", "{tmp}/latin1", "--encoding", "utf-8"], "old.txt: not valid utf-8 (bad byte at offset 14)"),
    (["build", "{tmp}/blank"], "blank.txt: the file is empty"),
    (["build", "{tmp}/badkey"], "book.toml: unknown key 'titel'"),
    (["build", "{tmp}/badtype"], "book.toml: 'subjects' must be a string or a list of strings, not a number"),
    (["build", "{tmp}/badtoml"], "book.toml: not valid TOML"),
    (["build", "{tmp}/good", "-o", "{tmp}/afile/book.epub"], "afile: not a folder"),
    (["build", "{tmp}/good", "--config", "{tmp}/nope.toml"], "nope.toml: no such config file"),
]


@pytest.fixture
def error_fixtures(tmp_path: Path) -> Path:
    (tmp_path / "empty").mkdir()
    write_chapters(tmp_path / "binary", {"data.txt": bytes(range(256)) * 4})
    write_chapters(tmp_path / "latin1", {"old.txt": "Chapter 1\n\nCaf\u00e9 cr\u00e8me.\n".encode("latin-1")})
    write_chapters(tmp_path / "blank", {"blank.txt": "\n  \n"})
    write_chapters(tmp_path / "badkey", {"1.txt": "Chapter 1\n\nText.\n", "book.toml": 'titel = "x"\n'})
    write_chapters(tmp_path / "badtype", {"1.txt": "Chapter 1\n\nText.\n", "book.toml": "subjects = 3\n"})
    write_chapters(tmp_path / "badtoml", {"1.txt": "Chapter 1\n\nText.\n", "book.toml": "title = \n"})
    write_chapters(tmp_path / "good", {"1.txt": "Chapter 1\n\nText.\n"})
    (tmp_path / "afile").write_text("a file, not a folder")
    return tmp_path


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[e[1].split(":")[0] for e in ERRORS])
def test_bad_input_exits_non_zero_with_one_line_naming_the_problem(error_fixtures: Path, args: list[str], message: str) -> None:
    result = run(*(arg.format(tmp=error_fixtures) for arg in args))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]


def test_init_writes_a_commented_book_toml_that_build_accepts(chapters: Path, tmp_path: Path) -> None:
    result = run("init", str(chapters))
    assert result.returncode == 0, result.stderr
    text = (chapters / "book.toml").read_text()
    assert tomllib.loads(text) == {"volumes": {}, "clean": {}, "notes": {}}
    for key in ("author", "translator", "language", "description", "publisher", "source", "subjects", "identifier"):
        assert f"# {key} = " in text
    uncommented = "\n".join(line[2:] if line.startswith("# ") and " = " in line else line for line in text.splitlines())
    (chapters / "book.toml").write_text(uncommented)
    Image.new("RGB", (30, 45)).save(chapters / "cover.jpg", format="JPEG")
    (chapters / "my-style.css").write_text("p { margin: 0; }\n")
    assert run("build", str(chapters), "-o", str(tmp_path / "b.epub")).returncode == 0
    assert OpenedEpub(tmp_path / "b.epub").metadata("dc:creator") == ["Ash Vale"]


def test_init_refuses_to_overwrite_without_force(chapters: Path) -> None:
    (chapters / "book.toml").write_text('title = "Mine"\n')
    refused = run("init", str(chapters))
    assert refused.returncode == 1
    assert "already exists" in refused.stderr
    assert (chapters / "book.toml").read_text() == 'title = "Mine"\n'
    assert run("init", str(chapters), "--force").returncode == 0
    assert "Mine" not in (chapters / "book.toml").read_text()
