"""The floor: the least work any Python tool does to turn a folder of chapters into an EPUB.

`python benchmarks/floor.py FOLDER OUT.epub` reads every .txt file of FOLDER in name order,
escapes each non-blank line as a paragraph of a minimal XHTML document, and zips the
documents: mimetype first and stored, everything else deflated, with the smallest
container.xml, OPF and navigation document that make the zip an EPUB. Nothing else:
no cleaning, no headings, no validation, no third-party library.
"""

from __future__ import annotations

import html
import sys
import zipfile
from pathlib import Path

CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""

DOCUMENT = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">
<head><title>{title}</title></head>
<body>
{body}
</body>
</html>"""

PACKAGE = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id" xml:lang="en">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier id="id">urn:uuid:00000000-0000-4000-8000-000000000000</dc:identifier>
<dc:title>{title}</dc:title><dc:language>en</dc:language>
<meta property="dcterms:modified">2023-11-14T22:13:20Z</meta>
</metadata>
<manifest>
<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
{items}
</manifest>
<spine>
{itemrefs}
</spine>
</package>"""


def chapter_document(title: str, text: str) -> str:
    """One chapter as XHTML: every non-blank line an escaped paragraph."""
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
    return DOCUMENT.format(title=html.escape(title), body=paragraphs)


def navigation_document(names: list[str]) -> str:
    links = "\n".join(f'<li><a href="{name}.xhtml">{name}</a></li>' for name in names)
    return DOCUMENT.format(title="Contents", body=f'<nav epub:type="toc"><ol>\n{links}\n</ol></nav>')


def package_document(title: str, names: list[str]) -> str:
    items = "\n".join(f'<item id="c{name}" href="{name}.xhtml" media-type="application/xhtml+xml"/>' for name in names)
    itemrefs = "\n".join(f'<itemref idref="c{name}"/>' for name in names)
    return PACKAGE.format(title=html.escape(title), items=items, itemrefs=itemrefs)


def write_book(folder: Path, output: Path) -> None:
    files = sorted(folder.glob("*.txt"))
    names = [file.stem for file in files]
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", CONTAINER)
        for file in files:
            archive.writestr(f"OEBPS/{file.stem}.xhtml", chapter_document(file.stem, file.read_text(encoding="utf-8")))
        archive.writestr("OEBPS/nav.xhtml", navigation_document(names))
        archive.writestr("OEBPS/content.opf", package_document(folder.name, names))


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python benchmarks/floor.py FOLDER OUT.epub", file=sys.stderr)
        return 2
    write_book(Path(argv[1]), Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
