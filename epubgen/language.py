"""Language tags: what a user, a locale or an input EPUB gives, as the BCP 47 tag an EPUB needs."""

from __future__ import annotations

import re

_BCP47 = re.compile(
    r"""
    (?P<language>[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})
    (?:-(?P<script>[A-Za-z]{4}))?
    (?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?
    (?P<rest>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*
      (?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*
      (?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?)
    """,
    re.VERBOSE,
)
_LOCALE_SUFFIX = re.compile(r"[.@].*$")


def language_tag(value: str) -> str | None:
    """value as a well-formed BCP 47 tag in its usual case, or None when it is not one.

    A POSIX locale name is read as the tag it stands for (`en_US.UTF-8` -> `en-US`).

    >>> language_tag("en_US.UTF-8"), language_tag("ZH-hant-tw"), language_tag("english!")
    ('en-US', 'zh-Hant-TW', None)
    """
    text = _LOCALE_SUFFIX.sub("", value.strip()).replace("_", "-")
    match = _BCP47.fullmatch(text)
    if match is None or text.lower() in {"c", "posix"}:
        return None
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    if match["rest"]:
        parts.append(match["rest"].strip("-").lower())
    return "-".join(parts)
