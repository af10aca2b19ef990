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
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain

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


@dataclass(frozen=True, slots=True)
class Holders:
    """How many stories hold each word: what an update takes a dropped story's words from."""

    tokens: tuple[list[str], list[int]]  # words, and the stories holding each
    spelling: tuple[list[str], list[int]]

    @classmethod
    def count(cls, parts: Iterable[StoryWords]) -> Holders:
        """The holders of the words of ``parts`` (one per story)."""
        parts = list(parts)
        return cls.of(
            Counter(chain.from_iterable(p.tokens for p in parts)),
            Counter(chain.from_iterable(p.spelling for p in parts)),
        )

    @classmethod
    def of(cls, tokens: Counter[str], spelling: Counter[str]) -> Holders:
        """Holders from counts of stories per word (words held by none are left out)."""
        tokens, spelling = +tokens, +spelling
        return cls((list(tokens), list(tokens.values())), (list(spelling), list(spelling.values())))

    @property
    def words(self) -> StoryWords:
        """The words held."""
        return StoryWords(frozenset(self.tokens[0]), frozenset(self.spelling[0]))

    def changed(self, dropped: Iterable[StoryWords], added: Iterable[StoryWords]) -> Holders:
        """The holders once the stories ``dropped`` are gone and ``added`` are in."""
        dropped, added = list(dropped), list(added)
        lists = []
        for (words, holders), field in ((self.tokens, "tokens"), (self.spelling, "spelling")):
            count = dict(zip(words, holders, strict=True))
            for story in dropped:
                for word in getattr(story, field):
                    left = count.pop(word, 0) - 1
                    if left > 0:
                        count[word] = left
            for story in added:
                for word in getattr(story, field):
                    count[word] = count.get(word, 0) + 1
            lists.append((list(count), list(count.values())))
        return Holders(lists[0], lists[1])


@cache
@lru_cache(maxsize=4)
def folded(words: frozenset[str]) -> frozenset[str]:
    """``words`` folded, once per process (the model's lexicon: the same at every snapshot;
    0.05 s of each snapshot at squad-scale when folded again)."""
    return frozenset(fold(w) for w in words)
