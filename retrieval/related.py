"""Words the stories use for a question word they never use: "granny" -> "grandmother".

A question word no passage holds adds nothing to BM25, however plainly it names what the
stories call otherwise. The model's own input vectors of whole words (the word-piece
embedding table it was trained with) put "granny" next to "grandma" and "grandmother",
"mom" next to "mother", "founded" next to "established". For such a word, its nearest
words that passages do hold are searched in its place, each weighed by its cosine
(:func:`retrieval.analysis.analyse`). Words the stories use are never replaced, so a
question in the stories' own words ranks exactly as without this.

The neighbours are relations, not synonyms ("wife" is near "husband" too), which is why
they only add lexical evidence to the hybrid ranking and never decide "no answer".
Measured on the four eval sets in docs/BENCHMARKS.md (session 11).

The table is read from the model's own weights once per process, on first use (about
0.2 s; :meth:`WordNeighbours.warm` does it ahead); a word's neighbours then cost one
product with the 21,745 whole words' vectors (1-2 ms), and are kept for the next time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from retrieval.embedding import resolve_model

log = logging.getLogger(__name__)

# Words at least this close count as the question's word (granny-grandmother 0.58,
# mom-mother 0.70; play-perform 0.27 does not). Chosen on the dev set: 0.5 and 0.55
# measured the same, and 0.55 admits fewer relations.
MIN_COSINE = 0.55
# Stories' words searched for one question word, at most.
PER_WORD = 2
# Neighbours kept per word, for the stories' vocabulary to choose from.
NEAREST = 12
# Question words whose neighbours are kept (they depend on the model only).
CACHED = 4096
# The model's input embeddings in its safetensors file (BERT-style models).
TABLE = "embeddings.word_embeddings.weight"


class WordNeighbours:
    """The whole words of a model's vocabulary and their input vectors, read on first use."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self._lock = threading.Lock()
        self._rows: dict[str, int] | None = None
        self._words: list[str] = []
        self._vectors = np.empty((0, 0), dtype=np.float32)
        self.nearest = lru_cache(maxsize=CACHED)(self._nearest)

    def warm(self) -> None:
        """Read the table now rather than at the first word looked up (idempotent)."""
        self._load()

    def related(self, word: str, known: Callable[[str], bool]) -> tuple[tuple[str, float], ...]:
        """Up to :data:`PER_WORD` words near ``word`` for which ``known`` holds, with cosines."""
        found = [(w, c) for w, c in self.nearest(word) if known(w)]
        return tuple(found[:PER_WORD])

    def _nearest(self, word: str) -> tuple[tuple[str, float], ...]:
        """Other whole words at a cosine of :data:`MIN_COSINE` or more, nearest first."""
        rows = self._load()
        row = rows.get(word)
        if row is None:
            return ()
        cosines = self._vectors @ self._vectors[row]
        count = min(NEAREST + 1, len(cosines))
        top = np.argpartition(-cosines, count - 1)[:count]
        top = top[np.argsort(-cosines[top])]
        return tuple(
            (self._words[i], round(float(cosines[i]), 4))
            for i in top
            if i != row and cosines[i] >= MIN_COSINE
        )

    def _load(self) -> dict[str, int]:
        with self._lock:
            if self._rows is None:
                try:
                    self._words, self._vectors = _whole_words(self.model_dir)
                except Exception as error:  # unreadable weights: questions are searched as asked
                    log.warning("no word neighbours from %s: %s", self.model_dir.name, error)
                self._rows = {w: i for i, w in enumerate(self._words)}
            return self._rows


def for_model(model: str) -> WordNeighbours | None:
    """The word neighbours of ``model`` (one per process); None when its table is not at
    hand, as for a model known by name only (the multilingual one)."""
    try:
        model_dir = resolve_model(model)
    except ValueError:
        return None
    return _for_dir(model_dir)


@cache
def _for_dir(model_dir: Path) -> WordNeighbours | None:
    if not (model_dir / "model.safetensors").is_file():
        return None
    if not (model_dir / "tokenizer.json").is_file():
        return None
    return WordNeighbours(model_dir)


def _whole_words(model_dir: Path) -> tuple[list[str], np.ndarray]:
    """The vocabulary's whole words (letters only, no "##" pieces) and their unit vectors."""
    from safetensors import safe_open
    from tokenizers import Tokenizer

    vocab = Tokenizer.from_file(str(model_dir / "tokenizer.json")).get_vocab()
    words = sorted(w for w in vocab if w.isalpha() and w.isascii())
    with safe_open(str(model_dir / "model.safetensors"), framework="np") as tensors:
        if TABLE not in tensors.keys():  # noqa: SIM118 (safe_open is no mapping)
            return [], np.empty((0, 0), dtype=np.float32)
        table = np.asarray(tensors.get_tensor(TABLE), dtype=np.float32)
    vectors = table[np.array([vocab[w] for w in words], dtype=np.int64)]
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return words, vectors
