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
from retrieval.languages import detect
from retrieval.ranking import Ranked, lexical_scores, rank
from retrieval.results import Answer, StoryInfo
from retrieval.settings import RetrievalSettings
from retrieval.snapshot import Snapshot

NO_MATCH = "nothing in the stories matches this question closely enough"
UNKNOWN_STORY = "that story is not in the index (any more)"
EMPTY_QUESTION = "the question has no words to search for"
# A follow-up leaves the chat's story when another story's passage holds at least this
# much more of the question's term weight (idf share; see relevance.coverage).
FOLLOW_UP_COVERAGE_MARGIN = 0.5
# ... and is about as close in meaning: its relevance at most this much lower. Differences
# this small are noise for MiniLM: pooled passage vectors moved relevance by up to 0.08.
FOLLOW_UP_RELEVANCE_TIE = 0.05


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
    # The multilingual path: this encoder embeds the question in complete(), not the batcher.
    encoder: Encoder | None = None

    @property
    def texts(self) -> tuple[str, ...]:
        """The texts :meth:`Engine.complete` needs vectors for (from the main encoder)."""
        if self.query is None or self.encoder is not None:
            return ()
        return self.query.texts

    def own_vectors(self) -> dict[str, np.ndarray]:
        """The vectors of a question on the multilingual path, embedded by its own encoder."""
        if self.query is None or self.encoder is None:
            return {}
        texts = list(self.query.texts)
        return dict(zip(texts, self.encoder.encode_queries(texts), strict=True))


class Engine:
    """Searches whatever snapshot ``current`` returns; stateless and thread-safe."""

    def __init__(self, settings: RetrievalSettings, current: Callable[[], Snapshot]) -> None:
        self.settings = settings
        self._current = current

    def prepare(self, question: str, options: SearchOptions | None = None) -> Prepared:
        """Analyse ``question`` once, against the current snapshot."""
        snapshot = self._current()
        question = question.strip()
        english = detect(question) == "en"
        # A question that is not in English is searched on the multilingual view, if built.
        cross = snapshot.multilingual if not english else None
        if cross is not None:
            snapshot = cross.view
        query = (
            analyse(
                snapshot,
                question,
                without_names=self.settings.rank_without_names,
                english=english,
            )
            if has_words(question)
            else None
        )
        encoder = cross.encoder if cross is not None else None
        return Prepared(question, options or SearchOptions(), snapshot, query, encoder=encoder)

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
        if prepared.encoder is not None:
            vectors = prepared.own_vectors()
        if query is None:
            return Answer(question=prepared.question, reason=EMPTY_QUESTION)
        if options.story_id is not None and options.story_id not in snapshot.passages_of:
            return Answer(question=query.question, reason=UNKNOWN_STORY)
        started = time.perf_counter()
        scoring = _Scoring.of(snapshot, self.settings, query, vectors)
        preferred = _preferred(snapshot, query, options)
        passed_over = None
        if preferred is not None:
            everywhere = scoring.ranked()
            in_story = scoring.relevant_only(scoring.ranked(preferred.story_id))
            if in_story and not scoring.better_elsewhere(in_story[0], everywhere):
                return self._answer(prepared, scoring, in_story, started, followed=preferred)
            passed_over = preferred
        if options.story_id is not None:
            # One story's passages (a follow-up's "more"): only those relevant enough.
            ranked = scoring.relevant_only(scoring.ranked(options.story_id))
        else:
            ranked = scoring.ranked()
            if not scoring.answerable(ranked, named=bool(query.mentioned)):
                ranked = []
            elif passed_over is not None:  # the reply says that story doesn't mention it
                ranked = scoring.except_story(ranked, passed_over.story_id)
        if not ranked:
            return Answer(
                question=query.question,
                mentioned=query.stories,
                reason=NO_MATCH,
                corrected=query.corrected,
                passed_over=passed_over,
                timings_ms=_timings(prepared, started),
            )
        return self._answer(prepared, scoring, ranked, started, passed_over=passed_over)

    def _answer(
        self,
        prepared: Prepared,
        scoring: _Scoring,
        ranked: list[Ranked],
        started: float,
        *,
        followed: StoryInfo | None = None,
        passed_over: StoryInfo | None = None,
    ) -> Answer:
        query, options = prepared.query, prepared.options
        assert query is not None
        k = options.k or self.settings.top_k
        page = ranked[options.offset : options.offset + k]
        return Answer(
            question=query.question,
            hits=answers.hits(prepared.snapshot, page, query, scoring.ranking),
            mentioned=query.stories,
            remaining=max(0, len(ranked) - options.offset - len(page)),
            corrected=query.corrected,
            followed=followed,
            passed_over=passed_over,
            timings_ms=_timings(prepared, started),
        )


def _preferred(snapshot: Snapshot, query: Query, options: SearchOptions) -> StoryInfo | None:
    """The follow-up story to try first: only for a question that names no story."""
    if options.story_id is not None or query.mentioned or options.prefer_story is None:
        return None
    return snapshot.stories.get(options.prefer_story)


@dataclass(frozen=True, slots=True)
class _Scoring:
    """One question's vectors and lexical scores against one snapshot."""

    snapshot: Snapshot
    settings: RetrievalSettings
    query: Query
    vector: np.ndarray  # the question as asked: relevance is judged on it
    ranking: np.ndarray  # the question without the names it mentions, when it has some
    lexical: np.ndarray

    @classmethod
    def of(
        cls,
        snapshot: Snapshot,
        settings: RetrievalSettings,
        query: Query,
        vectors: Mapping[str, np.ndarray],
    ) -> _Scoring:
        vector = np.asarray(vectors[query.searched], dtype=np.float32)
        # A question that names a story is ranked by the rest of its words (see Query).
        ranking = np.asarray(vectors[query.rest], dtype=np.float32) if query.rest else vector
        return cls(snapshot, settings, query, vector, ranking, lexical_scores(snapshot, query))

    def ranked(self, within: str | None = None) -> list[Ranked]:
        whole = self.vector if self.query.rest else None
        return rank(
            self.snapshot,
            self.settings,
            self.query,
            self.ranking,
            self.lexical,
            relevance_weight=relevance.RELEVANCE_PASSAGE_WEIGHT,
            whole=whole,
            within=within,
        )

    def answerable(self, ranked: list[Ranked], *, named: bool) -> bool:
        return relevance.answerable(
            self.snapshot, self.settings, ranked, self.query.searched, named=named
        )

    def except_story(self, ranked: list[Ranked], story_id: str) -> list[Ranked]:
        owners = self.snapshot.data.passages.story_ids
        return [r for r in ranked if owners[r.passage_id] != story_id]

    def relevant_only(self, ranked: list[Ranked]) -> list[Ranked]:
        return [r for r in ranked if self._relevant(r)]

    def better_elsewhere(self, best: Ranked, everywhere: list[Ranked]) -> bool:
        """Whether another story answers clearly better than ``best``, its story's best.

        Clearly better: about as close in meaning (:data:`FOLLOW_UP_RELEVANCE_TIE`), and
        holding much more of the question's term weight (:data:`FOLLOW_UP_COVERAGE_MARGIN`).
        A follow-up whose words the chat's story lacks and another story holds goes there;
        one that both answer stays with the chat's story.
        """
        owners = self.snapshot.data.passages.story_ids
        story = owners[best.passage_id]
        other = next((r for r in everywhere if owners[r.passage_id] != story), None)
        if other is None or not self._relevant(other):
            return False
        closer = self._relevance(other) >= self._relevance(best) - FOLLOW_UP_RELEVANCE_TIE
        gain = self._coverage(other) - self._coverage(best)
        return closer and gain >= FOLLOW_UP_COVERAGE_MARGIN

    def _relevant(self, ranked: Ranked) -> bool:
        return relevance.passes(self.snapshot, self.settings, ranked, self.query.searched)

    def _relevance(self, ranked: Ranked) -> float:
        return ranked.relevance

    def _coverage(self, ranked: Ranked) -> float:
        present = self.snapshot.passage_terms(ranked.passage_id)
        return relevance.coverage(self.snapshot, self.query.searched, present_terms=present)


def _timings(prepared: Prepared, ranking_started: float) -> dict[str, float]:
    now = time.perf_counter()
    return {"rank": (now - ranking_started) * 1e3, "total": (now - prepared.started) * 1e3}
