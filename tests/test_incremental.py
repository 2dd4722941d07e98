"""Incremental builds: a rebuild writes only the EPUBs whose book changed; the others are not touched."""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import pickle
import time
import zipfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import OpenedEpub, write_chapters
from epubgen.builder import build
from epubgen.cli import main
from epubgen.config import BookConfig, CleanConfig, VolumesConfig
from epubgen.errors import InputError
from epubgen import incremental, memory, pipeline
from epubgen.incremental import CACHE_NAME, state_folder
from epubgen.memory import MEMORY_PREFIX
from epubgen.read import text

DOWNLOADED = 1_700_000_000
"""When the first chapters were downloaded; the new ones come a day later."""
A_DAY_LATER = DOWNLOADED + 86_400
LONG_AGO = 1_000_000_000
"""Written EPUBs are dated back to this, so that a rewrite shows in st_mtime_ns whatever the clock's granularity."""

CONFIG = BookConfig(title="The Salt Road", volumes=VolumesConfig(per_volume=10, name="{title} - Vol {volume:02d}"))
VOLUMES = ["The Salt Road - Vol 01.epub", "The Salt Road - Vol 02.epub", "The Salt Road - Vol 03.epub"]


def download(folder: Path, first: int, last: int, when: int) -> Path:
    """Chapters first..last, as a downloader saves them at time `when`."""
    chapters = {f"{n:04d}.txt": f"Chapter {n}: Mile {n}\n\nThe caravan passed marker {n} at dusk.\n" for n in range(first, last + 1)}
    write_chapters(folder, chapters)
    for name in chapters:
        os.utime(folder / name, (when, when))
    return folder


def snapshot(paths: tuple[Path, ...]) -> dict[str, tuple[int, int, bytes]]:
    """Each EPUB's modification time (ns), inode and bytes: a rewrite changes the first two."""
    return {path.name: (path.stat().st_mtime_ns, path.stat().st_ino, path.read_bytes()) for path in paths}


def built_long_ago(series: Path, out: Path, config: BookConfig = CONFIG) -> dict[str, tuple[int, int, bytes]]:
    paths = build(series, config, out).paths
    for path in paths:
        os.utime(path, (LONG_AGO, LONG_AGO))
    return snapshot(paths)


@pytest.fixture
def series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """25 chapters: volumes of 10, 10 and 5. Dated by the files, as a user's builds are."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    return download(tmp_path / "salt-road", 1, 25, DOWNLOADED)


def test_new_chapters_rewrite_only_the_volume_they_join(series: Path, tmp_path: Path) -> None:
    before = built_long_ago(series, tmp_path / "out")
    assert list(before) == VOLUMES

    download(series, 26, 30, A_DAY_LATER)
    result = build(series, CONFIG, tmp_path / "out")
    after = snapshot(result.paths)

    assert [path.name for path in result.unchanged] == VOLUMES[:2]
    assert after[VOLUMES[0]] == before[VOLUMES[0]] and after[VOLUMES[1]] == before[VOLUMES[1]]
    mtime, inode, data = after[VOLUMES[2]]
    assert mtime != before[VOLUMES[2]][0] and data != before[VOLUMES[2]][2]
    assert len(OpenedEpub(result.paths[2]).chapter_files()) == 10


def test_each_volume_is_dated_by_its_own_chapters(series: Path, tmp_path: Path) -> None:
    download(series, 26, 30, A_DAY_LATER)
    paths = build(series, CONFIG, tmp_path / "out").paths
    dates = [OpenedEpub(path).meta_property("dcterms:modified")[0] for path in paths]
    assert dates == [_iso(DOWNLOADED), _iso(DOWNLOADED), _iso(A_DAY_LATER)]


def test_a_re_downloaded_chapter_rewrites_only_its_volume(series: Path, tmp_path: Path) -> None:
    before = built_long_ago(series, tmp_path / "out")
    (series / "0015.txt").write_text("Chapter 15: Mile 15\n\nThe caravan passed marker 15 at dawn.\n", encoding="utf-8")
    after = snapshot(build(series, CONFIG, tmp_path / "out").paths)
    assert [name for name in VOLUMES if after[name] != before[name]] == [VOLUMES[1]]


def test_force_rewrites_every_volume_with_the_same_bytes(series: Path, tmp_path: Path) -> None:
    before = built_long_ago(series, tmp_path / "out")
    result = build(series, CONFIG, tmp_path / "out", force=True)
    after = snapshot(result.paths)
    assert result.unchanged == ()
    assert all(after[name][0] != before[name][0] and after[name][2] == before[name][2] for name in VOLUMES)


def test_without_the_cache_every_volume_is_rewritten_with_the_same_bytes(series: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = built_long_ago(series, out)
    (state_folder(out) / CACHE_NAME).unlink()
    deleted = snapshot(build(series, CONFIG, out).paths)
    (state_folder(out) / CACHE_NAME).write_text("{ not json", encoding="utf-8")
    garbled = snapshot(build(series, CONFIG, out).paths)
    for after in (deleted, garbled):
        assert all(after[name][0] != before[name][0] and after[name][2] == before[name][2] for name in VOLUMES)


def test_an_epub_edited_or_deleted_since_the_last_build_is_written_again(series: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = built_long_ago(series, out)
    with (out / VOLUMES[0]).open("ab") as file:
        file.write(b"!")
    (out / VOLUMES[1]).unlink()
    result = build(series, CONFIG, out)
    assert [path.name for path in result.unchanged] == [VOLUMES[2]]
    assert snapshot(result.paths)[VOLUMES[0]][2] == before[VOLUMES[0]][2]


def test_a_setting_that_changes_every_book_rewrites_every_volume(series: Path, tmp_path: Path) -> None:
    built_long_ago(series, tmp_path / "out")
    result = build(series, BookConfig(title="The Salt Road", author=("Ash Vale",), volumes=CONFIG.volumes), tmp_path / "out")
    assert result.unchanged == ()


def test_a_setting_that_changes_only_the_chapters_text_rewrites_every_volume(series: Path, tmp_path: Path) -> None:
    """The chapters' text is not part of the key, what it is made from is: the settings among it."""
    before = built_long_ago(series, tmp_path / "out")
    trimmed = build(series, replace(CONFIG, clean=CleanConfig(detect_repeated=False)), tmp_path / "out")
    assert trimmed.unchanged == ()
    assert all(snapshot(trimmed.paths)[name][2] != before[name][2] for name in VOLUMES)


def test_junk_detected_anew_is_taken_out_of_the_volumes_already_built(series: Path, tmp_path: Path) -> None:
    """A line at the foot of 9 of 25 chapters is story (under 40%); once 5 new chapters carry it
    too (14 of 30) it is junk, in the old chapters as much as in the new ones."""
    footer = "Salt Road Reader Online"
    for number in range(1, 10):
        with (series / f"{number:04d}.txt").open("a", encoding="utf-8") as file:
            file.write(f"\n{footer}\n")
        os.utime(series / f"{number:04d}.txt", (DOWNLOADED, DOWNLOADED))
    built_long_ago(series, tmp_path / "out")
    assert footer in _text_of(tmp_path / "out" / VOLUMES[0])
    download(series, 26, 30, A_DAY_LATER)
    for number in range(26, 31):
        with (series / f"{number:04d}.txt").open("a", encoding="utf-8") as file:
            file.write(f"\n{footer}\n")
    result = build(series, CONFIG, tmp_path / "out")
    assert VOLUMES[0] not in [path.name for path in result.unchanged]
    assert footer not in _text_of(tmp_path / "out" / VOLUMES[0])


def _text_of(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(name).decode() for name in archive.namelist() if name.startswith("EPUB/text/chapter-"))


def test_the_command_says_which_epubs_it_left_unchanged(series: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    book = tmp_path / "book.epub"
    args = ["build", str(series), "-o", str(book)]
    first, second, forced = (runner.invoke(main, command) for command in (args, args, args + ["--force"]))
    assert first.stdout.startswith(f"Wrote {book} (25 chapters, ")
    assert second.stdout.startswith(f"Unchanged {book} (25 chapters, ")
    assert forced.stdout.startswith(f"Wrote {book} (25 chapters, ")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["book.epub", "salt-road"]
    names = sorted(path.name for path in state_folder(tmp_path).iterdir())
    assert [name for name in names if not name.startswith(MEMORY_PREFIX)] == [CACHE_NAME]
    assert len([name for name in names if name.startswith(MEMORY_PREFIX)]) == 1


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epub_bytes(paths: tuple[Path, ...]) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in paths}


def test_a_rebuild_that_remembers_its_chapters_writes_the_bytes_a_build_from_scratch_writes(series: Path, tmp_path: Path) -> None:
    build(series, CONFIG, tmp_path / "out")
    download(series, 26, 32, A_DAY_LATER)
    (series / "0004.txt").write_text("Chapter 4: Mile 4\n\nA sandstorm hid marker 4.\n", encoding="utf-8")
    remembering = build(series, CONFIG, tmp_path / "out")
    from_scratch = build(series, CONFIG, tmp_path / "scratch")
    assert _epub_bytes(remembering.paths) == _epub_bytes(from_scratch.paths)


def test_a_rebuild_reads_only_the_new_chapters(series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chapters already in the volume they join are neither read nor made again: their
    compressed documents are taken from the volume's last EPUB."""
    build(series, CONFIG, tmp_path / "out")
    download(series, 26, 30, A_DAY_LATER)
    read = []
    decode = pipeline.chapter_from_bytes
    monkeypatch.setattr(pipeline, "chapter_from_bytes", lambda file, *rest: read.append(file.name) or decode(file, *rest))
    monkeypatch.setattr(text, "chapter_from_bytes", pipeline.chapter_from_bytes)
    result = build(series, CONFIG, tmp_path / "out")
    assert [path.name for path in result.unchanged] == VOLUMES[:2]
    assert sorted(read) == [f"{number:04d}.txt" for number in range(26, 31)]


def test_a_memory_from_other_settings_or_another_epubgen_is_not_used(series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(series, CONFIG, tmp_path / "out")
    read = []
    decode = pipeline.chapter_from_bytes
    monkeypatch.setattr(pipeline, "chapter_from_bytes", lambda file, *rest: read.append(file.name) or decode(file, *rest))
    build(series, replace(CONFIG, typography=False), tmp_path / "out")
    assert len(read) == 25
    monkeypatch.setattr(memory, "code_fingerprint", lambda: "another epubgen")
    build(series, replace(CONFIG, typography=False), tmp_path / "out")
    assert len(read) == 50


@pytest.mark.parametrize("content", [b"", b"not a pickle", pickle.dumps({"setup": "x"}), pickle.dumps(os.system)])
def test_an_unreadable_or_foreign_memory_is_no_memory(series: Path, tmp_path: Path, content: bytes) -> None:
    expected = _epub_bytes(build(series, CONFIG, tmp_path / "scratch").paths)
    out = tmp_path / "out"
    build(series, CONFIG, out)
    (memory_file,) = state_folder(out).glob(f"{memory.MEMORY_PREFIX}*")
    memory_file.write_bytes(content)
    assert _epub_bytes(build(series, CONFIG, out, force=True).paths) == expected
    assert _epub_bytes(build(series, CONFIG, out).paths) == expected


class _Touching:
    """What unpickling runs code would show: a file made."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def test_the_memory_refuses_to_make_anything_but_its_own_data(tmp_path: Path) -> None:
    """Whether in the memory itself or in a slice of chapters pickled by a worker: nothing runs."""
    remembered = memory.Memory(tmp_path / "memory", "setup")
    foreign = pickle.dumps({"0001.txt": _Touching(tmp_path / "ran")})
    with pytest.raises(pickle.UnpicklingError):
        memory._Unpickler(io.BytesIO(foreign)).load()
    for payload in (pickle.dumps({"setup": "setup", "slices": [foreign]}), pickle.dumps({"setup": "setup", "slices": _Touching(tmp_path / "ran")})):
        remembered.path.write_bytes(memory._MAGIC + hashlib.sha256(payload).digest() + payload)
        assert remembered.recall() == {}
    assert not (tmp_path / "ran").exists()


def test_a_saved_page_is_read_again_at_every_build_since_its_images_are_files_of_their_own(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    page = "<html><body><h1>Chapter {n}: Tern Point</h1><p>The map was pinned by the door.</p><img src='map.png' alt='The map'></body></html>"
    write_chapters(pages, {f"{n:04d}.html": page.format(n=n) for n in (1, 2)})
    first = build(pages, BookConfig(title="Tern Point"), tmp_path / "out")
    assert not any(name.startswith("EPUB/images/chapter-") for name in OpenedEpub(first.path).files)
    (pages / "map.png").write_bytes((Path(__file__).parent / "fixtures" / "html-images" / "map.png").read_bytes())
    second = build(pages, BookConfig(title="Tern Point"), tmp_path / "out")
    assert "EPUB/images/chapter-0001-1.png" in OpenedEpub(second.path).files


def test_a_damaged_memory_is_no_memory(series: Path, tmp_path: Path) -> None:
    expected = _epub_bytes(build(series, CONFIG, tmp_path / "scratch").paths)
    out = tmp_path / "out"
    build(series, CONFIG, out)
    (memory_file,) = state_folder(out).glob(f"{memory.MEMORY_PREFIX}*")
    data = bytearray(memory_file.read_bytes())
    data[len(data) // 2] ^= 0x20
    memory_file.write_bytes(bytes(data))
    assert memory.Memory(memory_file, "any").recall() == {}
    assert _epub_bytes(build(series, CONFIG, out, force=True).paths) == expected


def test_a_remembered_chapter_changed_while_the_build_runs_stops_it_with_a_clear_error(
    series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(series, CONFIG, tmp_path / "out")
    download(series, 26, 30, A_DAY_LATER)
    (tmp_path / "out" / VOLUMES[2]).unlink()  # so the text of its remembered chapters is needed again
    detect = pipeline.Chapters.detect_repeated

    def detect_while_a_download_rewrites_chapter_21(self, read):  # type: ignore[no-untyped-def]
        (series / "0021.txt").write_text("Chapter 21: Mile 21\n\nRewritten.\n", encoding="utf-8")
        return detect(self, read)

    monkeypatch.setattr(pipeline.Chapters, "detect_repeated", detect_while_a_download_rewrites_chapter_21)
    with pytest.raises(InputError, match=r"^0021\.txt: the file changed during the build; build again$"):
        build(series, CONFIG, tmp_path / "out")


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    decode = pipeline.chapter_from_bytes
    monkeypatch.setattr(pipeline, "chapter_from_bytes", lambda file, *rest: read.append(file.name) or decode(file, *rest))
    monkeypatch.setattr(text, "chapter_from_bytes", pipeline.chapter_from_bytes)
    return read


def test_a_one_file_book_rebuilt_after_new_chapters_takes_the_others_documents_from_its_last_epub(
    series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = replace(CONFIG, volumes=VolumesConfig())
    build(series, config, tmp_path / "out" / "book.epub")
    download(series, 26, 30, A_DAY_LATER)
    read = _counting_reads(monkeypatch)
    rebuilt = build(series, config, tmp_path / "out" / "book.epub")
    assert sorted(read) == [f"{number:04d}.txt" for number in range(26, 31)]
    assert rebuilt.path.read_bytes() == build(series, config, tmp_path / "scratch" / "book.epub").path.read_bytes()


@pytest.mark.parametrize("change", ["a chapter inserted before the others", "the EPUB edited since", "another epubgen"])
def test_documents_are_taken_from_the_last_epub_only_for_the_same_chapter_at_the_same_number_by_the_same_code(
    series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    config = replace(CONFIG, volumes=VolumesConfig())
    out = tmp_path / "out" / "book.epub"
    build(series, config, out)
    if change == "a chapter inserted before the others":
        write_chapters(series, {"0000.txt": "Prologue\n\nBefore the road.\n"})
    elif change == "the EPUB edited since":
        with zipfile.ZipFile(out, "a") as archive:
            archive.writestr("EPUB/extra.txt", "edited")
    else:
        monkeypatch.setattr(incremental, "code_fingerprint", lambda: "another epubgen")
        monkeypatch.setattr(memory, "code_fingerprint", lambda: "another epubgen")
    made: list[int] = []
    document = pipeline.chapter_document
    monkeypatch.setattr(pipeline, "chapter_document", lambda chapter, number, *rest: made.append(number) or document(chapter, number, *rest))
    rebuilt = build(series, config, out)
    assert sorted(made) == list(range(1, 27 if change == "a chapter inserted before the others" else 26))
    monkeypatch.setattr(pipeline, "chapter_document", document)
    assert rebuilt.path.read_bytes() == build(series, config, tmp_path / "scratch" / "book.epub").path.read_bytes()


def test_a_memory_that_cannot_be_written_is_none_and_no_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    unwritable = memory.Memory(tmp_path / "a-file" / "memory", "setup")
    unwritable.remember([])
    assert unwritable.recall() == {}


def _files_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    real = pipeline.read_file
    monkeypatch.setattr(pipeline, "read_file", lambda file: read.append(file.name) or real(file))
    return read


build_module = importlib.import_module("epubgen.builder")  # the module: the package exports build() under its name


@pytest.fixture
def stats_vouch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The series' folder on a file system whose stats vouch for its files, whatever this machine's /tmp is."""
    monkeypatch.setattr(build_module, "stats_vouch_in", lambda folder: True)


def _built_well_after_the_download(series: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first build, its files left alone long enough before it for their stats to vouch for them."""
    later = time.time_ns() + 10 * pipeline.VOUCHING_AGE_NS
    with monkeypatch.context() as patched:
        patched.setattr(pipeline.time, "time_ns", lambda: later)
        build(series, CONFIG, out)


@pytest.mark.usefixtures("stats_vouch")
def test_a_file_left_alone_is_known_unchanged_by_its_stat_and_not_read_again(series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _built_well_after_the_download(series, tmp_path / "out", monkeypatch)
    download(series, 26, 30, A_DAY_LATER)
    read = _files_read(monkeypatch)
    rebuilt = build(series, CONFIG, tmp_path / "out")
    assert sorted(read) == [f"{number:04d}.txt" for number in range(26, 31)]
    assert _epub_bytes(rebuilt.paths) == _epub_bytes(build(series, CONFIG, tmp_path / "scratch").paths)


@pytest.mark.usefixtures("stats_vouch")
def test_a_file_rewritten_to_its_size_and_time_is_read_again_for_its_change_time(series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _built_well_after_the_download(series, tmp_path / "out", monkeypatch)
    chapter = series / "0007.txt"
    text = chapter.read_text(encoding="utf-8")
    chapter.write_text(text.replace("dusk", "dawn"), encoding="utf-8")
    os.utime(chapter, (DOWNLOADED, DOWNLOADED))
    read = _files_read(monkeypatch)
    rebuilt = build(series, CONFIG, tmp_path / "out")
    assert "0007.txt" in read
    assert "at dawn" in OpenedEpub(rebuilt.paths[0]).text()
    assert _epub_bytes(rebuilt.paths) == _epub_bytes(build(series, CONFIG, tmp_path / "scratch").paths)


@pytest.mark.usefixtures("stats_vouch")
def test_a_file_read_soon_after_it_changed_is_hashed_again_then_known_by_its_stat(series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within the clock's tick of a change, a stat cannot tell the bytes read from the next ones: the
    next build reads and hashes the file again, and records the stat that now vouches for it."""
    changed = max(path.stat().st_ctime_ns for path in series.glob("*.txt"))
    with monkeypatch.context() as patched:
        patched.setattr(pipeline.time, "time_ns", lambda: changed + pipeline.VOUCHING_AGE_NS // 2)
        build(series, CONFIG, tmp_path / "out")
    read = _files_read(monkeypatch)
    later = time.time_ns() + 10 * pipeline.VOUCHING_AGE_NS
    with monkeypatch.context() as patched:
        patched.setattr(pipeline.time, "time_ns", lambda: later)
        build(series, CONFIG, tmp_path / "out")
    assert len(read) == 25
    build(series, CONFIG, tmp_path / "out")
    assert len(read) == 25


def test_stats_vouch_for_files_on_local_file_systems_only(series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not on vfat (its change time is the modification time, which programs set) nor NFS (stats from a cache)."""
    mounts = "\n".join(
        [
            "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw",
            "40 22 8:17 / /media/usb\\040stick rw - vfat /dev/sdb1 rw",
            "41 22 0:50 / /srv/novels rw - nfs4 server:/novels rw",
            "42 41 0:51 / /srv/novels/local rw - xfs /dev/sdc1 rw",
        ]
    )
    kinds = [text.mounted_file_system(path, mounts) for path in ("/home/reader/novel", "/media/usb stick/novel", "/srv/novels/a", "/srv/novels/local/a", "/srv/novelsx")]
    assert kinds == ["ext4", "vfat", "nfs4", "xfs", "ext4"]
    assert [kind in text.STAT_TRUSTED_FILE_SYSTEMS for kind in kinds] == [True, False, False, True, True]
    monkeypatch.setattr(build_module, "stats_vouch_in", lambda folder: False)
    _built_well_after_the_download(series, tmp_path / "out", monkeypatch)
    read = _files_read(monkeypatch)
    build(series, CONFIG, tmp_path / "out")
    assert len(read) == 25
