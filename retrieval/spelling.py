"""“Did you mean”: correcting misspelt question words against the corpus vocabulary.

Only words that are neither in the corpus nor real words (in the model's lexicon)
are corrected, so "perfom" becomes "perform" but "beginner" stays "beginner".
"""

from __future__ import annotations

import re
from bisect import insort
from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from retrieval.text import fold

_WORD = re.compile(r"[^\W\d_]+")
MIN_LENGTH = 5


def max_edits(word: str) -> int:
    """Edits tolerated in a word: one up to seven letters, two beyond."""
    return 1 if len(word) <= 7 else 2


class Speller:
    """Replaces question words the corpus never uses by a corpus word one or two edits away."""

    def __init__(self, vocabulary: Iterable[str], lexicon: Iterable[str] = ()) -> None:
        """``vocabulary``: the corpus's words; ``lexicon``: real words never to correct."""
        words = frozenset(fold(w) for w in vocabulary if len(w) >= MIN_LENGTH - 1)
        self._setup(words, frozenset(fold(w) for w in lexicon))

    @classmethod
    def folded(cls, words: frozenset[str], lexicon: frozenset[str]) -> Speller:
        """A speller of words already kept and folded as the constructor keeps them
        (:func:`retrieval.vocabulary.spelling_words`), and of a folded lexicon."""
        speller = cls.__new__(cls)
        speller._setup(words, lexicon)
        return speller

    def updated(self, words: frozenset[str], lexicon: frozenset[str]) -> Speller:
        """The speller :meth:`folded` makes of ``words`` and ``lexicon``, made from this one:
        only the words added or gone since are placed (an update of squad-scale touches a
        few hundred of its 70,000 words; placing them all again took 0.08-0.14 s)."""
        if lexicon != self._lexicon:
            return Speller.folded(words, lexicon)
        speller = Speller.__new__(Speller)
        speller._words, speller._lexicon = words, lexicon
        speller._known = words | lexicon
        buckets = speller._buckets = dict(self._buckets)  # lists copied where they change
        touched: set[tuple[str, int]] = set()

        def bucket(word: str) -> list[str]:
            key = (word[0], len(word))
            if key not in touched:
                touched.add(key)
                buckets[key] = list(buckets.get(key, ()))
            return buckets[key]

        for word in self._words - words:
            bucket(word).remove(word)
        for word in words - self._words:
            insort(bucket(word), word)
        for key in touched:
            if not buckets[key]:
                del buckets[key]
        return speller

    def _setup(self, words: frozenset[str], lexicon: frozenset[str]) -> None:
        self._words, self._lexicon = words, lexicon
        self._known = words | lexicon
        buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted(words):
            buckets[(word[0], len(word))].append(word)
        self._buckets = dict(buckets)

    def correct(self, text: str) -> str:
        """``text`` with misspelt words replaced; unchanged when nothing needs correcting."""
        return _WORD.sub(lambda m: self._word(m.group(0)), text)

    def _word(self, word: str) -> str:
        folded = fold(word)
        if len(folded) < MIN_LENGTH or folded in self._known:
            return word
        limit = max_edits(folded)
        candidates = [
            w
            for size in range(len(folded) - limit, len(folded) + limit + 1)
            for w in self._buckets.get((folded[0], size), ())
        ]
        if not candidates:
            return word
        best = process.extractOne(folded, candidates, scorer=OSA.distance, score_cutoff=limit)
        return best[0] if best is not None else word
