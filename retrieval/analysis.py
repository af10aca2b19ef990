"""Question analysis: spelling, the names a question mentions, the words without them.

A question is analysed once (:func:`analyse`), and the resulting :class:`Query`
serves everything after it: the texts to embed, the lexical terms, the story
boost, and the follow-up and open rankings alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from retrieval import related
from retrieval.lexical import short_terms
from retrieval.names import is_initials
from retrieval.results import StoryInfo
from retrieval.snapshot import Snapshot
from retrieval.text import fold
from retrieval.transliteration import latinise

_LETTERS = re.compile(r"[^\W\d_]+")
# What a band's name leaves in the question's rest (see _without_names).
BAND = ("the", "band")


@dataclass(frozen=True, slots=True)
class Query:
    """A question as it is searched.

    A question that names a story is ranked by the rest of its words (``rest``): the
    names already chose the story (boost), and would make all its passages look alike.
    """

    question: str  # as asked, trimmed
    searched: str  # misspelt words corrected
    mentioned: tuple[tuple[StoryInfo, float], ...]  # named stories and match quality, best first
    rest: str | None  # the question without those names, when enough is left
    terms: tuple[str, ...]  # lexical terms of ``searched`` known to the corpus
    # Terms the stories use for words of ``searched`` they never use, with their weights
    # (see retrieval.related): "grandmother" for "granny".
    related: tuple[tuple[str, float], ...] = ()

    @property
    def texts(self) -> tuple[str, ...]:
        """The texts to embed: the question as searched, and its rest if any."""
        return (self.searched, self.rest) if self.rest else (self.searched,)

    @property
    def corrected(self) -> str | None:
        """The corrected question, when spelling changed it."""
        return self.searched if self.searched != self.question else None

    @property
    def stories(self) -> tuple[StoryInfo, ...]:
        """The stories the question names, best match first."""
        return tuple(info for info, _ in self.mentioned)


def has_words(question: str) -> bool:
    """Whether ``question`` has anything to search for."""
    return any(c.isalnum() for c in question)


def analyse(
    snapshot: Snapshot, question: str, *, without_names: bool = True, english: bool = True
) -> Query:
    """Analyse ``question`` against ``snapshot``'s vocabulary and names.

    A question in another language (``english`` false) keeps its own words: no English
    placeholder for a band's name, no English words related to its own.
    """
    question = question.strip()
    searched = snapshot.speller.correct(question)
    # Names written in Cyrillic are looked for in Latin letters ("Бахыт" is "Bakhyt").
    named = latinise(searched, snapshot.name_words)
    mentioned = tuple((snapshot.stories[s], q) for s, q in snapshot.matcher.find(named))
    rest = (
        _without_names(
            snapshot, searched, [info for info, _ in mentioned], band=BAND if english else ()
        )
        if mentioned and without_names
        else None
    )
    terms = tuple(snapshot.lexical.terms(searched))
    near = _related(snapshot, searched) if english else ()
    return Query(question, searched, mentioned, rest, terms, near)


def _related(snapshot: Snapshot, searched: str) -> tuple[tuple[str, float], ...]:
    """The stories' terms for the question's words they never use, each at its best cosine."""
    if snapshot.neighbours is None:
        return ()
    lexical = snapshot.lexical
    unknown = [
        word
        for word in dict.fromkeys(_LETTERS.findall(fold(searched)))
        if (own := short_terms(word)) and lexical.idf(own[0]) == 0  # no story uses it
    ]
    if not unknown:
        return ()
    words = unknown[: related.MAX_WORDS]

    terms: dict[str, str | None] = {}  # a neighbour: its term, if a story uses it

    def known(other: str) -> bool:
        if other not in terms:
            own = short_terms(other)
            terms[other] = own[0] if own and lexical.idf(own[0]) > 0 else None
        return terms[other] is not None

    weights: dict[str, float] = {}
    for near in snapshot.neighbours.related(words, known).values():
        for other, cosine in near:  # known, so never the word's own (unknown) term
            term = terms[other]
            assert term is not None
            weights[term] = max(weights.get(term, 0.0), cosine)
    return tuple(weights.items())


def _without_names(
    snapshot: Snapshot,
    question: str,
    stories: Sequence[StoryInfo],
    *,
    band: tuple[str, ...] = BAND,
) -> str | None:
    """The question without the words of the stories' names, if at least two words remain.

    A band's name leaves ``band`` ("the band"; nothing in a question in another language)
    in its place: "who did the steppe serenaders play for" is asked as "who did the band
    play for", which MiniLM finds close to "they were about to perform for the president"
    (0.40) where "who did play for" was not (0.21); the seed set's hit@1 rose from 0.67 to
    0.71 with it (docs/BENCHMARKS.md, session 11).

    Initials ("A. N.") go where the question writes them as initials, not as letters: the
    "a" of "A. N." is no name elsewhere in the question.
    """
    left = snapshot.matcher.without_initials(question, {story.story_id for story in stories})
    names = _name_words(n for story in stories for n in story.names)
    band_only = _name_words(s.band for s in stories) - _name_words(s.artist for s in stories)
    rest: list[str] = []
    placed = False
    for word in re.findall(r"[\w'’]+", left):
        bare = _bare(latinise(word, snapshot.name_words))
        if bare not in names:
            rest.append(word)
        elif bare in band_only and band and not placed:
            rest.extend(band)
            placed = True
    kept = len(rest) - (len(band) if placed else 0)
    return " ".join(rest) if kept >= 2 and kept < len(question.split()) else None


def _name_words(names: Iterable[str | None]) -> set[str]:
    """The folded words of ``names`` written out (initials are matched apart)."""
    return {w for n in names if n and not is_initials(n) for w in re.findall(r"\w+", fold(n))}


def _bare(word: str) -> str:
    return re.sub(r"['’]s$", "", fold(word))
