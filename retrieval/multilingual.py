"""The second set of passage vectors, for questions that are not in English.

Beside the MiniLM vectors of the index, every passage and sentence also gets a
multilingual-e5 vector (:class:`~retrieval.e5_encoder.E5Encoder`). They are stored
per story under ``<index>/multilingual/`` (one ``.npz`` per story, keyed by the
story's digest and the build spec, written atomically), so that only new or changed
stories are embedded again. Building them is slow, so it never blocks English: the
live index searches in English first and swaps in a :class:`CrossLingual` view once
:func:`build_vectors` is done (see :mod:`retrieval.live`).

The no-answer bar of this path is calibrated like the English one
(:mod:`retrieval.relevance`), on general questions in Russian and Kazakh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from retrieval import relevance, store
from retrieval import vectors as faiss_index
from retrieval.embedding import Encoder
from retrieval.files import write_json_atomic
from retrieval.passages import rows_by_story
from retrieval.snapshot import CrossLingual, Snapshot

log = logging.getLogger(__name__)

FOLDER = "multilingual"
BACKGROUND_FILE = "background_questions_multilingual.jsonl"
CACHE_FILE = "calibration.json"
# e5 cosines are high and close together (unrelated questions reach 0.75-0.78 on the seed
# stories, answerable ones 0.80 and more): the bar never rises above this.
MAX_THRESHOLD = 0.82
# Stories' e5 vectors kept in memory by key: another index of the same stories in this
# process (a reload, a second index folder) reuses them instead of spending seconds again.
MEMORY_STORIES = 256
_memory: dict[str, tuple[np.ndarray, np.ndarray]] = {}
_memory_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class BuildResult:
    """The e5 vectors of an index, aligned with its passages and sentences."""

    vectors: np.ndarray
    sentence_vectors: np.ndarray
    embedded_passages: int
    seconds: float


# Texts per e5 call: e5 runs faster in larger batches than MiniLM does (120 dev passages:
# 28-34 a second at 32, 24-25 at 8), so it keeps its own size.
E5_BATCH = 32


def build_vectors(
    data: store.IndexData,
    encoder: Encoder,
    index_dir: Path,
    *,
    batch_size: int = E5_BATCH,
    progress: store.Progress | None = None,
) -> BuildResult:
    """The e5 vectors of ``data``: stored ones reused, the others embedded and stored."""
    folder = index_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    rows = rows_by_story(data.passages)
    passage_parts, sentence_parts, wanted = [], [], set()
    done = embedded = 0
    started = time.perf_counter()
    for story in data.stories:
        ids = rows.get(story.story_id, [])
        key = _story_key(data, story.story_id, encoder)
        wanted.add(f"{key}.npz")
        path = folder / f"{key}.npz"
        sentences = [s.of(data.passages[i].text) for i in ids for s in data.passages[i].sentences]
        with _memory_lock:
            stored = _memory.get(key)
        stored = stored or _load(path, len(ids), len(sentences))
        if stored is None:
            texts = [data.passages[i].text for i in ids] + sentences
            vectors = encoder.encode(texts, batch_size=batch_size)
            stored = (vectors[: len(ids)], vectors[len(ids) :])
            embedded += len(ids)
        if not path.is_file():
            _save(path, *stored)
        with _memory_lock:
            if len(_memory) >= MEMORY_STORIES:
                _memory.pop(next(iter(_memory)))
            _memory[key] = stored
        passage_parts.append(stored[0])
        sentence_parts.append(stored[1])
        done += len(ids)
        if progress is not None:
            progress(done, len(data.passages))
    for path in folder.glob("*.npz"):
        if path.name not in wanted:
            path.unlink(missing_ok=True)
    return BuildResult(
        _stack(passage_parts, encoder.dimension),
        _stack(sentence_parts, encoder.dimension),
        embedded,
        time.perf_counter() - started,
    )


def cross_lingual(
    snapshot: Snapshot,
    built: BuildResult,
    encoder: Encoder,
    index_dir: Path,
    *,
    null_quantile: float,
    candidates: int,
    min_coverage: float,
) -> CrossLingual:
    """The e5 view of ``snapshot``, its no-answer bar calibrated (or read from the cache)."""
    data = replace(
        snapshot.data,
        vectors=built.vectors,
        sentence_vectors=built.sentence_vectors,
        faiss=None,  # built from the e5 vectors
    )
    view = replace(snapshot, data=data)
    key = json.dumps(
        [store.fingerprint(snapshot.data), encoder.name, null_quantile, MAX_THRESHOLD, candidates],
        sort_keys=True,
    )
    path = index_dir / FOLDER / CACHE_FILE
    try:
        cached = json.loads(path.read_text())
        bar = float(cached["min_dense"]) if cached.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError):
        bar = None
    if bar is None:
        bar = _calibrate(view, encoder, null_quantile, candidates, min_coverage)
        write_json_atomic(path, {"key": key, "min_dense": bar})
        log.info("multilingual no-answer threshold calibrated: %.3f", bar)
    return CrossLingual(replace(view, min_dense=bar), encoder, built.seconds)


def _calibrate(
    view: Snapshot, encoder: Encoder, quantile: float, candidates: int, min_coverage: float
) -> float:
    """The score all but ``1 - quantile`` of the unrelated background questions stay under."""
    questions = background_questions()
    scores = []
    for question, vector in zip(questions, _background_vectors(encoder), strict=True):
        _, ids = faiss_index.search(view.data.faiss, vector, candidates)
        if len(ids) == 0:
            continue
        found = relevance.relevance(view, ids, vector)
        best = int(np.argmax(found))
        text = view.indexed_text(int(ids[best]))
        if relevance.coverage(view, question, text) < min_coverage:
            scores.append(float(found[best]))
    if not scores:
        return MAX_THRESHOLD
    return min(MAX_THRESHOLD, float(np.quantile(np.array(scores), quantile)))


_background: dict[str, np.ndarray] = {}


def _background_vectors(encoder: Encoder) -> np.ndarray:
    """The background questions' vectors, embedded once per process and encoder."""
    if encoder.name not in _background:
        _background[encoder.name] = encoder.encode_queries(background_questions())
    return _background[encoder.name]


@cache
def background_questions() -> tuple[str, ...]:
    """General questions in Russian and Kazakh about nothing in any story (the null set)."""
    text = resources.files("retrieval.data").joinpath(BACKGROUND_FILE).read_text("utf-8")
    return tuple(json.loads(line)["question"] for line in text.splitlines() if line.strip())


def _story_key(data: store.IndexData, story_id: str, encoder: Encoder) -> str:
    """What a story's e5 vectors depend on: its text, how it was split, the model."""
    payload = json.dumps(
        [data.spec.stored(), data.digests.get(story_id), story_id, encoder.name], sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _load(path: Path, passages: int, sentences: int) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            vectors, sentence_vectors = stored["passages"], stored["sentences"]
    except (OSError, ValueError, KeyError):
        return None
    if len(vectors) != passages or len(sentence_vectors) != sentences:
        return None
    return vectors.astype(np.float32), sentence_vectors.astype(np.float32)


def _save(path: Path, vectors: np.ndarray, sentence_vectors: np.ndarray) -> None:
    handle, tmp = tempfile.mkstemp(prefix=".e5-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, passages=vectors, sentences=sentence_vectors)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _stack(parts: list[np.ndarray], dimension: int) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    matrix = np.vstack(parts) if parts else np.empty((0, dimension), dtype=np.float32)
    return np.ascontiguousarray(matrix, dtype=np.float32)
