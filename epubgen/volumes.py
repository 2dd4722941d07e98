"""Group a series' chapters into volumes: by the source's own volume markers, by a count, or by
ranges; and give each volume's EPUB a file name of its own.

Part of the structure stage: it runs on ordered chapters and only groups them.
"""

from __future__ import annotations

from epubgen.config import MAX_NAME_BYTES, BookConfig, check_volume_name, file_identity, shown, volume_name
from epubgen.errors import ConfigError
from epubgen.model import Chapter, Volume


def split_volumes(chapters: list[Chapter], config: BookConfig) -> tuple[tuple[Volume, ...], list[str]]:
    """The volumes of the series, and warnings about chapters the ranges leave out.

    book.toml's [[volume]] ranges win over a chapter count, which wins over the source's markers.
    """
    if config.volume:
        return _by_ranges(chapters, config.volume)
    if config.volumes.per_volume:
        return _by_count(chapters, int(config.volumes.per_volume)), []
    return _by_markers(chapters), []


def _by_count(chapters: list[Chapter], size: int) -> tuple[Volume, ...]:
    return tuple(
        Volume(number, "", tuple(chapters[start : start + size])) for number, start in enumerate(range(0, len(chapters), size), 1)
    )


def _by_markers(chapters: list[Chapter]) -> tuple[Volume, ...]:
    """A new volume wherever a chapter names another volume (`Vol. 2 Ch. 1`, a `Volume 2` line above it)."""
    groups: list[tuple[int, str, list[Chapter]]] = []
    for chapter in chapters:
        number = chapter.heading.volume
        starts_new = not groups or (number is not None and number != groups[-1][0]) or chapter.volume_title
        if starts_new:
            number = number if number is not None else len(groups) + 1
            groups.append((number, chapter.volume_title, []))
        groups[-1][2].append(chapter)
    return tuple(Volume(number, title, tuple(members)) for number, title, members in groups)


def _by_ranges(chapters: list[Chapter], ranges: tuple[tuple[str, int, int], ...]) -> tuple[tuple[Volume, ...], list[str]]:
    """Each chapter goes to the range holding its number; one without a number (or outside every
    range) stays with the chapter before it."""
    members: list[list[Chapter]] = [[] for _ in ranges]
    outside: list[str] = []
    current = 0
    for chapter in chapters:
        number = chapter.heading.number if chapter.heading.kind == "chapter" else None
        if number is not None:
            index = next((i for i, (_, first, last) in enumerate(ranges) if first <= number <= last), None)
            if index is None:
                outside.append(chapter.heading.label)
            else:
                current = index
        members[current].append(chapter)
    volumes = tuple(Volume(index, title, tuple(group)) for index, ((title, _, _), group) in enumerate(zip(ranges, members), 1) if group)
    warnings = [f"in no [[volume]] range, so kept with the chapter before: {', '.join(outside)}"] if outside else []
    return volumes, warnings


def volume_file_names(title: str, volumes: tuple[Volume, ...], pattern: str) -> list[str]:
    """Each volume's file name (without `.epub`) by the volumes.name pattern, or a ConfigError when two
    volumes would share one: names that differ only in case are one file where case is ignored."""
    check_volume_name(pattern)
    names = [volume_file_name(title, volume, pattern) for volume in volumes]
    first_named: dict[str, Volume] = {}
    for volume, name in zip(volumes, names):
        other = first_named.setdefault(file_identity(name), volume)
        if other is not volume:
            raise ConfigError(
                f"volumes.name {shown(pattern)} gives volumes {other.number} and {volume.number} the same file name "
                f"{shown(name + '.epub')}; the pattern must tell every volume apart ({{volume}} does)"
            )
    return names


def volume_file_name(title: str, volume: Volume, pattern: str) -> str:
    """`The Lantern Keeper Vol 03 (Ch 201-300)`, made safe for every file system; a title too long
    for a file name is shortened."""
    first, last = volume.chapter_range or (0, 0)
    name = volume_name(pattern, title, volume.number, first, last)
    while len(name.encode("utf-8")) > MAX_NAME_BYTES and title:
        excess = len(name.encode("utf-8")) - MAX_NAME_BYTES
        title = title[: -max(1, excess // 4)].rstrip()
        name = volume_name(pattern, title, volume.number, first, last)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise ConfigError(f"volumes.name {shown(pattern)} makes volume {volume.number}'s file name longer than {MAX_NAME_BYTES} bytes")
    return name or f"volume-{volume.number:02d}"
