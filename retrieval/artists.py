"""Which stories a question names, by artist, band or alias.

Names come from story metadata when the author gives it, otherwise from the text
(:mod:`retrieval.derived_names`). The :class:`ArtistMatcher` finds them in questions,
tolerant of case, accents and typos ("talgat baktybekva", "steppe serenaders"), and
initials however they are dotted ("A. N.", "A.N.", "AN"; see :mod:`retrieval.names`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import accumulate

from rapidfuzz import fuzz, process

from retrieval import names
from retrieval.results import StoryInfo
from retrieval.text import fold

FUZZY_CUTOFF = 82.0
MIN_FUZZY_LENGTH = 5
_POSSESSIVE_AT = re.compile(r"['’]s\b")


class ArtistMatcher:
    """Finds the stories a question names, by artist, band or alias."""

    def __init__(
        self,
        stories: Sequence[StoryInfo],
        vocabulary: Iterable[str] = (),
        lexicon: Iterable[str] = (),
    ) -> None:
        # Each name's stories in story order, so that stories named equally well come in
        # the same order every time (a set's order changes from one process to the next).
        owners: dict[str, dict[str, None]] = {}
        initials: dict[str, bool] = {}
        for story in stories:
            for name in story.names:
                key = names.key(name)
                if key:
                    owners.setdefault(key, {})[story.story_id] = None
                    initials[key] = initials.get(key, True) and names.is_initials(name)
        primary = {names.key(n) for s in stories for n in (s.artist, s.band) if n}
        # An alias two stories share names neither; full names stay.
        self._owner = {
            key: tuple(ids) for key, ids in owners.items() if len(ids) == 1 or key in primary
        }
        # Names made of initials ("A. N."), matched only where a question writes them so.
        self._initials = frozenset(key for key in self._owner if initials[key])
        self._by_length: dict[int, list[str]] = {}
        for key in self._owner:
            self._by_length.setdefault(len(key.split()), []).append(key)
        # What a window must hold to be compared: a name's first word (a window that is a
        # name starts with it), and for a near match, names long enough to be misspelt.
        self._first_words = frozenset(_first_word(key) for key in self._owner)
        self._fuzzy_keys = {
            length: [k for k in keys if len(k) >= MIN_FUZZY_LENGTH and k not in self._initials]
            for length, keys in self._by_length.items()
        }
        # Words of the stories, and of the language: a window made only of them is read as
        # words, not as a misspelt name ("condor" is a bird, not a typo for "Condori").
        self._vocabulary = frozenset(fold(w) for w in vocabulary)
        self._lexicon = frozenset(fold(w) for w in lexicon)

    @classmethod
    def folded(
        cls, stories: Sequence[StoryInfo], vocabulary: frozenset[str], lexicon: frozenset[str]
    ) -> ArtistMatcher:
        """A matcher whose ``vocabulary`` and ``lexicon`` are folded already (see
        :mod:`retrieval.vocabulary`): opening a large index folds no word again."""
        matcher = cls(stories)
        matcher._vocabulary = vocabulary
        matcher._lexicon = lexicon
        return matcher

    def find(self, question: str) -> list[tuple[str, float]]:
        """Story ids the question names, with a match quality in (0, 1], best first.

        Initials ("A. N.") name a story where the question writes them as initials:
        "A. N.", "A.N.", "a.n.", or "AN" / "A N" in capitals (in a question not all in
        capitals). Written plainly ("an", "a n") they count only when those letters are no
        word of the stories or of the language: "what does an artist play" names nobody.
        """
        words = names.tokens(question)
        texts = [t.text for t in words]
        # How many of the first i words are no word of the stories (a folded word may hold a
        # space: NFKD). A window of the stories' words only reads as words, not as a name.
        unknown = list(
            accumulate(
                (not all(w in self._vocabulary for w in t.split()) for t in texts), initial=0
            )
        )
        heads = [_first_word(t) in self._first_words for t in texts]
        best: dict[str, float] = {}
        for length, candidates in self._fuzzy_keys.items():
            fuzzy: list[str] = []
            for i in range(len(texts) - length + 1):
                misspelt = bool(candidates) and unknown[i + length] > unknown[i]
                if not (heads[i] or misspelt):
                    continue  # neither a name nor a misspelt one
                window = " ".join(texts[i : i + length])
                if window in self._owner:
                    if self._written_as_name(window, words[i : i + length]):
                        self._credit(best, window, 1.0)
                elif (
                    misspelt
                    and len(window) >= MIN_FUZZY_LENGTH
                    and not (length == 1 and window in self._lexicon)
                ):
                    fuzzy.append(window)
            if fuzzy:
                self._fuzzy(best, fuzzy, candidates)
        return sorted(best.items(), key=lambda item: -item[1])

    def without_initials(self, question: str, story_ids: Collection[str]) -> str:
        """``question`` (NFC) without the initials in it that name one of ``story_ids``.

        The letters of "A. N." are no words to remove elsewhere: "a" is an article.
        """
        text = names.normalise(question)
        spans = [
            (window[0].start, _past_possessive(text, window[-1].end))
            for key, window in self._exact(names.tokens(text))
            if key in self._initials and not set(self._owner[key]).isdisjoint(story_ids)
        ]
        for start, end in reversed(spans):
            text = text[:start] + " " + text[end:]
        return text

    def _exact(self, words: list[names.NameToken]) -> Iterator[tuple[str, list[names.NameToken]]]:
        """The windows of ``words`` that are a name as they stand, with that name's key."""
        texts = [t.text for t in words]
        for length in self._by_length:
            for i, key in enumerate(_windows(texts, length)):
                window = words[i : i + length]
                if key in self._owner and self._written_as_name(key, window):
                    yield key, window

    def _written_as_name(self, key: str, window: list[names.NameToken]) -> bool:
        if key not in self._initials:
            return True
        return all(
            t.marked or (t.text not in self._vocabulary and t.text not in self._lexicon)
            for t in window
        )

    def _fuzzy(self, best: dict[str, float], windows: list[str], candidates: list[str]) -> None:
        scores = process.cdist(windows, candidates, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        for row, col in zip(*scores.nonzero(), strict=True):
            key = candidates[col]
            if _word_by_word(windows[row], key):
                self._credit(best, key, float(scores[row, col]) / 100.0)

    def _credit(self, best: dict[str, float], key: str, quality: float) -> None:
        for story_id in self._owner[key]:
            best[story_id] = max(best.get(story_id, 0.0), quality)


def _first_word(text: str) -> str:
    """The first word of a name's key or of a window (their words are joined by spaces)."""
    return text.split(" ", 1)[0]


def _windows(texts: list[str], length: int) -> list[str]:
    """Each run of ``length`` consecutive words, joined by spaces (a name's key form)."""
    return [" ".join(texts[i : i + length]) for i in range(len(texts) - length + 1)]


def _past_possessive(text: str, end: int) -> int:
    """``end`` moved past a possessive right after it ("A. N.'s")."""
    match = _POSSESSIVE_AT.match(text, end)
    return match.end() if match else end


def _word_by_word(window: str, key: str) -> bool:
    """Whether each word of ``window`` is the same word of ``key``, give or take a typo.

    Whole-string similarity alone lets a short word stand in for another: "the
    nightingales" is 85% like "lake nightingales", but "the" is no typo for "lake".
    Words shorter than :data:`MIN_FUZZY_LENGTH` must match exactly.
    """
    return all(
        a == b or (min(len(a), len(b)) >= MIN_FUZZY_LENGTH and fuzz.ratio(a, b) >= FUZZY_CUTOFF)
        for a, b in zip(window.split(), key.split(), strict=True)
    )
