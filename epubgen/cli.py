"""The `epubgen` command: a thin layer over the Python API in epubgen.builder."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from epubgen.batch import SeriesResult, SeriesStart, build_all, is_library
from epubgen.builder import OUTPUT_FOLDER, BuildResult, Progress, analyse, build, make_book, title_from_path, write_analysis_report
from epubgen.config import CONFIG_NAME, FIELDS, BookConfig, Field, config_template, load_config
from epubgen.errors import EpubgenError, InputError
from epubgen.names import printable, shown_name
from epubgen.read.text import UnreadableFiles

PROGRESS_THRESHOLD = 50
"""Builds of fewer chapters finish before a progress bar would be worth drawing."""

NAME_WIDTH = 24
"""The most of a series' name shown beside the library's bar, which a long name would squeeze away."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="epubgen")
def main() -> None:
    """Turn downloaded web-novel chapters into clean, valid EPUB 3 books."""


def run() -> None:
    """The epubgen program (the `epubgen` script, `python -m epubgen`): main, then the process ends
    as soon as its output is flushed, with main's exit status.

    The interpreter's own shutdown would free the build's objects and every module one by one (a
    twentieth of a second: a tenth of a rebuild) for memory the kernel takes back at once. Nothing
    is left to it: the books are written and closed, the worker processes joined, and no exit
    handler of ours is skipped.
    """
    status = 0
    try:
        main()  # click ends it with SystemExit, as sys.exit would
    except SystemExit as finished:
        status = _exit_status(finished.code)
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with the stream closed: Python has none
            continue
        try:
            stream.flush()
        except ValueError:  # closed: nothing left in it
            pass
        except OSError:  # the output is lost (its reader gone, a full disk): status 120, as Python's own shutdown says it
            status = status or 120
    os._exit(status)


def _exit_status(code: object) -> int:
    """The status sys.exit(code) ends a process with (a message is printed, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


_SETTING_OPTIONS = {field.key.replace(".", "__"): field for field in FIELDS if field.option}
"""The book.toml settings that have a command-line option, by the name of its parameter."""


def _setting_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options of the book.toml settings that have one (config.FIELDS), in FIELDS' order, each
    helped by its setting's description."""
    for name, field in reversed(_SETTING_OPTIONS.items()):
        option = f"{field.option}/--no-{field.option[2:]}" if field.kind == "bool" else field.option
        command = click.option(option, name, help=field.help, **_option_type(field))(command)
    return command


def _option_type(field: Field) -> dict[str, Any]:
    """What an option of field takes: a value of its kind, or each of its choices; checked again by load_config."""
    if field.kind == "bool":
        return {"default": None}
    if field.kind == "list":
        return {} if field.separator else {"multiple": True}
    if field.kind == "count":
        return {"type": click.IntRange(min=field.least)}
    if field.kind == "path":
        return {"type": click.Path(resolve_path=True)}
    return {"type": click.Choice(field.choices)} if field.choices else {}


def _overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """The setting options' values by book.toml key, a list option's split at its separator."""
    overrides = {}
    for name, value in settings.items():
        field = _SETTING_OPTIONS[name]
        overrides[field.key] = value.split(field.separator) if field.separator and value is not None else value
    return overrides


_cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to keep build state. Default: the user's cache folder, or $EPUBGEN_CACHE_DIR.",
)


@main.command("build")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="The EPUB to write, or a folder for one EPUB per volume. Default: output/.",
)
@click.option("--config", "config_path", type=click.Path(path_type=Path), help=f"Settings file. Default: INPUT/{CONFIG_NAME}.")
@_setting_options
@click.option(
    "--report",
    type=click.Path(path_type=Path),
    help="Also write what was removed and why: an HTML page, or JSON if PATH ends in .json.",
)
@click.option("--force", is_flag=True, help="Rebuild every EPUB from the chapter files, even those unchanged since the last build.")
@_cache_dir_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary; errors and warnings only.")
@click.option("-v", "--verbose", is_flag=True, help="Also say which encoding each file was read in.")
def build_command(
    input_path: Path,
    output: Path | None,
    config_path: Path | None,
    report: Path | None,
    force: bool,
    cache_dir: Path | None,
    quiet: bool,
    verbose: bool,
    **settings: Any,
) -> None:
    """Build an EPUB from INPUT: a folder of chapter files (.txt, .html), one .txt file, or an EPUB."""
    with _user_errors():
        if is_library(input_path):
            raise InputError(f"{input_path}: a folder of series folders; build them all with: epubgen build-all {input_path}")
        config = load_config(input_path, config_path, _overrides(settings))
        with _chapter_bar(quiet) as progress:
            result = build(input_path, config, output, progress, report, force, cache_dir)
    if verbose:
        for notice in result.notices:
            _say(notice)
    for warning in result.book.warnings:
        _say(f"warning: {warning}")
    if not quiet:
        chapters = len(result.book.chapters)
        summary = f"{chapters} chapter{'s' * (chapters != 1)}, {_size(result.size)}"
        for path in result.removed:
            click.echo(f"Removed {shown_name(str(path))} (replaced by this build)")
        if len(result.paths) == 1:
            click.echo(f"{_done(result, result.path)} {shown_name(str(result.path))} ({summary})")
        else:
            for path in result.paths:
                click.echo(f"{_done(result, path)} {shown_name(str(path))}")
            click.echo(f"{len(result.paths)} volumes ({summary})")


@main.command("build-all")
@click.argument("library", metavar="LIBRARY", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The folder for every series' EPUBs. Default: output/.")
@click.option("--force", is_flag=True, help="Rebuild every EPUB from the chapter files, even those unchanged since the last build.")
@_cache_dir_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bars and no summary table; errors and warnings only.")
def build_all_command(library: Path, output: Path | None, force: bool, cache_dir: Path | None, quiet: bool) -> None:
    """Build every series in LIBRARY: each subfolder of chapter files, with its own book.toml."""
    output = output or OUTPUT_FOLDER
    with _user_errors(), _library_bars(quiet) as start:
        results = build_all(library, output, force, start, cache_dir)
    for result in results:
        for warning in result.warnings:
            _say(f"warning: {result.name}: {warning}")
        if result.error:
            _say(f"error: {result.name}: {result.error}")
    if not quiet:
        for line in _summary_table(results, output):
            click.echo(line)
    if any(result.error for result in results):
        sys.exit(1)


@main.command("inspect")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path), help=f"Settings file. Default: INPUT/{CONFIG_NAME}.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), help="Write the report as an HTML page showing each removal in context.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the report as JSON, for scripts.")
def inspect_command(input_path: Path, config_path: Path | None, html_path: Path | None, json_path: Path | None) -> None:
    """Show what cleaning would remove from INPUT, rule by rule, without building a book."""
    with _user_errors():
        analysis = analyse(input_path, load_config(input_path, config_path))
        for path in (html_path, json_path):
            if path is not None:
                write_analysis_report(analysis, path)
    book = analysis.book
    totals = Counter(removal.rule for removal in book.removals)
    click.echo(f"{printable(book.metadata.title)}: {len(book.chapters)} chapters, {len(book.removals)} removals")
    for rule, count in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        click.echo(f"{count:8d}  {rule}")
    for warning in book.warnings:
        _say(f"warning: {warning}")


@main.command("init")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help=f"Overwrite an existing {CONFIG_NAME}.")
def init_command(input_path: Path, force: bool) -> None:
    """Write a commented book.toml into the chapter folder INPUT, to fill in."""
    path = input_path / CONFIG_NAME
    if path.exists() and not force:
        _fail(f"{path} already exists; edit it, or use --force to replace it")
    try:
        path.write_text(config_template(_detected_title(input_path)), encoding="utf-8")
    except OSError as error:
        _fail(f"{path}: cannot write it ({error.strerror})")
    click.echo(f"Wrote {path}: fill it in, then run: epubgen build {input_path}")


def _detected_title(folder: Path) -> str:
    """The title a build without book.toml finds in folder's chapters: '' when it would fall back
    on the folder's name, or when the chapters cannot be read (a setting may be what they need)."""
    try:
        title = make_book(folder, BookConfig()).metadata.title
    except EpubgenError as error:
        _say(f"warning: no title detected: {error}")
        return ""
    return "" if title == title_from_path(folder) else title


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except UnreadableFiles as error:
        _fail(*map(str, error.errors))
    except EpubgenError as error:
        _fail(str(error))


class _Bar(tqdm):
    """A bar on stderr, redrawn to the terminal's width, that starts no monitor thread: with
    another thread running, builds would not fork their workers."""

    monitor_interval = 0

    def __init__(self, total: int, label: str, unit: str, position: int, leave: bool) -> None:
        super().__init__(total=total, desc=label, unit=unit, position=position, leave=leave, file=sys.stderr, dynamic_ncols=True)


class _ChapterBar:
    """A bar of a build's chapters on stderr, drawn from the first progress report of a build of
    PROGRESS_THRESHOLD chapters or more."""

    def __init__(self, position: int, leave: bool) -> None:
        self.position, self.leave = position, leave
        self.bar: _Bar | None = None

    def advance(self, done: int, total: int) -> None:
        """A build's progress(done, total): done counts every chapter so far, reported in bursts."""
        if self.bar is None:
            if total < PROGRESS_THRESHOLD:
                return
            self.bar = _Bar(total, "Chapters", " chapters", self.position, self.leave)
        self.bar.update(done - self.bar.n)

    def complete(self) -> None:
        """The build succeeded: every chapter is done, the unreadable ones skipped too."""
        if self.bar is not None:
            self.bar.update(self.bar.total - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@contextmanager
def _chapter_bar(quiet: bool) -> Iterator[Progress | None]:
    """A build's progress: a bar on a terminal, left full above the summary when the build succeeds; elsewhere nothing."""
    if quiet or not _on_terminal():
        yield None
        return
    bar = _ChapterBar(position=0, leave=True)
    try:
        yield bar.advance
        bar.complete()
    finally:
        bar.close()


def _on_terminal() -> bool:
    return sys.stderr is not None and sys.stderr.isatty()


def _fail(*messages: str) -> None:
    """Each message as an error line of its own (one per file that cannot be read, say)."""
    for message in messages:
        _say(f"error: {message}")
    sys.exit(1)


def _say(message: str) -> None:
    """A message on stderr, on one line whatever the file names in it hold."""
    click.echo(printable(message), err=True)


def _size(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def _done(result: BuildResult, path: Path) -> str:
    return "Unchanged" if path in result.unchanged else "Wrote"


def _summary_table(results: Sequence[SeriesResult], output: Path) -> list[str]:
    """One row per series (volumes, chapters, warnings, errors), then the totals."""
    width = max(len("series"), *(len(result.name) for result in results))
    rows = [f"{'series':<{width}}  volumes  chapters  warnings  errors"]
    rows += [
        f"{result.name:<{width}}  {result.volumes:>7}  {result.chapters:>8}  {len(result.warnings):>8}  {int(bool(result.error)):>6}"
        for result in results
    ]
    built = [result.build for result in results if result.build is not None]
    epubs = sum(len(build.paths) for build in built)
    unchanged = sum(len(build.unchanged) for build in built)
    written = epubs - unchanged
    rows.append(f"{len(built)} of {len(results)} series built into {output}: {written} EPUB{'s' * (written != 1)} written, {unchanged} unchanged")
    return rows


@contextmanager
def _library_bars(quiet: bool) -> Iterator[SeriesStart | None]:
    """Progress of a library build on stderr: on a terminal, two bars (the library's series, the
    current series' chapters), the library's left full once every series is built; elsewhere, one
    line per series."""
    if quiet:
        yield None
        return
    if not _on_terminal():
        yield _series_lines
        return
    bars = _LibraryBars()
    try:
        yield bars.start
        bars.complete()
    finally:
        bars.close()


def _series_lines(done: int, total: int, name: str) -> None:
    click.echo(f"[{done + 1}/{total}] {name}", err=True)


class _LibraryBars:
    """The library's bar, the series being built named beside it, above that series' chapter bar
    (cleared when the series is done)."""

    def __init__(self) -> None:
        self.library: _Bar | None = None
        self.chapters = _ChapterBar(position=1, leave=False)

    def start(self, done: int, total: int, name: str) -> Progress:
        """A new series: the library bar advanced, the last series' chapter bar cleared."""
        if self.library is None:
            self.library = _Bar(total, "Library", " series", position=0, leave=True)
        self.chapters.close()
        self.chapters = _ChapterBar(position=1, leave=False)
        self.library.set_postfix_str(name[:NAME_WIDTH], refresh=False)
        self.library.update(done - self.library.n)
        self.library.refresh()
        return self.chapters.advance

    def complete(self) -> None:
        """Every series built: a full library bar, no series named beside it."""
        if self.library is not None:
            self.library.set_postfix_str("", refresh=False)
            self.library.update(self.library.total - self.library.n)

    def close(self) -> None:
        self.chapters.close()
        if self.library is not None:
            self.library.close()
