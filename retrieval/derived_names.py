"""Who a story is about, when its author gave no metadata: names read from its text.

:func:`derive_names` finds the most frequent capitalised name (the artist), the most
frequent quoted title (a band) and short aliases; :class:`~retrieval.artists.ArtistMatcher`
then finds those names in questions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from retrieval.text import fold

_NAME_TOKEN = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"
_CAPITALISED_RUN = re.compile(rf"{_NAME_TOKEN}(?:\s+{_NAME_TOKEN})+")
_QUOTED = re.compile(r"[\"“]([^\"”\n]{2,60})[\"”]")
# A quoted title counts as a band only right after a word that says it is one.
_BAND_WORDS = re.compile(
    r"\b(?:band|group|ensemble|orchestra|trio|quartet|quintet|duo|choir|collective)\b[^.\n]{0,12}$",
    re.IGNORECASE,
)
_TITLE_WORD = re.compile(r"^(?:[A-ZÀ-ÖØ-Þ0-9][\w'’&.-]*|of|and|the|in|on|de|la|von|van)$")
_HEADING = re.compile(r"\A\s*#\s+(.+)")
_POSSESSIVE = re.compile(r"['’]s$")
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "into",
        "it",
        "its",
        "my",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "tonight",
        "was",
        "we",
        "when",
        "where",
        "while",
        "who",
        "with",
        "yet",
        "you",
        "your",
        "after",
        "before",
        "born",
        "during",
        "once",
        "since",
        "though",
        "under",
        "upon",
    ]
)
# Edits tolerated in a name: a similarity of at least this (0-100) for names of 5+ letters.


@dataclass(frozen=True, slots=True)
class DerivedNames:
    """Names found in a story without metadata."""

    artist: str
    band: str | None
    title: str | None
    aliases: tuple[str, ...]


def derive_names(text: str, stem: str) -> DerivedNames:
    """Guess a story's artist, band, title and aliases from its text and file name."""
    lowered_words = set(re.findall(r"\b[a-z][\w'-]*\b", text))
    unquoted = _QUOTED.sub(" ", text)
    band = _most_common(
        m.group(1).strip().rstrip(",.")
        for m in _QUOTED.finditer(text)
        if _looks_like_title(m.group(1).strip().rstrip(",."))
        and _BAND_WORDS.search(text, max(0, m.start() - 40), m.start())
    )
    from_file = _title_from_stem(stem)
    if from_file and not _mentions(text, from_file):
        from_file = None  # "concert_notes.txt" names a file, not an artist
    artist = from_file or _most_common_name(unquoted, lowered_words) or band or stem
    heading = _HEADING.match(text)
    title = heading.group(1).strip() if heading else from_file
    aliases: list[str] = []
    for name in (artist, band):
        if not name:
            continue
        tokens = name.split()
        if tokens[0].casefold() == "the" and len(tokens) > 1:
            aliases.append(" ".join(tokens[1:]))
        if len(tokens) > 1:
            aliases.extend(tokens[0:1] + tokens[-1:] if name == artist else [])
    good = [
        a
        for a in dict.fromkeys(aliases)
        if a not in (artist, band)
        and a.casefold() not in _FUNCTION_WORDS
        and (" " in a or a.casefold() not in lowered_words)
    ]
    return DerivedNames(artist=artist, band=band, title=title, aliases=tuple(good))


def _mentions(text: str, title: str) -> bool:
    """True when the text uses the title, or its last word (a surname), as a name."""
    folded = fold(text)
    words = fold(title).split()
    return fold(title) in folded or (
        len(words) > 1
        and len(words[-1]) > 2
        and re.search(rf"\b{re.escape(words[-1])}\b", folded) is not None
    )


def _title_from_stem(stem: str) -> str | None:
    parts = [p for p in re.split(r"[_\-\s]+", stem) if p]
    if not any(p.isalpha() and len(p) > 1 for p in parts):
        return None  # a hash or a number, not a name
    if any(any(c.isdigit() for c in p) and any(c.isalpha() for c in p) for p in parts):
        return None
    return " ".join(parts)


def _looks_like_title(phrase: str) -> bool:
    tokens = phrase.split()
    return (
        1 <= len(tokens) <= 6
        and tokens[0][0].isupper()
        and all(_TITLE_WORD.match(t) for t in tokens)
    )


def _most_common(items: Iterable[str]) -> str | None:
    counts = Counter(items)
    return counts.most_common(1)[0][0] if counts else None


def _most_common_name(text: str, lowered_words: set[str]) -> str | None:
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for match in _CAPITALISED_RUN.finditer(text):
        tokens = [_POSSESSIVE.sub("", t) for t in match.group(0).split()]
        # Drop sentence-initial common words ("As Bakhyt Camara took ...").
        while tokens and (
            tokens[0].casefold() in _FUNCTION_WORDS or tokens[0].casefold() in lowered_words
        ):
            tokens.pop(0)
        if 2 <= len(tokens) <= 3:
            name = " ".join(tokens)
            counts[name] += 1
            first_seen.setdefault(name, match.start())
    if not counts:
        return None
    return max(counts, key=lambda n: (counts[n], -first_seen[n]))
