"""Hybrid ranking: FAISS and BM25 candidates, scored exactly and fused.

For the union of dense and lexical candidates both scores are computed exactly
and fused as a convex combination of the cosine and the BM25 score scaled by the
best BM25 score. The words a passage shares with the question count where the
passage speaks of it: in its sentences closest to the question in meaning
(:class:`_WordsWhereSaid`). Passages from a story the question names get a boost. The
weights are settings (:class:`~retrieval.settings.RetrievalSettings`: ``dense_weight``,
``passage_weight``, ``named_question_weight``, ``artist_boost``, ``lexical_scale``).
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np

from retrieval import vectors as faiss_index
from retrieval.analysis import Query
from retrieval.lexical import short_terms
from retrieval.settings import RetrievalSettings
from retrieval.snapshot import Snapshot

# Passages kept from one ranking (enough for several pages of "more").
MAX_RESULTS = 30
# Stories named almost as well as the best one share its boost (two bands called alike).
NAMED_TIE = 0.05
# A word the question shares with a passage counts where the passage speaks of what was
# asked: in its sentences closest to the question in meaning, this many. "play" in "her
# grandmother play the balalaika" says nothing of whom a band played for. Measured against
# the closest one, two, and those above the passage's mean on the four eval sets: only
# three lost nothing anywhere (docs/BENCHMARKS.md, session 12).
WORDS_COUNT_IN = 3
# Passages scored that way, best first, until this many best are certain; the rest (later
# pages of "more") keep their passage-wide lexical score.
EXACT_TOP = 10


class Ranked(NamedTuple):
    """One ranked passage: its id, its fused, dense and lexical scores, and its relevance
    to the question as asked (what :mod:`retrieval.relevance` judges)."""

    passage_id: int
    fused: float
    dense: float
    lexical: float
    relevance: float


def lexical_scores(snapshot: Snapshot, query: Query) -> np.ndarray:
    """BM25 of every passage for the question's terms, without the names it mentions.

    The names chose the story (the boost in :func:`rank`); the other words choose the
    passage, with the stories' words for those they never use (``query.related``).
    """
    terms = _ranking_terms(snapshot, query)
    if not query.related:
        return snapshot.lexical.scores(terms)
    related = [t for t, _ in query.related]
    weights = [1.0] * len(terms) + [w for _, w in query.related]
    return snapshot.lexical.scores(terms + related, weights)


def _ranking_terms(snapshot: Snapshot, query: Query) -> list[str]:
    terms = list(query.terms)
    if query.mentioned:
        names = {t for info in query.stories for n in info.names for t in short_terms(n)}
        terms = [t for t in terms if t not in names]
    return terms


def rank(
    snapshot: Snapshot,
    settings: RetrievalSettings,
    query: Query,
    vector: np.ndarray,
    lexical: np.ndarray,
    *,
    relevance_weight: float,
    whole: np.ndarray | None = None,
    within: str | None = None,
) -> list[Ranked]:
    """Candidates by fused score, best first (at most :data:`MAX_RESULTS`).

    ``vector`` ranks; when it is the question without the names it mentions, ``whole``
    (the question as asked) keeps ``settings.named_question_weight`` of the dense score.
    ``lexical`` is :func:`lexical_scores`. ``within`` ranks one story's passages only.
    Each passage's relevance blends its cosine and its best sentence's to the question as
    asked, the passage's weighing ``relevance_weight``: from the cosines ranking computes.
    """
    if within is not None:
        candidates = snapshot.passages_of.get(within, np.empty(0, dtype=np.int64))
    else:
        candidates = _candidates(snapshot, settings, query, vector, lexical)
    if len(candidates) == 0:
        return []
    if whole is not None:
        weight = settings.named_question_weight
        cosines = Cosines.of(snapshot, candidates, np.stack([vector, whole]))
        both = cosines.blend(settings.passage_weight)
        dense = (1 - weight) * both[:, 0] + weight * both[:, 1] if weight > 0 else both[:, 0]
        closeness = cosines.sentences[:, 0]
        relevance = cosines.blend(relevance_weight)[:, 1]
    else:
        cosines = Cosines.of(snapshot, candidates, vector)
        dense = cosines.blend(settings.passage_weight)
        closeness = cosines.sentences
        relevance = cosines.blend(relevance_weight)
    lex = lexical[candidates]
    near = _WordsWhereSaid(snapshot, query, candidates, closeness, cosines.segment)
    top = _lexical_scale(snapshot, settings, query, lex, near)
    lex_scaled = lex / top if top > 0 else np.zeros_like(lex)
    lexical_part = (1 - settings.dense_weight) * lex_scaled
    fused = settings.dense_weight * dense + lexical_part
    if query.mentioned and within is None:
        best = query.mentioned[0][1]
        named = {info.story_id: q for info, q in query.mentioned if q >= best - NAMED_TIE}
        story_ids = snapshot.data.passages.story_ids
        owners = [story_ids[i] for i in candidates.tolist()]
        boost = [settings.artist_boost * named.get(o, 0.0) for o in owners]
        fused = fused + np.array(boost, dtype=np.float32)
    fused = near.cut(fused, lexical_part)
    order = np.argsort(-fused, kind="stable")[:MAX_RESULTS]
    columns = (candidates[order], fused[order], dense[order], lex[order], relevance[order])
    return [Ranked._make(row) for row in zip(*(c.tolist() for c in columns), strict=True)]


class _WordsWhereSaid:
    """Each candidate's share of the question's term weight found where the passage speaks
    of the question: in its :data:`WORDS_COUNT_IN` sentences closest to the ranking vector
    (1 for a passage of that many sentences or fewer). Computed only for the passages asked
    about, from the sentence cosines ranking computed already (:class:`Cosines`).
    """

    def __init__(
        self,
        snapshot: Snapshot,
        query: Query,
        candidates: np.ndarray,
        closeness: np.ndarray,
        segment: np.ndarray,
    ) -> None:
        weights = dict.fromkeys(_ranking_terms(snapshot, query), 1.0)
        weights.update(query.related)
        self._weights = {t: w * snapshot.lexical.idf(t) for t, w in weights.items()}
        self._snapshot = snapshot
        self._candidates = candidates
        self._closeness = closeness  # each candidate's sentences, from segment[i] on
        self._segment = segment
        self._shares: dict[int, float] = {}

    def share(self, i: int) -> float:
        """The share for candidate ``i`` (an index into the candidates)."""
        known = self._shares.get(i)
        if known is None:
            known = self._shares[i] = self._share(i)
        return known

    def best_counted(self, lex: np.ndarray) -> float:
        """The highest lexical score once cut to its share (taken best first: a cut only
        lowers a score, so the search stops at a score no higher than the best so far)."""
        best = 0.0
        for i in np.argsort(-lex, kind="stable").tolist():
            if lex[i] <= best:
                break
            best = max(best, float(lex[i]) * self.share(i))
        return best

    def cut(self, fused: np.ndarray, lexical_part: np.ndarray) -> np.ndarray:
        """``fused`` with each passage's lexical part cut to its share, best first until
        the :data:`EXACT_TOP` best are certain; the rest keep their whole lexical part."""
        out = fused.copy()
        best: list[float] = []  # the EXACT_TOP highest scores settled so far (a min-heap)
        for i in np.argsort(-fused, kind="stable").tolist():
            if len(best) == EXACT_TOP and fused[i] <= best[0]:
                break
            if lexical_part[i] > 0:
                out[i] = fused[i] - lexical_part[i] * (1.0 - self.share(i))
            if len(best) < EXACT_TOP:
                heapq.heappush(best, float(out[i]))
            else:
                heapq.heappushpop(best, float(out[i]))
        return out

    def _share(self, i: int) -> float:
        passage_id = int(self._candidates[i])
        offsets = self._snapshot.data.sentence_offsets
        count = int(offsets[passage_id + 1] - offsets[passage_id])
        if count <= WORDS_COUNT_IN:
            return 1.0
        present = self._snapshot.sentence_terms(passage_id)
        if len(present) != count:
            return 1.0
        weights = self._weights
        anywhere = frozenset().union(*present)
        held = [t for t in weights if t in anywhere]
        total = sum(weights[t] for t in held)
        if total <= 0:
            return 1.0
        begin = int(self._segment[i])
        closeness = self._closeness[begin : begin + count].tolist()
        # The closest first, the earlier of equals first (a stable sort keeps their order).
        order = sorted(range(count), key=closeness.__getitem__, reverse=True)
        near = frozenset().union(*(present[j] for j in order[:WORDS_COUNT_IN]))
        return sum(weights[t] for t in held if t in near) / total


class Cosines(NamedTuple):
    """Candidate passages' cosines to one question vector, or to several as columns."""

    passage: np.ndarray  # one row per candidate
    sentences: np.ndarray  # one row per sentence: the candidates' sentences in turn
    segment: np.ndarray  # where each candidate's sentences begin in ``sentences``

    @classmethod
    def of(cls, snapshot: Snapshot, candidates: np.ndarray, vector: np.ndarray) -> Cosines:
        """The cosines of ``candidates`` to ``vector`` (one vector, or several as rows:
        their sentence vectors are gathered once)."""
        data = snapshot.data
        query = vector.T
        starts = data.sentence_offsets[candidates]
        counts = data.sentence_offsets[candidates + 1] - starts
        segment = np.cumsum(counts) - counts
        rows = np.arange(int(counts.sum())) + np.repeat(starts - segment, counts)
        return cls(data.vectors[candidates] @ query, data.sentence_vectors[rows] @ query, segment)

    def blend(self, passage_weight: float) -> np.ndarray:
        """Each passage's cosine blended with that of its best sentence."""
        best_sentence = np.maximum.reduceat(self.sentences, self.segment, axis=0)
        blended = passage_weight * self.passage + (1 - passage_weight) * best_sentence
        return np.asarray(blended, dtype=np.float32)


def dense_scores(
    snapshot: Snapshot, candidates: np.ndarray, vector: np.ndarray, passage_weight: float
) -> np.ndarray:
    """Cosine of each candidate passage blended with that of its best sentence.

    ``vector`` is one question vector (scores of shape ``(n,)``) or several as rows
    (``(n, k)``: their sentence vectors are gathered once). Ranking leans on the best
    sentence (``settings.passage_weight``); deciding whether anything is relevant weighs
    both equally (see :mod:`retrieval.relevance`), because the best of many sentences
    flatters unrelated questions too.
    """
    return Cosines.of(snapshot, candidates, vector).blend(passage_weight)


def _candidates(
    snapshot: Snapshot,
    settings: RetrievalSettings,
    query: Query,
    vector: np.ndarray,
    lexical: np.ndarray,
) -> np.ndarray:
    """Dense and lexical candidates, and every passage of the best-named story."""
    count = settings.candidates
    _, dense_ids = faiss_index.search(snapshot.data.faiss, vector, count)
    # The best ``count`` of the passages holding a term: partitioning only those (about
    # 4,000 of squad-scale's 19,782 for its questions) halves the selection's time, 0.15
    # to 0.07 ms. Ties at the last place may fall either way, as they did before.
    lexical_ids = np.flatnonzero(lexical > 0)
    if len(lexical_ids) > count:
        top = np.argpartition(-lexical[lexical_ids], count - 1)[:count]
        lexical_ids = lexical_ids[top]
    named = [snapshot.passages_of.get(info.story_id, lexical_ids[:0]) for info in query.stories[:1]]
    return np.unique(np.concatenate([dense_ids, lexical_ids, *named]))


def _lexical_scale(
    snapshot: Snapshot,
    settings: RetrievalSettings,
    query: Query,
    lex: np.ndarray,
    near: _WordsWhereSaid,
) -> float:
    if settings.lexical_scale == "query":
        # Share of the most this question could score: one common word counts for little.
        index = snapshot.lexical
        most = sum(index.idf(t) for t in _ranking_terms(snapshot, query))
        most += sum(w * index.idf(t) for t, w in query.related)
        return most * (index.k1 + 1)
    # The best lexical evidence that counts (see _WordsWhereSaid) sets the scale.
    return near.best_counted(lex) if len(lex) else 0.0
