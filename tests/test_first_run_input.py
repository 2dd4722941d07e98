"""What a new user trips over on a first run (issue 18): titles in other scripts, a series kept as one
text file, and a folder with several bad files."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import OpenedEpub, assert_valid, write_chapters
from epubgen.batch import build_all
from epubgen.builder import build, make_book, slug
from epubgen.cli import main
from epubgen.config import BookConfig
from epubgen.errors import InputError
from epubgen.read import read_input


def series_text(count: int, story: str = "Lantern") -> str:
    return "".join(f"Chapter {n}: {story} part {n}\n\nThe {story.lower()} burned on, night {n}.\n\n" for n in range(1, count + 1))


def chapters(count: int, story: str = "Lantern") -> dict[str, str]:
    return {f"{n:03d}.txt": f"Chapter {n}: {story} {n}\n\nThe {story.lower()} went on, page {n}.\n" for n in range(1, count + 1)}


# Item 2: a file name for a title in any script.


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("The Lantern Keeper!", "the-lantern-keeper"),
        ("Café au Lait: Vol. 2", "cafe-au-lait-vol-2"),
        ("Don’t Stop — ½ Way", "dont-stop-12-way"),
        ("斗破苍穹", "斗破苍穹"),
        ("斗破苍穹：第二部", "斗破苍穹-第二部"),
        ("Солнце", "солнце"),
        ("進撃の巨人 ガ", "進撃の巨人-ガ"),
        ("전지적 독자 시점", "전지적-독자-시점"),
        ("ألف ليلة وليلة", "ألف-ليلة-وليلة"),
        ("हिन्दी कहानी", "हिन्दी-कहानी"),
        ("Straße", "straße"),
        ("🐉🔥", "🐉🔥"),
        ("🐉 & 🔥", "🐉-🔥"),
        ('a<b>c:"d"/e\\f|g?h*i.', "a-b-c-d-e-f-g-h-i"),
        ("\x00\x1f...", "book"),
        ("???", "book"),
        ("CON", "con-book"),
        ("lpt1", "lpt1-book"),
    ],
)
def test_a_title_keeps_its_own_letters_in_its_file_name(title: str, name: str) -> None:
    assert slug(title) == name


def test_a_file_name_is_nfc_and_at_most_200_bytes_cut_between_characters() -> None:
    assert slug("e\u0301te\u0301 한국") == "ete-한국"
    assert unicodedata.is_normalized("NFC", slug("\u1112\u1161\u11ab"))
    long = slug("斗" * 300)
    assert long == "斗" * 66 and len(long.encode()) <= 200
    assert slug("a" * 300) == "a" * 80


def test_titles_in_other_scripts_are_books_of_their_own(tmp_path: Path) -> None:
    out = tmp_path / "out"
    chinese = build(write_chapters(tmp_path / "doupo", chapters(2)), BookConfig(title="斗破苍穹"), out).path
    russian = build(write_chapters(tmp_path / "sun", chapters(2)), BookConfig(title="Солнце"), out).path
    assert sorted(path.name for path in out.glob("*.epub")) == ["солнце.epub", "斗破苍穹.epub"]
    assert OpenedEpub(chinese).metadata("dc:title") == ["斗破苍穹"]
    assert OpenedEpub(russian).metadata("dc:title") == ["Солнце"]
    assert_valid(chinese)


def test_build_all_writes_two_chinese_titled_series_and_two_of_one_title_apart(tmp_path: Path) -> None:
    root = tmp_path / "library"
    write_chapters(root / "doupo", {**chapters(2, "Flame"), "book.toml": 'title = "斗破苍穹"\n'})
    write_chapters(root / "wudong", {**chapters(3, "Storm"), "book.toml": 'title = "武动乾坤"\n'})
    for name, count in (("first-download", 4), ("second-download", 5)):
        write_chapters(root / name, {**chapters(count, "Ash"), "book.toml": 'title = "灰烬"\n'})
    out = tmp_path / "out"
    results = build_all(root, out)
    assert [result.error for result in results] == [""] * 4
    assert sorted(path.name for path in out.glob("*.epub")) == ["斗破苍穹.epub", "武动乾坤.epub", "灰烬 (second-download).epub", "灰烬.epub"]
    assert len(OpenedEpub(out / "灰烬.epub").chapter_files()) == 4
    assert len(OpenedEpub(out / "灰烬 (second-download).epub").chapter_files()) == 5
    assert results[2].warnings == ("灰烬.epub is first-download's book, so this one is 灰烬 (second-download).epub: give one of them another title",)
    again = build_all(root, out)
    assert [result.build.unchanged == result.build.paths for result in again] == [True] * 4


# Item 4: a series kept as one text file in its folder.


def test_a_folder_holding_one_text_file_of_many_chapters_is_split_as_the_file_is(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "lantern", {"lantern.txt": series_text(5)})
    from_folder = make_book(folder, BookConfig())
    from_file = make_book(folder / "lantern.txt", BookConfig())
    labels = [chapter.heading.label for chapter in from_folder.chapters]
    assert len(labels) == 5
    assert labels == [chapter.heading.label for chapter in from_file.chapters]
    assert len(read_input(folder).chapters) == 5


def test_a_folder_of_one_short_chapter_stays_one_chapter(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "short", {"only.txt": "Chapter 1: Alone\n\nJust this.\n"})
    assert len(make_book(folder, BookConfig()).chapters) == 1


def test_a_one_file_series_folder_rebuilds_when_its_file_grows(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "lantern", {"lantern.txt": series_text(3)})
    out = tmp_path / "out" / "book.epub"
    build(folder, BookConfig(), out)
    (folder / "lantern.txt").write_text(series_text(4), encoding="utf-8")
    rebuilt = build(folder, BookConfig(), out)
    assert rebuilt.unchanged == ()
    assert len(OpenedEpub(out).chapter_files()) == 4


def test_build_all_builds_a_one_file_series_folder_and_a_top_level_text_file(tmp_path: Path) -> None:
    root = tmp_path / "library"
    write_chapters(root / "lantern", {"lantern.txt": series_text(4)})
    write_chapters(root, {"tale.txt": series_text(3, "Candle")})
    write_chapters(root / "plain", chapters(2))
    out = tmp_path / "out"
    results = build_all(root, out)
    assert [(result.name, result.chapters, result.error) for result in results] == [("lantern", 4, ""), ("plain", 2, ""), ("tale.txt", 3, "")]
    assert sorted(path.name for path in out.glob("*.epub")) == ["lantern.epub", "plain.epub", "tale.epub"]


# Item 12: every bad file named at once.


@pytest.fixture
def with_bad_files(tmp_path: Path) -> Path:
    folder = write_chapters(tmp_path / "in", chapters(5))
    write_chapters(folder, {"002b.txt": bytes(range(256)) * 4, "003b.txt": "", "004b.txt": "caf\xe9 au lait".encode("latin-1")})
    return folder


def test_every_bad_file_is_named_on_a_line_of_its_own_and_no_book_is_written(with_bad_files: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "book.epub"
    with pytest.raises(InputError) as raised:
        build(with_bad_files, BookConfig(encoding="utf-8"), out)
    lines = str(raised.value).splitlines()
    assert [line.split(":")[0] for line in lines] == ["002b.txt", "003b.txt", "004b.txt"]
    assert "003b.txt: the file is empty" in lines
    assert not out.exists()
    with pytest.raises(InputError) as read:
        read_input(with_bad_files, "utf-8")
    assert str(read.value) == str(raised.value)


def test_the_command_line_names_every_bad_file_and_skip_bad_warns_of_each(with_bad_files: Path, tmp_path: Path) -> None:
    out = tmp_path / "book.epub"
    failed = CliRunner().invoke(main, ["build", str(with_bad_files), "-o", str(out), "--encoding", "utf-8"])
    assert failed.exit_code == 1
    assert "Traceback" not in failed.stderr
    lines = failed.stderr.splitlines()
    assert [line.split(":")[:2] for line in lines] == [["error", f" {name}"] for name in ("002b.txt", "003b.txt", "004b.txt")]
    assert not out.exists()
    skipped = CliRunner().invoke(main, ["build", str(with_bad_files), "-o", str(out), "--encoding", "utf-8", "--skip-bad", "-q"])
    assert skipped.exit_code == 0
    warned = [line.split(":")[:2] for line in skipped.stderr.splitlines()]
    assert warned == [["warning", f" skipped {name}"] for name in ("002b.txt", "003b.txt", "004b.txt")]
    assert len(OpenedEpub(out).chapter_files()) == 5
