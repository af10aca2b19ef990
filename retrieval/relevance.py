"""Relevance and the no-answer bar: when the best passages are too weak, say so.

How well the best passage matches an unrelated question depends on the corpus:
the best of six passages scores lower than the best of four hundred. So instead
of one fixed bar, each index is calibrated: a fixed set of general questions
(``data/background_questions.jsonl``, SQuAD questions about unrelated Wikipedia
articles) is run against it, and an answer must beat the score that all but
``1 - null_quantile`` of them reach (computed, cached and updated after an edit by
:mod:`retrieval.calibration`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from retrieval import models, store
from retrieval.embedding import Encoder
from retrieval.lexical import ANALYZER_VERSION
from retrieval.ranking import Ranked, dense_scores
from retrieval.settings import RetrievalSettings
from retrieval.snapshot import Snapshot

# Weight of the passage's cosine against its best sentence's when judging relevance.
RELEVANCE_PASSAGE_WEIGHT = 0.5
# An answer is given when one of this many best passages is relevant enough (one page).
RELEVANCE_DEPTH = 3
# The bar never rises above this: 99% of answerable questions about held-out SQuAD
# articles (not the evaluation slice) reach it. Without the cap, a corpus whose topics
# overlap the background questions (a Wikipedia corpus) would refuse real questions.
MAX_THRESHOLD = 0.39
BACKGROUND_FILE = "background_questions.jsonl"
CACHE_FILE = "calibration.json"
BACKGROUND_VECTORS = "background_vectors.npz"


def answerable(
    snapshot: Snapshot,
    settings: RetrievalSettings,
    ranked: list[Ranked],
    question: str,
    *,
    named: bool,
) -> bool:
    """Whether one of the first :data:`RELEVANCE_DEPTH` passages is worth showing.

    ``named``: the question names one of our artists or bands, so it is in scope by
    definition and only the floor applies.
    """
    return any(
        passes(snapshot, settings, r, question, named=named) for r in ranked[:RELEVANCE_DEPTH]
    )


def passes(
    snapshot: Snapshot,
    settings: RetrievalSettings,
    ranked: Ranked,
    question: str,
    *,
    named: bool = False,
) -> bool:
    """Whether a ranked passage (its relevance computed by ranking) answers well enough."""
    return _passes(snapshot, settings, ranked.passage_id, ranked.relevance, question, named=named)


def relevant(
    snapshot: Snapshot,
    settings: RetrievalSettings,
    passage_id: int,
    question: str,
    vector: np.ndarray,
    *,
    named: bool = False,
) -> bool:
    """Whether one passage answers the question (its vector given) well enough, or the
    answer should be "no answer"."""
    score = float(relevance(snapshot, np.array([passage_id]), vector)[0])
    return _passes(snapshot, settings, passage_id, score, question, named=named)


def _passes(
    snapshot: Snapshot,
    settings: RetrievalSettings,
    passage_id: int,
    score: float,
    question: str,
    *,
    named: bool,
) -> bool:
    if named and score >= settings.min_dense_floor:
        return True
    bar = settings.min_dense if settings.min_dense is not None else snapshot.min_dense
    if score >= max(bar, settings.min_dense_floor):
        return True
    return score >= settings.min_dense_with_terms and (
        coverage(snapshot, question, present_terms=snapshot.passage_terms(passage_id))
        >= settings.min_coverage
    )


def relevance(snapshot: Snapshot, passage_ids: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """The relevance score of passages: passage and best-sentence cosine weighed equally."""
    return dense_scores(snapshot, passage_ids, vector, RELEVANCE_PASSAGE_WEIGHT)


def coverage(
    snapshot: Snapshot,
    question: str,
    text: str = "",
    *,
    terms: Sequence[str] | None = None,
    present_terms: AbstractSet[str] | None = None,
) -> float:
    """Share of the question's term weight (idf) that ``text`` contains.

    Terms the corpus has never seen count with the highest idf, so a question
    about things the stories never mention covers little. ``terms`` and
    ``present_terms``: the question's terms and ``text``'s, when already analysed
    (``text`` is not read when ``present_terms`` are given).
    """
    lexical = snapshot.lexical
    terms = list(dict.fromkeys(lexical.analyze(question) if terms is None else terms))
    if not terms:
        return 0.0
    present = set(lexical.analyze(text)) if present_terms is None else present_terms
    weights = [lexical.idf(t) or lexical.max_idf for t in terms]
    found = sum(w for t, w in zip(terms, weights, strict=True) if t in present)
    return found / sum(weights)


# -- the background questions (calibration: retrieval.calibration) -------------------------


@cache
def background_questions() -> tuple[str, ...]:
    """The shipped general questions used as the null distribution."""
    text = resources.files("retrieval.data").joinpath(BACKGROUND_FILE).read_text("utf-8")
    return tuple(json.loads(line)["question"] for line in text.splitlines() if line.strip())


def background_vectors(
    settings: RetrievalSettings, encoder: Encoder, cache_dir: Path | None = None
) -> np.ndarray:
    """The background questions' vectors, embedded once per query path.

    Kept in the process and, with ``cache_dir``, in a file there: recalibrating after an
    update is then a batched search and no model call (embedding the 400 questions was
    about 1.5 s of a 3.8 s story removal in a fresh ``artistbot index``).
    """
    key = (encoder.name, models.query_path(settings))
    path = cache_dir / BACKGROUND_VECTORS if cache_dir is not None else None
    stamp = hashlib.sha256(repr((key, background_questions())).encode()).hexdigest()[:16]
    with _background_lock:
        vectors = _background.get(key)
    if vectors is None and path is not None:
        vectors = _load_vectors(path, stamp)
    if vectors is None:
        vectors = encoder.encode_queries(
            background_questions(), batch_size=settings.encode_batch_size
        )
        if path is not None and path.parent.is_dir():
            _save_vectors(path, stamp, vectors)  # for the next process (replacing a stale file)
    with _background_lock:
        _background[key] = vectors
    return vectors


def _load_vectors(path: Path, stamp: str) -> np.ndarray | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["key"]) == stamp:
                return np.asarray(stored["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError):
        pass
    return None


def _save_vectors(path: Path, stamp: str, vectors: np.ndarray) -> None:
    handle, tmp = tempfile.mkstemp(prefix=".background-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, key=np.array(stamp), vectors=vectors)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


_background: dict[tuple[str, str], np.ndarray] = {}
_background_lock = threading.Lock()


def null_score(
    snapshot: Snapshot,
    settings: RetrievalSettings,
    question: str,
    vector: np.ndarray,
    ids: np.ndarray,
) -> float:
    """Best relevance of a background question; NaN when the index answers it by terms."""
    if len(ids) == 0:
        return float("nan")
    scores = relevance(snapshot, ids, vector)
    best = int(np.argmax(scores))
    present = snapshot.passage_terms(int(ids[best]))
    if coverage(snapshot, question, present_terms=present) >= settings.min_coverage:
        return float("nan")
    return float(scores[best])


def cache_key(snapshot: Snapshot, settings: RetrievalSettings) -> str:
    """What the no-answer bar of ``snapshot`` depends on, as one string."""
    background = hashlib.sha256("\n".join(background_questions()).encode()).hexdigest()[:12]
    return json.dumps(
        {
            "index": store.fingerprint(snapshot.data),
            "background": background,
            "quantile": settings.null_quantile,
            "queries": models.query_path(settings),
            "relevance_weight": RELEVANCE_PASSAGE_WEIGHT,
            "cap": MAX_THRESHOLD,
            "candidates": settings.candidates,
            "analyzer": ANALYZER_VERSION,
        },
        sort_keys=True,
    )
