"""Benchmark `epubgen build` against the plain-Python floor and a minimal ebooklib script (issue 7).

    python benchmarks/run.py [--runs 3] [--sizes 300 3000] [--cache DIR] [--profile] [--pages N]

Generates the synthetic series (benchmarks/generate.py) once per size into a cache folder,
runs an untimed warm-up round on the smallest size, then times the three tools as child
processes, alternating them (floor, ebooklib, epubgen, floor, ...) so that a slow moment of
the machine hits all three alike. Wall time is measured around each child; its peak RSS comes
from os.wait4(). Prints a Markdown table of medians, the scaling from the smallest to the
largest size, and the goals of issue 7.

With --profile, runs epubgen once under cProfile on the largest series instead, and prints
the top functions by cumulative time. With --pages N, also times epubgen on the first N chapters
saved as web pages (.html: the reader's other input), and nothing else needs that.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generate import chapter_file_name, chapter_text, generate, generate_pages

HERE = Path(__file__).resolve().parent
ENV = {**{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}, "SOURCE_DATE_EPOCH": "1700000000"}
"""The children's environment: reproducible dates, and bytecode cached as on a user's machine (the
warm-up round compiles it; a sandbox that sets PYTHONDONTWRITEBYTECODE would otherwise make every
run compile epubgen's modules again, 0.13 s of start-up here)."""
MB = 1024 * 1024
PROFILE_TOP = 25

GOAL_TIMES_FLOOR = 2.0
GOAL_PEAK_RSS = 200 * MB
GOAL_SCALING_SLACK = 1.1
"""Time may grow at most 10% faster than the chapter count: 3,000 chapters in at most 11x the time of 300."""
GOAL_INCREMENTAL = 0.2
"""A rebuild after new chapters takes at most a fifth of a full build."""
NEW_CHAPTERS = 40
PER_VOLUME = 100

Command = Callable[[Path, Path], list[str]]


def _script(name: str) -> Command:
    return lambda series, output: [sys.executable, str(HERE / name), str(series), str(output)]


def _epubgen(series: Path, output: Path) -> list[str]:
    """epubgen with its build state in the output's folder, which measure() empties for every run."""
    return [sys.executable, "-m", "epubgen", "build", str(series), "-o", str(output), "-q", "--cache-dir", str(output.parent / ".state")]


TOOLS: dict[str, Command] = {
    "floor": _script("floor.py"),
    "ebooklib": _script("minimal_ebooklib.py"),
    "epubgen": _epubgen,
}


@dataclass(frozen=True)
class Run:
    wall: float
    """Seconds, interpreter start-up included: what the user waits."""
    peak_rss: int
    """Bytes."""


@dataclass(frozen=True)
class Result:
    tool: str
    chapters: int
    input_bytes: int
    runs: tuple[Run, ...]

    @property
    def wall(self) -> float:
        return statistics.median(run.wall for run in self.runs)

    @property
    def peak_rss(self) -> float:
        return statistics.median(run.peak_rss for run in self.runs)


def series(size: int, cache: Path, pages: bool = False) -> Path:
    """The folder of the size-chapter series (as saved pages, with pages), generated unless the
    cache holds it.

    The folder name carries a hash of generate.py, so a changed generator never reuses old text.
    """
    fingerprint = hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:12]
    folder = cache / f"endless-ledger-{size}{'-pages' if pages else ''}-{fingerprint}"
    if not folder.is_dir():
        print(f"generating {size} {'pages' if pages else 'chapters'} into {folder}", file=sys.stderr)
        partial = cache / f"{folder.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        (generate_pages if pages else generate)(size, partial)
        partial.rename(folder)
    return folder


def input_size(folder: Path) -> int:
    return sum(file.stat().st_size for file in folder.iterdir() if file.suffix in (".txt", ".html"))


def measure(command: list[str], output: Path, env: dict[str, str] = ENV) -> Run:
    """Run command as a child process (_timed), writing output; stop the benchmark if it wrote nothing.

    The output's folder starts empty and is removed afterwards: no run finds what another left
    (epubgen's incremental cache and chapter memory would make every run after the first a rebuild).
    """
    shutil.rmtree(output.parent, ignore_errors=True)
    output.parent.mkdir(parents=True)
    run = _timed(command, env)
    if not output.is_file():
        sys.exit(f"failed (no {output.name} written): {' '.join(command)}")
    shutil.rmtree(output.parent)
    return run


def _timed(command: list[str], env: dict[str, str] = ENV) -> Run:
    """Run command as a child process and time it; stop the benchmark with its error output if it fails.

    Peak RSS is the largest of the child and of the processes it waited for (epubgen's forked
    workers, each counting the pages it shares with its parent), not their sum.
    """
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            sys.exit(f"failed (exit {os.waitstatus_to_exitcode(status)}): {' '.join(command)}\n{errors.read().decode(errors='replace')}")
    return Run(wall=wall, peak_rss=usage.ru_maxrss * 1024)  # ru_maxrss is in KiB on Linux


def benchmark(folders: dict[int, Path], runs: int, workdir: Path) -> list[Result]:
    """Time every tool on every series, alternating the tools within each round.

    An untimed warm-up round on the smallest series first, so that no timed run pays for
    compiling bytecode or reading the files from disk.
    """
    output = workdir / "build" / "book.epub"
    smallest = folders[min(folders)]
    for command in TOOLS.values():
        measure(command(smallest, output), output)
    results = []
    for size, folder in folders.items():
        timings: dict[str, list[Run]] = {tool: [] for tool in TOOLS}
        for round_number in range(1, runs + 1):
            print(f"N={size}: round {round_number}/{runs}", file=sys.stderr)
            for tool, command in TOOLS.items():
                timings[tool].append(measure(command(folder, output), output))
        results += [Result(tool, size, input_size(folder), tuple(timings[tool])) for tool in TOOLS]
    return results


@dataclass(frozen=True)
class Incremental:
    chapters: int
    full: tuple[Run, ...]
    rebuild: tuple[Run, ...]

    @property
    def ratio(self) -> float:
        return statistics.median(run.wall for run in self.rebuild) / statistics.median(run.wall for run in self.full)


def incremental(folder: Path, runs: int, workdir: Path) -> Incremental:
    """Time epubgen on the series split into volumes of PER_VOLUME chapters: a full build into an
    empty folder, and the rebuild after NEW_CHAPTERS more chapters are downloaded (alternately).

    Each round starts from the series as generated (the chapter files hard-linked, not copied)
    and an empty output folder.
    """
    series_copy, output, state = workdir / "series", workdir / "volumes", workdir / "volumes-state"
    shutil.rmtree(series_copy, ignore_errors=True)
    series_copy.mkdir()
    for file in folder.iterdir():
        os.link(file, series_copy / file.name)
    count = len(list(folder.glob("*.txt")))
    command = [
        *(sys.executable, "-m", "epubgen", "build", str(series_copy), "-o", str(output), "-q"),
        *("--chapters-per-volume", str(PER_VOLUME), "--cache-dir", str(state)),
    ]
    full, rebuild = [], []
    for round_number in range(1, runs + 1):
        print(f"incremental, N={count}+{NEW_CHAPTERS}: round {round_number}/{runs}", file=sys.stderr)
        shutil.rmtree(output, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        new_chapters = {series_copy / chapter_file_name(number, count): number for number in range(count + 1, count + NEW_CHAPTERS + 1)}
        for path in new_chapters:
            path.unlink(missing_ok=True)
        full.append(_timed(command))
        for path, number in new_chapters.items():
            path.write_text(chapter_text(number), encoding="utf-8", newline="\n")
        rebuild.append(_timed(command))
    return Incremental(count, tuple(full), tuple(rebuild))


def saved_pages(folder: Path, runs: int, workdir: Path) -> Result:
    """Time epubgen on a series of saved pages (after an untimed warm-up build)."""
    output = workdir / "pages" / "book.epub"
    measure(_epubgen(folder, output), output)
    count = len(list(folder.glob("*.html")))
    timed = []
    for round_number in range(1, runs + 1):
        print(f"saved pages, N={count}: round {round_number}/{runs}", file=sys.stderr)
        timed.append(measure(_epubgen(folder, output), output))
    return Result("epubgen", count, input_size(folder), tuple(timed))


def saved_pages_table(result: Result) -> str:
    walls = [run.wall for run in result.runs]
    return "\n".join(
        [
            "| epubgen, saved pages | wall (median, min–max) | pages/s | MB/s | peak RSS MB |",
            "|---|---:|---:|---:|---:|",
            f"| N={result.chapters} | {result.wall:.2f} s ({min(walls):.2f}–{max(walls):.2f}) | {result.chapters / result.wall:,.0f} "
            f"| {result.input_bytes / MB / result.wall:.1f} | {result.peak_rss / MB:.0f} |",
        ]
    )


def incremental_table(result: Incremental) -> str:
    full = statistics.median(run.wall for run in result.full)
    rebuild = statistics.median(run.wall for run in result.rebuild)
    verdict = "met" if result.ratio <= GOAL_INCREMENTAL else "NOT met"
    return "\n".join(
        [
            f"| epubgen, volumes of {PER_VOLUME} | wall (median, min–max) | peak RSS MB |",
            "|---|---:|---:|",
            f"| full build, N={result.chapters} | {full:.2f} s ({min(r.wall for r in result.full):.2f}–{max(r.wall for r in result.full):.2f}) "
            f"| {statistics.median(r.peak_rss for r in result.full) / MB:.0f} |",
            f"| rebuild after {NEW_CHAPTERS} new chapters | {rebuild:.2f} s ({min(r.wall for r in result.rebuild):.2f}–{max(r.wall for r in result.rebuild):.2f}) "
            f"| {statistics.median(r.peak_rss for r in result.rebuild) / MB:.0f} |",
            "",
            f"- rebuild ≤ {GOAL_INCREMENTAL:g} × full build: {result.ratio:.2f} — {verdict}",
        ]
    )


def results_table(results: list[Result]) -> str:
    floors = {result.chapters: result.wall for result in results if result.tool == "floor"}
    rows = [
        "| tool | N | wall (median, min–max) | chapters/s | MB/s | peak RSS MB | × floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        walls = [run.wall for run in result.runs]
        rows.append(
            f"| {result.tool} | {result.chapters} | {result.wall:.2f} s ({min(walls):.2f}–{max(walls):.2f}) "
            f"| {result.chapters / result.wall:,.0f} | {result.input_bytes / MB / result.wall:.1f} "
            f"| {result.peak_rss / MB:.0f} | {result.wall / floors[result.chapters]:.2f} |"
        )
    return "\n".join(rows)


def scaling_table(results: list[Result]) -> str:
    small, large = min(r.chapters for r in results), max(r.chapters for r in results)
    wall = {(r.tool, r.chapters): r.wall for r in results}
    rows = [
        f"| tool | wall N={small} | wall N={large} | scaling {small} → {large} (chapters ×{large / small:.3g}) |",
        "|---|---:|---:|---:|",
    ]
    for tool in TOOLS:
        small_wall, large_wall = wall[tool, small], wall[tool, large]
        rows.append(f"| {tool} | {small_wall:.2f} s | {large_wall:.2f} s | ×{large_wall / small_wall:.2f} |")
    return "\n".join(rows)


def goals(results: list[Result]) -> str:
    """Issue 7's goals for epubgen, judged on the largest series."""
    small, large = min(r.chapters for r in results), max(r.chapters for r in results)
    by_key = {(r.tool, r.chapters): r for r in results}
    epubgen = by_key["epubgen", large]
    times_floor = epubgen.wall / by_key["floor", large].wall
    scaling = epubgen.wall / by_key["epubgen", small].wall
    scaling_goal = GOAL_SCALING_SLACK * large / small
    checks = (
        (f"wall ≤ {GOAL_TIMES_FLOOR:g}× floor at N={large}", f"{times_floor:.2f}×", times_floor <= GOAL_TIMES_FLOOR),
        (f"peak RSS < {GOAL_PEAK_RSS / MB:.0f} MB at N={large}", f"{epubgen.peak_rss / MB:.0f} MB", epubgen.peak_rss < GOAL_PEAK_RSS),
        (f"scaling {small} → {large} ≤ ×{scaling_goal:.3g}", f"×{scaling:.2f}", scaling <= scaling_goal),
    )
    return "\n".join(f"- {goal}: {value} — {'met' if ok else 'NOT met'}" for goal, value, ok in checks)


def profile(folder: Path, workdir: Path) -> None:
    """Run epubgen once under cProfile and print the top functions by cumulative time.

    In one process (EPUBGEN_JOBS=1): cProfile sees nothing of the work forked processes do.
    """
    output, stats_file = workdir / "book.epub", workdir / "epubgen.prof"
    command = [sys.executable, "-m", "cProfile", "-o", str(stats_file), *_epubgen(folder, output)[1:]]
    run = measure(command, output, {**ENV, "EPUBGEN_JOBS": "1"})
    print(f"epubgen under cProfile, in one process, on {folder.name}: {run.wall:.2f} s wall, peak RSS {run.peak_rss / MB:.0f} MB\n")
    pstats.Stats(str(stats_file)).sort_stats("cumulative").print_stats(PROFILE_TOP)


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each tool on each size (default 3)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 3000], help="chapter counts (default 300 3000)")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "epubgen-benchmark", help="where generated series are kept"
    )
    parser.add_argument("--profile", action="store_true", help="profile epubgen on the largest size instead of timing")
    parser.add_argument("--no-incremental", action="store_true", help="skip the incremental rebuild measurement")
    parser.add_argument("--pages", type=int, default=0, metavar="N", help="also time epubgen on N chapters saved as web pages")
    arguments = parser.parse_args(argv)
    if arguments.runs < 1 or min(arguments.sizes) < 1 or arguments.pages < 0:
        parser.error("--runs and --sizes must be positive, --pages at least 0")
    return arguments


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    arguments.cache.mkdir(parents=True, exist_ok=True)
    sizes = sorted(set(arguments.sizes))
    if arguments.profile:
        with tempfile.TemporaryDirectory(prefix="epubgen-benchmark-") as workdir:
            profile(series(sizes[-1], arguments.cache), Path(workdir))
        return 0
    folders = {size: series(size, arguments.cache) for size in sizes}
    with tempfile.TemporaryDirectory(prefix="epubgen-benchmark-") as workdir:
        results = benchmark(folders, arguments.runs, Path(workdir))
        rebuilt = None if arguments.no_incremental else incremental(folders[sizes[-1]], arguments.runs, Path(workdir))
        pages = saved_pages(series(arguments.pages, arguments.cache, pages=True), arguments.runs, Path(workdir)) if arguments.pages else None
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {arguments.runs} runs each, medians; MB = 2^20 bytes\n")
    for size, folder in folders.items():
        print(f"- N={size}: {input_size(folder) / MB:.1f} MB of text in {folder}")
    print()
    print(results_table(results))
    if len(sizes) > 1:
        print()
        print(scaling_table(results))
        print()
        print(goals(results))
    if rebuilt is not None:
        print()
        print(incremental_table(rebuilt))
    if pages is not None:
        print()
        print(saved_pages_table(pages))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
