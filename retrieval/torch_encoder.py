"""sentence-transformers on torch: the reference encoder (imports torch only when made)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.embedding import TokenCounting


class TorchEncoder(TokenCounting):
    """sentence-transformers on torch: the reference encoder."""

    def __init__(self, model_dir: Path, *, name: str, threads: int = 2) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.name = name
        self.dimension = int(self._model.get_embedding_dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 256)
        self._load_counter(model_dir / "tokenizer.json")

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed ``texts`` with sentence-transformers; returns normalised float32 rows."""
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
        """Embed questions: the same float32 model as passages."""
        return self.encode(texts, batch_size=batch_size)
