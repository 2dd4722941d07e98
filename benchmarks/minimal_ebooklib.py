"""What a user would write with ebooklib and nothing else: no cleaning, no headings.

`python benchmarks/minimal_ebooklib.py FOLDER OUT.epub`: one EpubHtml per .txt file of FOLDER
(in name order), each non-blank line an escaped paragraph, then a table of contents, a spine,
the NCX and navigation document, and ebooklib's own write_epub().
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

from ebooklib import epub


def make_book(folder: Path) -> epub.EpubBook:
    book = epub.EpubBook()
    book.set_identifier(f"benchmark-{folder.name}")
    book.set_title(folder.name)
    book.set_language("en")
    chapters = []
    for file in sorted(folder.glob("*.txt")):
        chapter = epub.EpubHtml(title=file.stem, file_name=f"{file.stem}.xhtml", lang="en")
        lines = file.read_text(encoding="utf-8").splitlines()
        chapter.content = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line.strip())
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    return book


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python benchmarks/minimal_ebooklib.py FOLDER OUT.epub", file=sys.stderr)
        return 2
    epub.write_epub(argv[2], make_book(Path(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
