"""Calibrating the no-answer bar, and updating it after an edit without starting over.

The bar (see :mod:`retrieval.relevance`) is a quantile of the best relevance each
background question reaches among its ``candidates`` nearest passages. Calibrating
from scratch searches all 400 of them: 0.5 s at squad-scale (19,782 passages), most of
a story's removal in a running bot. So the calibration keeps, beside the bar, where
each question's candidates and best passage are (:class:`NullState`), and an edit
updates it: a question keeps its candidates when none of them left the index and no new
passage scores above its last one (exactly what a new search would return then); only
the others are searched again. The coverage test, which depends on the whole corpus's
term weights, is redone for every question. The state is cached with the bar, keyed by
everything it depends on, so a bot that has just started updates it too.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from retrieval import relevance
from retrieval import vectors as faiss_index
from retrieval.embedding import Encoder
from retrieval.files import write_json_atomic
from retrieval.lexical import Analyzer
from retrieval.settings import RetrievalSettings
from retrieval.snapshot import Snapshot

log = logging.getLogger(__name__)

STATE_FILE = "calibration_state.npz"
# A new passage this close below a question's last candidate has it searched again: more
# than FAISS's rounding, float16 codes' included (at most 2**-11 of a unit vector's cosine).
FLOOR_MARGIN = 1e-3


@dataclass(frozen=True, slots=True)
class NullState:
    """Each background question's candidates on one index (rows: the questions)."""

    ids: np.ndarray  # (questions, candidates) passage ids, nearest first; -1: none
    floor: np.ndarray  # the score of each question's last candidate (-inf: fewer than asked)
    best: np.ndarray  # the candidate of highest relevance; -1: none
    score: np.ndarray  # its relevance


def calibrate(
    snapshot: Snapshot, settings: RetrievalSettings, encoder: Encoder, cache_dir: Path
) -> float:
    """The no-answer bar of ``snapshot``: from the cache in ``cache_dir``, or computed."""
    return calibrated(snapshot, settings, encoder, cache_dir).min_dense


def calibrated(
    snapshot: Snapshot,
    settings: RetrievalSettings,
    encoder: Encoder,
    cache_dir: Path,
    *,
    previous: Snapshot | None = None,
) -> Snapshot:
    """``snapshot`` with its no-answer bar: cached, updated from ``previous`` (the snapshot
    it was edited from) or computed from scratch."""
    if settings.min_dense is not None:
        return replace(snapshot, min_dense=settings.min_dense)  # fixed: no calibration
    key = relevance.cache_key(snapshot, settings)
    path = cache_dir / relevance.CACHE_FILE
    try:
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            state = _read_state(cache_dir / STATE_FILE, key)
            return replace(snapshot, min_dense=float(cached["min_dense"]), null_state=state)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    vectors = relevance.background_vectors(settings, encoder, cache_dir)
    old = previous.null_state if previous is not None else None
    if isinstance(old, NullState) and previous is not None:
        state = _updated(old, previous, snapshot, settings, vectors)
    else:
        state = _searched(snapshot, settings, vectors)
    bar = _bar(snapshot, settings, state)
    if cache_dir.is_dir():
        _write_state(cache_dir / STATE_FILE, key, state)
        write_json_atomic(path, {"key": key, "min_dense": bar})
    log.info("no-answer threshold calibrated: dense %.3f", bar)
    return replace(snapshot, min_dense=bar, null_state=state)


def _searched(snapshot: Snapshot, settings: RetrievalSettings, vectors: np.ndarray) -> NullState:
    """The candidates of the questions ``vectors`` on ``snapshot``, searched."""
    scores, found = faiss_index.search_many(snapshot.data.faiss, vectors, settings.candidates)
    full = found.shape[1] == settings.candidates  # else every passage is a candidate
    best = np.full(len(vectors), -1, dtype=np.int64)
    score = np.full(len(vectors), np.nan, dtype=np.float32)
    floor = np.full(len(vectors), -np.inf, dtype=np.float32)
    for q, (vector, ids) in enumerate(zip(vectors, found, strict=True)):
        kept = ids[ids >= 0]
        if len(kept):
            relevances = relevance.relevance(snapshot, kept, vector)
            at = int(np.argmax(relevances))
            best[q], score[q] = kept[at], relevances[at]
            if full and len(kept) == len(ids):
                floor[q] = scores[q][-1]
    return NullState(found.astype(np.int64), floor, best, score)


def _updated(
    old: NullState,
    previous: Snapshot,
    snapshot: Snapshot,
    settings: RetrievalSettings,
    vectors: np.ndarray,
) -> NullState:
    """``old`` (of ``previous``) moved to ``snapshot``: its stories kept unchanged keep
    their rows' candidates; questions that lost one, or that a new passage would reach,
    are searched again."""
    moved = np.full(len(previous.data.passages) + 1, -1, dtype=np.int64)  # [-1] stays -1
    added = []
    for story_id, rows in snapshot.passages_of.items():
        before = previous.passages_of.get(story_id)
        same = previous.data.digests.get(story_id) == snapshot.data.digests.get(story_id)
        if same and before is not None and len(before) == len(rows):
            moved[before] = rows
        else:
            added.append(rows)
    ids = moved[old.ids]
    redo = ((old.ids >= 0) & (ids < 0)).any(axis=1)
    if added:
        fresh = snapshot.data.vectors[np.concatenate(added)]
        if len(fresh):
            # With a margin for FAISS's rounding, which differs from numpy's.
            redo |= (vectors @ fresh.T).max(axis=1) >= old.floor - FLOOR_MARGIN
    state = NullState(ids, old.floor.copy(), moved[old.best], old.score.copy())
    again = np.flatnonzero(redo)
    if len(again):
        searched = _searched(snapshot, settings, vectors[again])
        if searched.ids.shape[1] != ids.shape[1]:  # the index got smaller than the candidates
            return _searched(snapshot, settings, vectors)
        for mine, theirs in zip(_arrays(state), _arrays(searched), strict=True):
            mine[again] = theirs
    return state


def _arrays(state: NullState) -> tuple[np.ndarray, ...]:
    return state.ids, state.floor, state.best, state.score


def _bar(snapshot: Snapshot, settings: RetrievalSettings, state: NullState) -> float:
    """The quantile of the best relevances of the questions the index cannot answer by
    terms (see :func:`retrieval.relevance.null_score`), capped."""
    questions = relevance.background_questions()
    unrelated = [
        float(state.score[q])
        for q, (question, terms) in enumerate(zip(questions, _question_terms(), strict=True))
        if state.best[q] >= 0
        and relevance.coverage(
            snapshot,
            question,
            text := snapshot.indexed_text(int(state.best[q])),
            terms=terms,
            present_terms=_text_terms(text),
        )
        < settings.min_coverage
    ]
    if not unrelated:
        return relevance.MAX_THRESHOLD
    return min(relevance.MAX_THRESHOLD, float(np.quantile(unrelated, settings.null_quantile)))


@cache
def _question_terms() -> tuple[list[str], ...]:
    """The background questions' search terms (what the lexical index's analysis makes)."""
    return tuple(_analyzer()(question) for question in relevance.background_questions())


@lru_cache(maxsize=4096)
def _text_terms(text: str) -> frozenset[str]:
    """The search terms of a best passage's indexed text (mostly the same after an edit)."""
    return frozenset(_analyzer()(text))


@cache
def _analyzer() -> Analyzer:
    return Analyzer()


def _write_state(path: Path, key: str, state: NullState) -> None:
    handle, tmp = tempfile.mkstemp(prefix=".calibration-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(
                out,
                key=np.array(key),
                ids=state.ids,
                floor=state.floor,
                best=state.best,
                score=state.score,
            )
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read_state(path: Path, key: str) -> NullState | None:
    """The cached state of the index ``key`` (None when absent or of another index)."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["key"]) == key:
                return NullState(stored["ids"], stored["floor"], stored["best"], stored["score"])
    except (OSError, ValueError, KeyError):
        pass
    return None
