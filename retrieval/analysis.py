"""Question analysis: spelling, the names a question mentions, the words without them.

A question is analysed once (:func:`analyse`), and the resulting :class:`Query`
serves everything after it: the texts to embed, the lexical terms, the story
boost, and the follow-up and open rankings alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.names import is_initials
from retrieval.results import StoryInfo
from retrieval.snapshot import Snapshot
from retrieval.text import fold
from retrieval.transliteration import latinise


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


def analyse(snapshot: Snapshot, question: str, *, without_names: bool = True) -> Query:
    """Analyse ``question`` against ``snapshot``'s vocabulary and names."""
    question = question.strip()
    searched = snapshot.speller.correct(question)
    # Names written in Cyrillic are looked for in Latin letters ("Бахыт" is "Bakhyt").
    named = latinise(searched, snapshot.name_words)
    mentioned = tuple((snapshot.stories[s], q) for s, q in snapshot.matcher.find(named))
    rest = (
        _without_names(snapshot, searched, [info for info, _ in mentioned])
        if mentioned and without_names
        else None
    )
    terms = tuple(snapshot.lexical.terms(searched))
    return Query(question, searched, mentioned, rest, terms)


def _without_names(snapshot: Snapshot, question: str, stories: Sequence[StoryInfo]) -> str | None:
    """The question without the words of the stories' names, if at least two words remain.

    Initials ("A. N.") go where the question writes them as initials, not as letters:
    the "a" of "A. N." is no name elsewhere in the question.
    """
    left = snapshot.matcher.without_initials(question, {story.story_id for story in stories})
    names = {
        w
        for story in stories
        for n in story.names
        if not is_initials(n)
        for w in re.findall(r"\w+", fold(n))
    }
    rest = [
        w
        for w in re.findall(r"[\w'’]+", left)
        if _bare(latinise(w, snapshot.name_words)) not in names
    ]
    return " ".join(rest) if len(rest) >= 2 and len(rest) < len(question.split()) else None


def _bare(word: str) -> str:
    return re.sub(r"['’]s$", "", fold(word))
