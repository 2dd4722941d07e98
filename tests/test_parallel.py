"""A long series is built over several processes (epubgen.parallel): the result must be the
same, byte for byte, as building it in one."""

from __future__ import annotations

import gc
import os
import pickle
import re
import signal
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import write_chapters
from epubgen import parallel
from epubgen.builder import analyse, build
from epubgen.config import BookConfig, NotesConfig, VolumesConfig
from epubgen.model import Heading, Line, Note, NoteRef, Paragraph, Picture, Removal, SceneBreak, TextLine

CHAPTER_COUNT = 240
"""Above parallel.MIN_ITEMS: long enough to be shared out."""


def _series(folder: Path) -> Path:
    """A long series with something for every stage: site junk, watermarks, notes, quotes, scene breaks."""
    chapters = {}
    for number in range(1, CHAPTER_COUNT + 1):
        note = f" (TL: a note on {number})" if number % 3 == 0 else ""
        footnote = "\n\nShe bowed[1] deeply.\n\nTL Notes:\n\n[1] A bow of respect." if number % 7 == 0 else ""
        chapters[f"{number:04d}.txt"] = (
            "The Endless Ledger\n\n"
            f"Chapter {number}: Day {number}\n\n"
            f'"It\'s late," said Zhōu Wěi{note}. "We ride at {number}--no later..."\n\n'
            "Read latest chapters at n/o/v/e/l/b/i/n\n\n"
            "* * *\n\n"
            f"The ledger held {number * 7} entries, and 'every one' of them was wrong.{footnote}\n\n"
            "Previous Chapter | Table of Contents | Next Chapter\n"
        )
    return write_chapters(folder, chapters)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the worker processes of each team that really forked them."""
    made: list[int] = []
    original = parallel.Team.__enter__

    def counted(team):  # type: ignore[no-untyped-def]
        entered = original(team)
        if team._children:
            made.append(len(team._children))
        return entered

    monkeypatch.setattr(parallel.Team, "__enter__", counted)
    return made


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="work is shared out among processes on Linux only")
@pytest.mark.parametrize(
    "config",
    [
        BookConfig(title="The Endless Ledger"),
        BookConfig(title="The Endless Ledger", notes=NotesConfig(mode="endnote")),
        BookConfig(title="The Endless Ledger", volumes=VolumesConfig(per_volume=100)),
    ],
    ids=["footnotes", "endnotes", "volumes"],
)
def test_a_long_series_built_over_processes_is_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: list[int], config: BookConfig
) -> None:
    folder = _series(tmp_path / "series")
    books = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv("EPUBGEN_JOBS", jobs)
        output = tmp_path / f"jobs-{jobs}"
        result = build(folder, config, output if config.volumes.per_volume else output / "book.epub")
        books[jobs] = [(path.name, path.read_bytes()) for path in result.paths]
        books[jobs].append(("analysis", re.sub(r"mtime=\d+", "", repr(analyse(folder, config).book)).encode()))
    assert calls and all(count == 2 for count in calls)  # every build and analysis went parallel
    assert books["1"] == books["2"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="work is shared out among processes on Linux only")
def test_a_rebuild_over_processes_that_remembers_its_chapters_writes_the_bytes_of_a_build_from_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: list[int]
) -> None:
    monkeypatch.setenv("EPUBGEN_JOBS", "2")
    config = BookConfig(title="The Endless Ledger", volumes=VolumesConfig(per_volume=100))
    folder = _series(tmp_path / "series")
    build(folder, config, tmp_path / "remembering")
    write_chapters(folder, {"0241.txt": "Chapter 241: Day 241\n\nThe last entry.\n", "0120.txt": "Chapter 120: Day 120\n\nRewritten.\n"})
    rebuilt = build(folder, config, tmp_path / "remembering")
    from_scratch = build(folder, config, tmp_path / "scratch")
    assert calls == [2, 2, 2]
    assert [path.name for path in rebuilt.unchanged] == ["The Endless Ledger Vol 01 (Ch 1-100).epub"]
    assert [(path.name, path.read_bytes()) for path in rebuilt.paths] == [(path.name, path.read_bytes()) for path in from_scratch.paths]


def _pid_and_squares(state: dict, start: int, stop: int, tick) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    state[start] = state.get(start, 0) + 1
    return os.getpid(), [index * index for index in range(start, stop)]


def _rounds_seen(state: dict, start: int, stop: int, tick) -> int:  # type: ignore[no-untyped-def]
    return state[start]


def _fail_after_the_first_chunk(state: dict, start: int, stop: int, tick) -> list[int]:  # type: ignore[no-untyped-def]
    """Chunk 1 fails last (after a pause), every chunk after it fails at once."""
    import time

    if start == 0:
        return list(range(start, stop))
    if start == parallel.chunks(400, 2)[1][0]:
        time.sleep(0.3)
    raise ValueError(f"chunk {start}-{stop} failed")


def _ticking(state: dict, start: int, stop: int, tick) -> int:  # type: ignore[no-untyped-def]
    for _ in range(start, stop):
        tick()
    return stop - start


def _slow_where_the_first_chunk_went(state: dict, start: int, stop: int, tick) -> int:  # type: ignore[no-untyped-def]
    """A round in which the worker that claimed the first chunk is 25 times slower than the others."""
    import time

    if state.setdefault("slow", start == 0):
        time.sleep(0.005 * (stop - start))
    else:
        time.sleep(0.0002 * (stop - start))
    return os.getpid()


def test_a_team_returns_the_chunks_in_order_and_each_stays_where_it_was_claimed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPUBGEN_JOBS", "3")
    count = parallel.MIN_ITEMS * 2
    with parallel.Team(count) as team:
        parts = team.run(_pid_and_squares)
        again = team.run(_pid_and_squares)
        seen = team.run(_rounds_seen)
    assert [square for _, part in parts for square in part] == [index * index for index in range(count)]
    assert [pid for pid, _ in again] == [pid for pid, _ in parts]  # each chunk's state is where it was claimed
    assert seen == [2] * len(parts)
    if sys.platform.startswith("linux"):
        assert len(parts) == len(team.chunks) > 3
        assert len({pid for pid, _ in parts}) <= 3 and os.getpid() not in {pid for pid, _ in parts}  # a worker may claim them all


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="work is shared out among processes on Linux only")
def test_a_slower_worker_claims_less_of_the_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a busy or slower CPU a worker does fewer chunks: the round does not wait for it to do half."""
    monkeypatch.setenv("EPUBGEN_JOBS", "2")
    count = parallel.MIN_ITEMS * 2
    with parallel.Team(count) as team:
        pids = team.run(_slow_where_the_first_chunk_went)
    items = {pid: 0 for pid in pids}
    for pid, (start, stop) in zip(pids, team.chunks):
        items[pid] += stop - start
    slow = pids[0]
    assert len(items) == 2 and items[slow] < count / 3 < 2 * count / 3 < sum(items.values()) - items[slow]


def test_there_are_never_more_chunks_than_a_pipe_holds_tokens_for() -> None:
    """Their claim tokens are written into a pipe before any worker reads: they must fit in its buffer."""
    for count, processes in ((400_000, 512), (400_000, 2), (10**6, 4096)):
        assert len(parallel.chunks(count, processes)) <= parallel.MAX_CHUNKS + 1
    two_cpus = parallel.chunks(400_000, 2)  # there the bound never bites: the smallest chunk is 1/64 of a process's share
    assert min(stop - start for start, stop in two_cpus[:-1]) == 400_000 * parallel.SMALLEST_CHUNK / 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="work is shared out among processes on Linux only")
def test_progress_counts_every_item_once_across_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPUBGEN_JOBS", "2")
    done: list[int] = []
    with parallel.Team(400) as team:
        assert sum(team.run(_ticking, progress=done.append)) == 400
    assert done == sorted(done) and done[-1] == 400


def test_chunks_cover_every_item_in_order_and_shrink_towards_the_end() -> None:
    count = 3000
    made = parallel.chunks(count, 2)
    assert [index for start, stop in made for index in range(start, stop)] == list(range(count))
    sizes = [stop - start for start, stop in made]
    assert sizes[0] == count // 4  # a fourth of the work left: half a process's share
    assert sizes == sorted(sizes, reverse=True)
    assert max(sizes[-3:]) <= count * parallel.SMALLEST_CHUNK / 2 + 1
    assert parallel.chunks(count, 2) == made  # the same every time: results never depend on who claimed what
    assert parallel.chunks(1, 2) == [(0, 1)] and parallel.chunks(0, 2) == []


def test_weighted_chunks_share_out_the_heavy_items_and_still_cover_every_item_in_order() -> None:
    """A rebuild's new chapters, all at the end, weigh more than the remembered ones before them:
    they are spread over many small chunks, for both workers to claim."""
    count = parallel.MIN_ITEMS * 10
    weights = [0.02] * (count - 40) + [1.0] * 40
    made = parallel.chunks(count, 2, weights)
    assert [index for start, stop in made for index in range(start, stop)] == list(range(count))
    heavy = [(start, stop) for start, stop in made if stop > count - 40]
    assert len(heavy) >= 10 and all(sum(weights[start:stop]) <= 0.3 * 40 for start, stop in heavy)


def test_a_short_job_runs_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPUBGEN_JOBS", "2")
    with parallel.Team(parallel.MIN_ITEMS - 1) as team:
        assert team.run(_pid_and_squares) == [(os.getpid(), [index * index for index in range(parallel.MIN_ITEMS - 1)])]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="work is shared out among processes on Linux only")
def test_an_error_in_a_child_process_is_raised_in_the_caller_the_first_chunks_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk 1's error arrives last, after those of later chunks: it is still the one raised."""
    monkeypatch.setenv("EPUBGEN_JOBS", "2")
    with parallel.Team(400) as team, pytest.raises(ValueError, match=f"chunk {team.chunks[1][0]}-{team.chunks[1][1]} failed"):
        team.run(_fail_after_the_first_chunk)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="work is shared out among processes on Linux only")
def test_a_round_after_a_failed_first_round_fails_too_instead_of_leaving_chunks_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every worker stopped claiming at its first error: the chunks left unclaimed are nobody's."""
    monkeypatch.setenv("EPUBGEN_JOBS", "2")
    with parallel.Team(400) as team:
        with pytest.raises(ValueError):
            team.run(_fail_after_the_first_chunk)
        with pytest.raises(RuntimeError, match="chunks undone"):
            team.run(_pid_and_squares)


def _an_unpicklable_result(state: dict, start: int, stop: int, tick):  # type: ignore[no-untyped-def]
    return lambda: start


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="work is shared out among processes on Linux only")
def test_a_result_that_cannot_be_sent_back_is_an_error_that_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPUBGEN_JOBS", "2")
    with parallel.Team(400) as team, pytest.raises(Exception, match="pickle") as raised:
        team.run(_an_unpicklable_result)
    assert "stopped unexpectedly" not in str(raised.value)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_rounds_started_ahead_are_waited_for_in_the_order_they_were_started(monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    """With workers or without, a round's results are its own: waiting out of turn is an error, not a mix-up."""
    monkeypatch.setenv("EPUBGEN_JOBS", jobs)
    with parallel.Team(400) as team:
        first = team.start(_pid_and_squares)
        second = team.start(_rounds_seen)
        with pytest.raises(RuntimeError, match="order they were started"):
            second()
        assert [square for _, part in first() for square in part] == [index * index for index in range(400)]
        assert second() == [1] * len(team.chunks)  # run after the first round, on each chunk


@pytest.mark.parametrize(
    "value",
    [
        Line(3, "text"),
        Removal("0001.txt", 4, "junk", "rule:id"),
        Note("TL", "a note", "endnote"),
        NoteRef(2),
        Heading("chapter", Decimal("7.5"), "The Gate", 2, 1),
        Paragraph(("words ", NoteRef(0), " more")),
        SceneBreak(),
        Picture(1),
        TextLine(2, ("a", NoteRef(1))),
    ],
)
def test_the_data_that_crosses_between_processes_comes_back_equal(value: object) -> None:
    assert pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)) == value


def _a_big_result(state: dict, start: int, stop: int, tick) -> bytes:  # type: ignore[no-untyped-def]
    import time

    time.sleep(0.3)
    return bytes(8 * 1024 * 1024)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="work is shared out among processes on Linux only")
def test_the_workers_end_when_the_calling_process_is_killed(tmp_path: Path) -> None:
    """kill -9 of a build leaves no worker behind, even one busy sending a result nobody reads."""
    import subprocess
    import time

    pids = tmp_path / "workers"
    killed = (
        "import os, signal, sys\n"
        "os.environ['EPUBGEN_JOBS'] = '2'\n"
        "from pathlib import Path\n"
        "from epubgen import parallel\n"
        "from test_parallel import _a_big_result\n"
        "team = parallel.Team(400).__enter__()\n"
        "Path(sys.argv[1]).write_text(' '.join(str(child.pid) for child, _ in team._children))\n"
        "team.start(_a_big_result)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    # No pipes to the child: a worker left behind would hold them open, and this test would wait for ever.
    process = subprocess.run(
        [sys.executable, "-c", killed, str(pids)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=Path(__file__).parent
    )
    assert process.returncode == -9
    workers = [int(pid) for pid in pids.read_text().split()]
    assert len(workers) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(pid) for pid in workers):
        time.sleep(0.1)
    left_behind = [pid for pid in workers if _running(pid)]
    for pid in left_behind:
        os.kill(pid, signal.SIGKILL)
    assert left_behind == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="work is shared out among processes on Linux only")
def test_a_caller_that_stops_mid_round_leaves_its_workers_quiet(tmp_path: Path) -> None:
    """A build that stops with an error while its workers still send (their results unread) shows
    that error alone: a worker whose pipe is closed ends without a traceback of its own."""
    import subprocess

    stopped = (
        "import os\n"
        "os.environ['EPUBGEN_JOBS'] = '2'\n"
        "from epubgen import parallel\n"
        "from test_parallel import _a_big_result\n"
        "with parallel.Team(400) as team:\n"
        "    team.start(_a_big_result)\n"
        "print('stopped')\n"
    )
    process = subprocess.run([sys.executable, "-c", stopped], capture_output=True, text=True, cwd=Path(__file__).parent, timeout=60)
    assert process.returncode == 0 and process.stdout == "stopped\n"
    assert process.stderr == ""


def _running(pid: int) -> bool:
    """Whether the process is alive and not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_pause_inside_a_pause_leaves_the_collector_off() -> None:
    with parallel.paused_gc():
        with parallel.paused_gc():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
