"""Which language a question is in, from its script alone: cheap and dependable.

The stories are English; the questions we expect besides English are Russian and
Kazakh. Both are written in Cyrillic, and Kazakh has nine letters Russian lacks
(ә ғ қ ң ө ұ ү һ і), so the script decides without a model: a question with
Cyrillic letters is Kazakh when it has one of those letters or one of a few common
Kazakh words written without them, and Russian otherwise. Everything else is English.
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["en", "ru", "kk"]
LANGUAGES: tuple[Language, ...] = ("en", "ru", "kk")

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
# Kazakh words people type on a Russian keyboard (without the Kazakh letters) that are
# no Russian words: question words and the yes/no particles.
_KAZAKH_WORDS = frozenset(
    [
        "кім",
        "кимге",
        "кімге",
        "кайда",
        "қайда",
        "калай",
        "кандай",
        "канша",
        "неге",
        "ме",
        "ма",
        "ба",
        "бе",
        "па",
        "пе",
        "туралы",
        "жоқ",
        "және",
        "мен",
        "сен",
        "ол",
        "біз",
        "сіз",
        "барма",
        "ойнады",
        "ойнайды",
        "туылган",
        "туылды",
    ]
)
_WORD = re.compile(r"[^\W\d_]+")


def has_cyrillic(text: str) -> bool:
    """Whether ``text`` has at least one Cyrillic letter."""
    return _CYRILLIC.search(text) is not None


def detect(text: str) -> Language:
    """``"kk"``, ``"ru"`` or ``"en"``, from the script of ``text`` (see the module)."""
    if not has_cyrillic(text):
        return "en"
    if _KAZAKH_LETTERS.search(text):
        return "kk"
    words = {w.casefold() for w in _WORD.findall(text)}
    return "kk" if words & _KAZAKH_WORDS else "ru"
