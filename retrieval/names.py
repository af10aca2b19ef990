"""How names are written: words and initials, the same way in names and in questions.

A name and a question are split into the same tokens, so "A. N.", "A.N." and "AN"
all become the token ``an``, and "O'Brien", "AC/DC" or "Jean-Luc" are read alike in
a story's header and in a question. Whether a token was *written as initials*
(:attr:`NameToken.marked`) is kept: it is what tells the initials "AN" from the
article "an" (see :meth:`retrieval.artists.ArtistMatcher.find`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from retrieval.text import fold

_WORD = re.compile(r"\w+")
# "Talgat's", "A. N.'s": the possessive is not part of the name.
_POSSESSIVE = re.compile(r"(?<=[\w.])['’]s\b")
# What may stand between two initials: a dot, spaces, or both ("A. N.", "A.N.", "A N").
_BETWEEN_INITIALS = re.compile(r"\.?\s*")
# A name in capitals this short is read as initials ("AN", "TB"); longer ones are words ("ABBA").
MAX_CAPITAL_INITIALS = 3


@dataclass(frozen=True, slots=True)
class NameToken:
    """One word of a name or question, folded; a run of initials is one token."""

    text: str  # folded: "an" for "A. N."
    start: int  # character span in the NFC-normalised text, covering a run's last dot
    end: int
    initials: bool  # a run of two or more single letters ("A. N.", "A.N.", "A N")
    marked: bool  # written as initials: with dots, or in capitals in a text not all in capitals


def normalise(text: str) -> str:
    """The form :func:`tokens` gives spans in (Unicode NFC)."""
    return unicodedata.normalize("NFC", text)


def tokens(text: str) -> list[NameToken]:
    """The tokens of ``text``: words folded (case, accents), initials joined, possessives off.

    Capitals mark initials ("what does AN play") unless the whole text is in capitals
    ("WHAT DOES AN ARTIST PLAY"), where they say nothing; dots always do.
    """
    text = _POSSESSIVE.sub(lambda m: " " * len(m.group()), normalise(text))
    words = list(_WORD.finditer(text))
    shouted = len(words) > 1 and not any(c.islower() for c in text)
    out: list[NameToken] = []
    run: list[re.Match[str]] = []

    def flush() -> None:
        if len(run) >= 2:
            gaps = [text[a.end() : b.start()] for a, b in pairwise(run)]
            dotted = all("." in gap for gap in gaps)
            capitals = not shouted and all(m.group().isupper() for m in run)
            end = run[-1].end() + (text[run[-1].end() : run[-1].end() + 1] == ".")
            text_ = "".join(fold(m.group()) for m in run)
            out.append(NameToken(text_, run[0].start(), end, True, dotted or capitals))
        else:
            out.extend(_word(m, shouted=shouted) for m in run)
        run.clear()

    for match in words:
        letter = len(match.group()) == 1 and match.group().isalpha()
        follows = bool(run) and _BETWEEN_INITIALS.fullmatch(text, run[-1].end(), match.start())
        if run and not (letter and follows):
            flush()
        if letter:
            run.append(match)
        else:
            out.append(_word(match, shouted=shouted))
    flush()
    return out


def _word(match: re.Match[str], *, shouted: bool) -> NameToken:
    word = match.group()
    capitals = not shouted and len(word) >= 2 and word.isalpha() and word.isupper()
    return NameToken(fold(word), match.start(), match.end(), False, capitals)


# Stories' names are looked up again for every snapshot (every update): remembered.
NAMES_REMEMBERED = 8192


@lru_cache(maxsize=NAMES_REMEMBERED)
def key(name: str) -> str:
    """The form a name is looked up by: its tokens' texts, space-separated."""
    return " ".join(t.text for t in tokens(name))


@lru_cache(maxsize=NAMES_REMEMBERED)
def is_initials(name: str) -> bool:
    """Whether ``name`` is only initials: "A. N.", "A.N.", "A N", or a short capital word ("AN").

    Such a name matches a question only where it is written as initials, or where its
    letters make no ordinary word (see :meth:`retrieval.artists.ArtistMatcher.find`).
    """
    parts = tokens(name)
    if not parts:
        return False
    if all(t.initials for t in parts):
        return True
    only = parts[0]
    return len(parts) == 1 and only.marked and len(only.text) <= MAX_CAPITAL_INITIALS
