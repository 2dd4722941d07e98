"""Write a synthetic web-novel series for the benchmark: `python benchmarks/generate.py N OUTDIR`.

OUTDIR gets 0001.txt .. N.txt and a book.toml. Each chapter is about 2,500 words of original
filler prose in 40-80 paragraphs, shaped like a downloaded page:

    The Endless Ledger                      <- the novel's title on top of every file

    Chapter 12: The Salted Vault            <- the heading

    paragraphs and "dialogue", with &, <3, a < b, <system messages>, em dashes and
    names such as Zhōu Wěi or Séverine; 2-3 watermark lines mid-text; a "(TL: ...)"
    note inside a sentence in every third chapter

    Tap the screen to use advanced tools ...   <- site junk at the bottom
    Previous Chapter | Table of Contents | Next Chapter

Every chapter has its own seeded random generator, so the bytes are the same on every run
and the first 300 chapters of a 3,000-chapter series are the 300-chapter series.
"""

from __future__ import annotations

import html
import random
import sys
from pathlib import Path

TITLE = "The Endless Ledger"
AUTHOR = "Ione Marsh"
SEED = "endless-ledger"

NAMES = (
    "Zhōu Wěi", "Séverine", "Lín Xiǎoyù", "Mara Quill", "Bjørn", "Joaquín", "Ōtani Ren", "Chloé",
    "Old Brannoc", "Su Yànqīng", "Ælfric", "Tomasz Wójcik", "Ines", "the Clerk",
)
NOUNS = (
    "ledger", "coin", "debt", "lantern", "harbour", "tower", "merchant", "clerk", "page", "seal", "vault",
    "river", "gate", "bell", "market", "contract", "ink", "candle", "ship", "storm", "key", "door", "wall",
    "scale", "account", "signature", "window", "street", "bridge", "archive", "letter", "promise", "guild",
    "stair", "mirror", "crowd", "lamp", "rope", "counter", "ghost", "stone", "night", "morning", "road",
    "sword", "shadow", "treasury", "column", "figure", "balance", "oath", "hall", "courtyard", "ferry",
)
ADJECTIVES = (
    "old", "narrow", "quiet", "crooked", "heavy", "pale", "bright", "salted", "hollow", "broken", "iron",
    "silver", "careful", "endless", "cold", "thin", "patient", "forgotten", "sealed", "grey", "wet", "late",
    "empty", "faint", "stubborn", "distant", "borrowed", "unpaid", "small", "black", "golden", "tired",
)
VERBS = (
    "counted", "signed", "weighed", "opened", "carried", "watched", "closed", "followed", "crossed", "found",
    "lifted", "turned", "read", "burned", "held", "measured", "copied", "buried", "traded", "sealed",
    "touched", "ignored", "remembered", "broke", "balanced", "marked", "studied", "pushed", "paid", "doubted",
)
ADVERBS = (
    "slowly", "quietly", "again", "carefully", "at once", "without a word", "twice", "for a long time",
    "in the end", "once more", "too late", "almost gently", "with both hands",
)
PREPOSITIONS = ("across", "beneath", "beside", "through", "into", "toward", "under", "over", "behind", "along")
SAYING = ("said", "asked", "muttered", "replied", "whispered", "called", "admitted")
FIRMS = ("Quill & Sons", "Hale & Daughters", "Salt & Iron Exchange", "Marsh & Vey")
SYSTEM_MESSAGES = (
    "<Ledger updated: one debt settled>",
    "<Quest: Balance the Harbour Accounts (0/3)>",
    "<Skill acquired: Appraisal — Lv. 1>",
    "<Warning: the seal is weakening>",
)
CLAUSES = (
    "the {adj} {noun} {verb} the {noun2} {adv}",
    "{name} {verb} the {adj} {noun} {prep} the {noun2}",
    "nobody {verb} the {noun} of {name}",
    "the {noun} was {adj}, and the {noun2} was {adj2}",
    "{name} {verb} the {noun}'s {noun2} {adv}",
    "somewhere {prep} the {noun} the {adj} {noun2} waited",
    "the clerks of {firm} {verb} every {noun} {adv}",
    "it was the {adj} kind of {noun} that nobody {verb}",
)
ASIDES = (
    "the rule was plain: if a < b, the debt carried over",
    "someone had drawn a small <3 beside the figure",
    "the account of {firm} was still open",
)
JOINS = (", and ", ", but ", " — ", "; ", ", so ")
WATERMARKS = (
    "Read latest chapters at n/o/v/e/l/b/i/n.c/o/m",
    "This chapter is updated by novelbin.com",
    "The source of this content is n/o/v/e/l/b/i/n.c/o/m",
    "Find the original at freewebnovel.com",
)
TL_NOTES = (
    "the jiānghú, literally 'rivers and lakes', the world outside the law",
    "a tael is about 37 grams of silver",
    "the author's pun on 'ledger' and 'legend' does not survive in English",
    "Séverine's name is French in the raw as well",
)
FOOTER = (
    "Tap the screen to use advanced tools Tip: You can use left and right keyboard keys to browse between chapters.",
    "Previous Chapter | Table of Contents | Next Chapter",
)


def chapter_file_name(number: int, count: int) -> str:
    """The file name of chapter number in a series generated with count chapters."""
    return f"{number:0{max(4, len(str(count)))}d}.txt"


def chapter_text(number: int) -> str:
    """The whole file of chapter `number`: the same text for the same number, always."""
    rng = random.Random(f"{SEED}:{number}")
    paragraphs = _paragraphs(rng, rng.randint(40, 80), rng.randint(2350, 2650))
    if number % 3 == 0:
        _add_translator_note(rng, paragraphs)
    for _ in range(rng.randint(2, 3)):
        paragraphs.insert(rng.randint(3, len(paragraphs) - 3), rng.choice(WATERMARKS))
    lines = [TITLE, f"Chapter {number}: {_chapter_title(rng)}", *paragraphs, *FOOTER]
    return "\n\n".join(lines) + "\n"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Chapter {number}</title>
<script>window.reader = {{chapter: {number}}};</script><style>.hide-me {{ display: none }}</style></head>
<body><div class="nav-bar"><a href="#">Prev</a> | <a href="#">Index</a> | <a href="#">Next</a></div>
<div id="content">
{paragraphs}
</div>
<div class="comments-section"><!-- comments load here --><p>Log in to comment.</p></div>
</body></html>
"""


def page_file_name(number: int, count: int) -> str:
    """The file name of chapter number saved as a page, in a series of count pages."""
    return chapter_file_name(number, count).replace(".txt", ".html")


def page_html(number: int) -> str:
    """Chapter `number` as a saved web page: its text's lines as paragraphs (escaped) in the page's
    content element, between a navigation bar and a comments box, with a script and a style in its head."""
    lines = [line for line in chapter_text(number).split("\n") if line.strip()]
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return PAGE.format(title=html.escape(TITLE), number=number, paragraphs=paragraphs)


def generate_pages(count: int, folder: Path) -> None:
    """Write chapters 1..count as saved pages and a book.toml into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, count + 1):
        (folder / page_file_name(number, count)).write_text(page_html(number), encoding="utf-8", newline="\n")
    _book_toml(folder)


def _paragraphs(rng: random.Random, count: int, words: int) -> list[str]:
    """`count` paragraphs of `words` words in all, of uneven lengths, a third of them dialogue."""
    weights = [rng.uniform(0.4, 1.6) for _ in range(count)]
    total = sum(weights)
    paragraphs = []
    for weight in weights:
        target = max(6, round(words * weight / total))
        if rng.random() < 0.06:
            paragraphs.append(rng.choice(SYSTEM_MESSAGES))
        elif rng.random() < 0.33:
            paragraphs.append(_dialogue(rng, target))
        else:
            paragraphs.append(_narration(rng, target))
    return paragraphs


def _narration(rng: random.Random, words: int) -> str:
    """Whole sentences, as close to `words` words as they come."""
    sentences, count = [], 0
    while count < words:
        sentence = _sentence(rng)
        length = len(sentence.split())
        if sentences and count + length - words > words - count:
            break
        sentences.append(sentence)
        count += length
    return " ".join(sentences)


def _dialogue(rng: random.Random, words: int) -> str:
    """`"Speech," Name said. "More speech."`, with straight quotes as downloaded pages have them."""
    speech = _narration(rng, max(3, words // 2))
    rest = _narration(rng, max(3, words - words // 2 - 2))
    return f'"{speech[:-1]}," {rng.choice(NAMES)} {rng.choice(SAYING)}. "{rest}"'


def _sentence(rng: random.Random) -> str:
    clauses = [_clause(rng) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    text = clauses[0]
    for clause in clauses[1:]:
        text += rng.choice(JOINS) + clause
    if rng.random() < 0.05:
        text += " — " + rng.choice(ASIDES).format(firm=rng.choice(FIRMS))
    return text[0].upper() + text[1:] + rng.choices(".?!", weights=(8, 1, 1))[0]


def _clause(rng: random.Random) -> str:
    return rng.choice(CLAUSES).format(
        adj=rng.choice(ADJECTIVES),
        adj2=rng.choice(ADJECTIVES),
        noun=rng.choice(NOUNS),
        noun2=rng.choice(NOUNS),
        verb=rng.choice(VERBS),
        adv=rng.choice(ADVERBS),
        prep=rng.choice(PREPOSITIONS),
        name=rng.choice(NAMES),
        firm=rng.choice(FIRMS),
    )


def _chapter_title(rng: random.Random) -> str:
    adjective, noun = rng.choice(ADJECTIVES).title(), rng.choice(NOUNS).title()
    return rng.choice((f"The {adjective} {noun}", f"{noun} of {rng.choice(NAMES)}", f"A {noun} Unpaid"))


def _add_translator_note(rng: random.Random, paragraphs: list[str]) -> None:
    """Put `(TL: ...)` after a word in the middle of a narration paragraph."""
    index = rng.choice([i for i, text in enumerate(paragraphs) if not text.startswith(('"', "<"))])
    words = paragraphs[index].split(" ")
    at = rng.randint(1, len(words) - 2)
    words[at] += f" (TL: {rng.choice(TL_NOTES)})"
    paragraphs[index] = " ".join(words)


def generate(count: int, folder: Path) -> None:
    """Write chapters 1..count and a book.toml into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, count + 1):
        (folder / chapter_file_name(number, count)).write_text(chapter_text(number), encoding="utf-8", newline="\n")
    _book_toml(folder)


def _book_toml(folder: Path) -> None:
    (folder / "book.toml").write_text(f'title = "{TITLE}"\nauthor = "{AUTHOR}"\nlanguage = "en"\n', encoding="utf-8", newline="\n")


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not argv[1].isdigit() or int(argv[1]) < 1:
        print("usage: python benchmarks/generate.py N OUTDIR", file=sys.stderr)
        return 2
    generate(int(argv[1]), Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
