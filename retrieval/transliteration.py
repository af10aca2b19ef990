"""Cyrillic names read in Latin letters, so that "Бахыт Камара" finds "Bakhyt Camara".

Letters are transliterated by anyascii (Russian and Kazakh letters alike: қ → q,
ң → ng, ә → a). A Russian or Kazakh name is also inflected ("Камары", "Камараның",
"Бактыбековой"), and Kazakh romanisations vary (q or k, gh or g), so each Cyrillic
word is read in a few plausible Latin forms, and the one closest to a word of the
stories' names is kept (:func:`latinise`). The typo-tolerant matching itself stays in
:class:`retrieval.artists.ArtistMatcher`; this module only decides the Latin spelling.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from anyascii import anyascii
from rapidfuzz import fuzz, process

from retrieval.languages import has_cyrillic

_WORD = re.compile(r"\w+|\W+")
# Endings of Russian and Kazakh cases (genitive, dative, accusative, instrumental,
# possessive), longest first: "Камараның" → "Камара", "Бактыбековой" → "Бактыбеков".
_ENDINGS = sorted(
    [
        "ның",
        "нің",
        "дың",
        "дің",
        "тың",
        "тің",
        "ға",
        "ге",
        "қа",
        "ке",
        "на",
        "не",
        "ны",
        "ні",
        "ды",
        "ді",
        "ты",
        "ті",
        "да",
        "де",
        "та",
        "те",
        "нан",
        "нен",
        "дан",
        "ден",
        "тан",
        "тен",
        "мен",
        "бен",
        "пен",
        "сы",
        "сі",
        "ой",
        "ою",
        "ей",
        "ом",
        "ым",
        "ым",
        "ы",
        "и",
        "у",
        "е",
        "а",
        "ю",
        "я",
    ],
    key=len,
    reverse=True,
)
# How a stem may be completed: a feminine name in -а/-ова loses that vowel when inflected.
_COMPLETIONS = ("", "a", "ova")
# Kazakh romanisations people and stories use besides anyascii's.
_VARIANTS = (("q", "k"), ("gh", "g"), ("ng", "n"), ("kh", "h"), ("k", "c"))
# A form counts as a name word only this close to it (rapidfuzz ratio).
NAME_CUTOFF = 82.0


def to_latin(text: str) -> str:
    """``text`` with every Cyrillic letter transliterated (other characters kept)."""
    return anyascii(text) if has_cyrillic(text) else text


def latinise(text: str, name_words: Collection[str]) -> str:
    """``text`` in Latin letters, each Cyrillic word spelt as the name word it is closest to.

    ``name_words`` are the folded words of the stories' names ("bakhyt", "camara").
    A Cyrillic word that is close to none of them is plainly transliterated. Word
    boundaries are kept: the n-th word of the result is the n-th word of ``text``.
    """
    if not has_cyrillic(text):
        return text
    choices = sorted(set(name_words))
    return "".join(_word(part, choices) for part in _WORD.findall(text))


def _word(part: str, choices: list[str]) -> str:
    if not has_cyrillic(part) or not part[0].isalnum():
        return part
    plain = anyascii(part)
    if not choices:
        return plain
    scores = process.cdist(_forms(part.casefold()), choices, scorer=fuzz.ratio)
    _, column = divmod(int(scores.argmax()), len(choices))
    if scores.max() < NAME_CUTOFF:
        return plain
    name = choices[column]
    return name if part[:1].islower() else name.capitalize()


def _forms(word: str) -> list[str]:
    """Plausible Latin spellings of a Cyrillic word that may be an inflected name."""
    stems = [word]
    stems += [word[: -len(e)] for e in _ENDINGS if word.endswith(e) and len(word) > len(e) + 2]
    forms = {anyascii(stem).lower() + end for stem in stems for end in _COMPLETIONS}
    for a, b in _VARIANTS:
        forms |= {f.replace(a, b) for f in forms}
    return sorted(forms)
