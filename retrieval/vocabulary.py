"""The words of the stories that names and spelling look up, computed once per story.

The name matcher (:class:`~retrieval.artists.ArtistMatcher`) reads a window of a question
as words, not as a misspelt name, when every word of it is a word of the stories; the
speller (:class:`~retrieval.spelling.Speller`) corrects question words towards the
stories' words. Both used to fold every word of every passage when an index was opened
(1.8 s of squad-scale's 7.5 s open); now each story's folded words are computed when its
segment is written (:mod:`retrieval.segments`) and an index's are the union of its
stories' (:mod:`retrieval.pack`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from retrieval.spelling import MIN_LENGTH
from retrieval.text import fold

_LETTERS = re.compile(r"[^\W\d_]+")
# The speller keeps the stories' words one letter shorter than those it corrects.
SPELLING_MIN_LENGTH = MIN_LENGTH - 1


@dataclass(frozen=True, slots=True)
class StoryWords:
    """Folded words of some passages: what the name matcher and the speller look up."""

    # Each whitespace-separated word, lower-cased, then folded (ArtistMatcher's vocabulary).
    tokens: frozenset[str]
    # Each run of letters of at least SPELLING_MIN_LENGTH, lower-cased, then folded (Speller's).
    spelling: frozenset[str]


def story_words(texts: Sequence[str]) -> StoryWords:
    """The folded words of one story's passages (``texts``)."""
    tokens = {w for text in texts for w in text.lower().split()}
    letters = {w for text in texts for w in _LETTERS.findall(text.lower())}
    return StoryWords(
        tokens=frozenset(map(fold, tokens)),
        spelling=spelling_words(letters),
    )


def spelling_words(words: Iterable[str]) -> frozenset[str]:
    """``words`` as the speller keeps them: long enough, folded."""
    return frozenset(fold(w) for w in words if len(w) >= SPELLING_MIN_LENGTH)


def union(parts: Iterable[StoryWords]) -> StoryWords:
    """The words of all ``parts`` together."""
    tokens: set[str] = set()
    spelling: set[str] = set()
    for part in parts:
        tokens.update(part.tokens)
        spelling.update(part.spelling)
    return StoryWords(frozenset(tokens), frozenset(spelling))


@cache
def folded(words: frozenset[str]) -> frozenset[str]:
    """``words`` folded, once per process (the model's lexicon: the same at every open)."""
    return frozenset(fold(w) for w in words)
