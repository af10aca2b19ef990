"""One search in two steps around the model call: ``Engine.prepare`` and ``Engine.complete``.

``prepare`` analyses the question once (against the snapshot current at that moment)
and says which texts need vectors; whoever calls it embeds them, alone
(:meth:`Engine.search`) or batched with other questions (:mod:`retrieval.batching`);
``complete`` ranks, decides "no answer" and assembles the hits with those vectors.
A follow-up (``prefer_story``) is ranked within that story first and, when nothing
there is relevant, across all stories: one analysis and one embedding serve both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np

from retrieval import answers, relevance
from retrieval.analysis import Query, analyse, has_words
from retrieval.embedding import Encoder
from retrieval.ranking import Ranked, lexical_scores, rank
from retrieval.results import Answer, StoryInfo
from retrieval.settings import RetrievalSettings
from retrieval.snapshot import Snapshot

NO_MATCH = "nothing in the stories matches this question closely enough"
UNKNOWN_STORY = "that story is not in the index (any more)"
EMPTY_QUESTION = "the question has no words to search for"


class SearchArgs(TypedDict, total=False):
    """The keyword arguments of :class:`SearchOptions`, for the facade's signatures."""

    k: int | None
    offset: int
    story_id: str | None
    prefer_story: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchOptions:
    """How to answer one question."""

    k: int | None = None  # passages per answer (default: settings.top_k)
    offset: int = 0  # passages to skip ("more")
    story_id: str | None = None  # search this story only
    prefer_story: str | None = None  # a follow-up: this story first, if the question names none


@dataclass(frozen=True, slots=True)
class Prepared:
    """A question analysed and waiting for its vectors."""

    question: str
    options: SearchOptions
    snapshot: Snapshot
    query: Query | None  # None: nothing to search for
    started: float = field(default_factory=time.perf_counter)

    @property
    def texts(self) -> tuple[str, ...]:
        """The texts :meth:`Engine.complete` needs vectors for."""
        return self.query.texts if self.query is not None else ()


class Engine:
    """Searches whatever snapshot ``current`` returns; stateless and thread-safe."""

    def __init__(self, settings: RetrievalSettings, current: Callable[[], Snapshot]) -> None:
        self.settings = settings
        self._current = current

    def prepare(self, question: str, options: SearchOptions | None = None) -> Prepared:
        """Analyse ``question`` once, against the current snapshot."""
        snapshot = self._current()
        question = question.strip()
        query = (
            analyse(snapshot, question, without_names=self.settings.rank_without_names)
            if has_words(question)
            else None
        )
        return Prepared(question, options or SearchOptions(), snapshot, query)

    def search(
        self, question: str, encoder: Encoder, options: SearchOptions | None = None
    ) -> Answer:
        """Answer one question now, embedding it alone (the batcher embeds many at once)."""
        prepared = self.prepare(question, options)
        texts = list(prepared.texts)
        vectors = dict(zip(texts, encoder.encode_queries(texts), strict=True)) if texts else {}
        return self.complete(prepared, vectors)

    def complete(self, prepared: Prepared, vectors: Mapping[str, np.ndarray]) -> Answer:
        """Rank, decide and assemble the answer to a prepared question with its vectors."""
        snapshot, query, options = prepared.snapshot, prepared.query, prepared.options
        if query is None:
            return Answer(question=prepared.question, reason=EMPTY_QUESTION)
        if options.story_id is not None and options.story_id not in snapshot.passages_of:
            return Answer(question=query.question, reason=UNKNOWN_STORY)
        settings = self.settings
        started = time.perf_counter()
        vector = np.asarray(vectors[query.searched], dtype=np.float32)
        # A question that names a story is ranked by the rest of its words (see Query).
        ranking = np.asarray(vectors[query.rest], dtype=np.float32) if query.rest else vector
        whole = vector if query.rest else None
        lexical = lexical_scores(snapshot, query)

        def ranked_within(story_id: str | None) -> list[Ranked]:
            return rank(snapshot, settings, query, ranking, lexical, whole=whole, within=story_id)

        def answerable(ranked: list[Ranked], *, named: bool) -> bool:
            return relevance.answerable(
                snapshot, settings, ranked, query.searched, vector, named=named
            )

        preferred = self._preferred(snapshot, query, options)
        if preferred is not None:
            ranked = ranked_within(preferred.story_id)
            if answerable(ranked, named=False):
                return self._answer(prepared, ranked, ranking, started, followed=preferred)
        ranked = ranked_within(options.story_id)
        if not answerable(ranked, named=bool(query.mentioned) and options.story_id is None):
            return Answer(
                question=query.question,
                mentioned=query.stories,
                reason=NO_MATCH,
                corrected=query.corrected,
                timings_ms=_timings(prepared, started),
            )
        return self._answer(prepared, ranked, ranking, started)

    def _preferred(
        self, snapshot: Snapshot, query: Query, options: SearchOptions
    ) -> StoryInfo | None:
        """The follow-up story to try first: only for a question that names no story."""
        if options.story_id is not None or query.mentioned or options.prefer_story is None:
            return None
        return snapshot.stories.get(options.prefer_story)

    def _answer(
        self,
        prepared: Prepared,
        ranked: list[Ranked],
        vector: np.ndarray,
        started: float,
        *,
        followed: StoryInfo | None = None,
    ) -> Answer:
        query, options = prepared.query, prepared.options
        assert query is not None
        k = options.k or self.settings.top_k
        page = ranked[options.offset : options.offset + k]
        return Answer(
            question=query.question,
            hits=answers.hits(prepared.snapshot, page, query, vector),
            mentioned=query.stories,
            remaining=max(0, len(ranked) - options.offset - len(page)),
            corrected=query.corrected,
            followed=followed,
            timings_ms=_timings(prepared, started),
        )


def _timings(prepared: Prepared, ranking_started: float) -> dict[str, float]:
    now = time.perf_counter()
    return {"rank": (now - ranking_started) * 1e3, "total": (now - prepared.started) * 1e3}
