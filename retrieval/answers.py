"""Answer assembly: ranked passages become hits, each with its best sentence."""

from __future__ import annotations

import numpy as np

from retrieval.ranking import Ranked
from retrieval.results import Hit, Span
from retrieval.snapshot import Snapshot

# Weight of shared words (share of the question's idf) against cosine, choosing the best sentence.
SENTENCE_TERM_WEIGHT = 0.3


def hits(
    snapshot: Snapshot, page: list[Ranked], terms: tuple[str, ...], vector: np.ndarray
) -> tuple[Hit, ...]:
    """The hits for one page of ranked passages."""
    return tuple(hit(snapshot, ranked, terms, vector) for ranked in page)


def hit(snapshot: Snapshot, ranked: Ranked, terms: tuple[str, ...], vector: np.ndarray) -> Hit:
    """One ranked passage as a hit, its best sentence chosen for the question."""
    passage = snapshot.data.passages[ranked.passage_id]
    return Hit(
        text=passage.text,
        story=snapshot.stories[passage.story_id],
        score=ranked.fused,
        best_sentence=best_sentence(snapshot, ranked.passage_id, terms, vector),
        dense_score=ranked.dense,
        lexical_score=ranked.lexical,
        passage_id=ranked.passage_id,
        start=passage.start,
        end=passage.end,
    )


def best_sentence(
    snapshot: Snapshot, passage_id: int, terms: tuple[str, ...], vector: np.ndarray
) -> Span:
    """The sentence closest in meaning to the question, helped by the words it shares."""
    passage = snapshot.data.passages[passage_id]
    if not passage.sentences:
        return Span(0, len(passage.text))
    offsets = snapshot.data.sentence_offsets
    sentences = snapshot.data.sentence_vectors[offsets[passage_id] : offsets[passage_id + 1]]
    weights = {t: snapshot.lexical.idf(t) for t in terms}
    total = sum(weights.values()) or 1.0
    overlap = np.array(
        [
            sum(weights[t] for t in present.intersection(weights)) / total
            for present in snapshot.sentence_terms(passage_id)
        ]
    )
    score = sentences @ vector + SENTENCE_TERM_WEIGHT * overlap
    return passage.sentences[int(np.argmax(score))]
