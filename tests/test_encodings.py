"""Text in whatever encoding it comes: detected, decoded, repaired, and bad files handled politely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import OpenedEpub, write_chapters
from epubgen.errors import InputError
from epubgen.read import read_input
from epubgen.read.decode import decode

SAMPLES = {
    "gb18030": ("第1章 灯塔\n\n灯塔守护者在雾中点亮了灯。她的祖母已经离开了三天，没有人知道她去了哪里。海上的钟声响了两次。", "zh"),
    "gbk": ("第2章 盐路\n\n盐路从小镇的北边一直延伸到旧盐田。她提着小灯笼走在路上，心里想着祖母留下的账本。", "zh"),
    "big5": ("第3章 渡口\n\n渡口只有一條小船，船上坐著一個穿油布外套的人，正在補網。他的頭髮是白的，臉卻不老。", "zh"),
    "shift_jis": ("第4章 鐘\n\n霧の中で鐘が二度鳴った。彼女は祖母の帳簿を開き、最後の頁に書かれた言葉を読んだ。灯台の光は消えていた。", "ja"),
    "euc_kr": ("제5장 안개\n\n안개가 바다에서 밀려왔다. 그녀는 할머니의 장부를 펼치고 마지막 페이지에 적힌 말을 읽었다. 등대의 불빛은 꺼져 있었다.", "ko"),
    "cp1252": ("Chapter 6: Caf\u00e9\n\nS\u00e9verine ordered a cr\u00e8me br\u00fbl\u00e9e \u2014 \u201cthe usual\u201d \u2014 and paid 5\u20ac for it at the caf\u00e9 na\u00efvely named \u00c9clair.", "en"),
    "latin-1": ("Chapter 7: Fa\u00e7ade\n\nThe fa\u00e7ade of the gar\u00e7on's \u00e9cole was painted \u00e0 la mode, and Zo\u00eb said it looked na\u00efve and r\u00e9sum\u00e9-like.", "en"),
}


@pytest.mark.parametrize("encoding", SAMPLES)
def test_each_common_encoding_is_detected_and_decoded(encoding: str) -> None:
    text, _ = SAMPLES[encoding]
    decoded = decode(text.encode(encoding), f"{encoding}.txt")
    assert decoded.text == text


@pytest.mark.parametrize(("bom", "codec"), [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_byte_order_marks_decide_the_encoding(bom: bytes, codec: str) -> None:
    text = "第1章 灯塔\n\nZhōu Wěi lit the lamp."
    assert decode(bom + text.encode(codec), "x.txt").text == text


def test_a_given_encoding_overrides_detection() -> None:
    assert decode("Caf\u00e9".encode("cp1252"), "x.txt", "cp1252").text == "Caf\u00e9"


def test_mojibake_is_repaired_and_typographic_and_full_width_punctuation_survive() -> None:
    decoded = decode("it\u00e2\u20ac\u2122s \u201cfine\u201d\uff0c\u3002 \u201cquoted\u201d".encode(), "x.txt")
    assert decoded.text == "it\u2019s \u201cfine\u201d\uff0c\u3002 \u201cquoted\u201d"
    assert decoded.repaired


def test_correct_accented_text_is_not_touched_by_the_repair() -> None:
    text = "Séverine's crème brûlée — “à la mode” — cost 5€."
    decoded = decode(text.encode(), "x.txt")
    assert (decoded.text, decoded.repaired) == (text, False)


def test_zero_width_junk_goes_but_joiners_scripts_need_stay() -> None:
    text = "wa\u200bter\u00admark \u2060x\ufeffy \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001f468\u200d\U0001f469"
    assert decode(text.encode(), "x.txt").text == "watermark xy \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001f468\u200d\U0001f469"


def test_a_300_kb_paragraph_and_crlf_newlines_are_read_whole() -> None:
    line = "word " * 60000
    text = decode(f"Chapter 1\r\n\r\n{line}\r\nEnd.".encode(), "x.txt").text
    assert text.split("\n") == ["Chapter 1", "", line, "End."]


def test_verbose_says_which_encoding_each_file_was_read_in(tmp_path: Path) -> None:
    files = {f"{n}.txt": SAMPLES[name][0].encode(name) for n, name in enumerate(["gb18030", "big5"], 1)}
    files["3.txt"] = "Chapter 3\n\nPlain.".encode()
    folder = write_chapters(tmp_path / "in", files)
    result = subprocess.run(
        [sys.executable, "-m", "epubgen", "build", str(folder), "-o", str(tmp_path / "b.epub"), "-v", "--language", "zh"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    notices = [line for line in result.stderr.splitlines() if ": read as " in line]
    assert notices == ["1.txt: read as gb18030", "2.txt: read as big5", "3.txt: read as utf-8"]
    assert "渡口只有一條小船" in OpenedEpub(tmp_path / "b.epub").text()


def test_a_bad_file_stops_the_build_unless_skip_bad(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "in", {"1.txt": "Chapter 1\n\nGood.", "2.txt": bytes(range(256)) * 4, "3.txt": "", "4.txt": "\x00\x07" * 9})
    with pytest.raises(InputError, match="2.txt: this is a binary file, not text"):
        read_input(folder)
    sources = read_input(folder, skip_bad=True)
    assert [c.source for c in sources.chapters] == ["1.txt"]
    assert sources.warnings == (
        "skipped 2.txt: this is a binary file, not text",
        "skipped 3.txt: the file is empty",
        "skipped 4.txt: no text in this file, only control characters",
    )


def test_skip_bad_on_the_command_line_warns_and_builds(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "in", {"1.txt": "Chapter 1\n\nGood.", "2.txt": bytes(range(256)) * 4})
    target = tmp_path / "b.epub"
    stopped = subprocess.run([sys.executable, "-m", "epubgen", "build", str(folder), "-o", str(target)], capture_output=True, text=True)
    assert stopped.returncode == 1 and not target.exists()
    skipped = subprocess.run([sys.executable, "-m", "epubgen", "build", str(folder), "-o", str(target), "--skip-bad"], capture_output=True, text=True)
    assert skipped.returncode == 0
    assert "warning: skipped 2.txt: this is a binary file, not text" in skipped.stderr
    assert "Traceback" not in skipped.stderr


def test_a_folder_of_only_bad_files_is_an_error_even_with_skip_bad(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "in", {"1.txt": b"\x00\x01" * 100, "2.txt": b"\x00\x02" * 100})
    with pytest.raises(InputError, match="none of the 2 chapter files could be read"):
        read_input(folder, skip_bad=True)
    (folder / "2.txt").unlink()
    with pytest.raises(InputError, match="^1.txt: no text in this file"):  # a folder's one file is read as that file
        read_input(folder, skip_bad=True)


def test_the_mojibake_hint_is_the_same_in_the_text_and_in_its_utf8_bytes() -> None:
    """The byte search that spares the character search finds exactly the same pairs."""
    from itertools import product

    from epubgen.read import decode as decoding

    for lead, follower in product(decoding._MOJIBAKE_LEADS + "aé€", decoding._MOJIBAKE_FOLLOWERS + "x—é"):
        text = f"x{lead}{follower}y"
        assert (decoding._MOJIBAKE_HINT.search(text) is None) == (decoding._MOJIBAKE_HINT_BYTES.search(text.encode()) is None), (lead, follower)
