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
0.2 s; :meth:`WordNeighbours.warm` does it ahead); the words of a question then cost one
matrix product with the 21,745 whole words' vectors (1-3 ms for one word), and each
word's neighbours are kept for the next time.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from retrieval.embedding import resolve_model

log = logging.getLogger(__name__)

# A word's neighbours: other whole words and their cosines, nearest first.
Neighbours = tuple[tuple[str, float], ...]

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
# Question words looked up at most (a long question of unknown words is not helped more).
MAX_WORDS = 16
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
        self._known: OrderedDict[str, Neighbours] = OrderedDict()  # the last CACHED words

    def warm(self) -> None:
        """Read the table now rather than at the first word looked up (idempotent)."""
        self._load()

    def nearest(self, word: str) -> Neighbours:
        """Other whole words at a cosine of :data:`MIN_COSINE` or more, nearest first."""
        return self.nearest_all([word])[word]

    def related(self, words: Sequence[str], known: Callable[[str], bool]) -> dict[str, Neighbours]:
        """For each of ``words``, up to :data:`PER_WORD` near words ``known`` holds."""
        nearest = self.nearest_all(words)
        return {w: tuple([(o, c) for o, c in nearest[w] if known(o)][:PER_WORD]) for w in words}

    def nearest_all(self, words: Sequence[str]) -> dict[str, Neighbours]:
        """:meth:`nearest` of each of ``words``; those not seen lately in one matrix product."""
        rows = self._load()
        with self._lock:
            found = {w: self._known[w] for w in words if w in self._known}
        missing = [w for w in dict.fromkeys(words) if w not in found]
        looked_up = [w for w in missing if w in rows]
        found.update(dict.fromkeys(missing, ()))
        if looked_up:
            own = np.array([rows[w] for w in looked_up], dtype=np.int64)
            cosines = self._vectors[own] @ self._vectors.T
            count = min(NEAREST + 1, cosines.shape[1])
            tops = np.argpartition(-cosines, count - 1, axis=1)[:, :count]
            for at, word in enumerate(looked_up):
                top = tops[at][np.argsort(-cosines[at, tops[at]])]
                found[word] = tuple(
                    (self._words[i], round(float(cosines[at, i]), 4))
                    for i in top
                    if i != own[at] and cosines[at, i] >= MIN_COSINE
                )
        with self._lock:
            for word in missing:
                self._known[word] = found[word]
                self._known.move_to_end(word)
            while len(self._known) > CACHED:
                self._known.popitem(last=False)
        return found

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
