"""Fixtures of the core tests: a counting spy around the real encoder, private corpora.

The session fixtures of ``tests/conftest.py`` (``encoder``, ``retriever``, ...) hold the
one real model; everything here wraps or copies, and never loads a model again.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval import RetrievalSettings
from retrieval.embedding import Encoder

ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = ROOT / "corpus"
SEED_QUESTIONS = ROOT / "eval" / "seeds" / "questions.jsonl"
SQUAD_CORPUS = ROOT / "eval" / "squad-artists-public" / "corpus"

TALGAT = "000_172f390d79c9c20b"  # Talgat Baktybekova, "Moonlight Serenaders"
BAKHYT = "001_d2f3c8716b9e572b"  # Bakhyt Camara, "The Steppe Serenaders"


class CountingEncoder:
    """A spy around the real encoder: delegates everything, counts the texts it embeds."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens
        self.texts: list[str] = []  # every text passed to encode, in order

    @property
    def embedded(self) -> int:
        """How many texts were passed to :meth:`encode` so far."""
        return len(self.texts)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.encode(texts, batch_size=batch_size)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # anything else of the encoder, unchanged


class CachedEncoder:
    """The real encoder, remembering each text's vector: a text is embedded once a session.

    Retrieval now calibrates every new index by embedding a few hundred background
    questions; the cache keeps the index tests from paying for that again and again.
    The vectors are the model's own, so nothing a test checks changes.
    """

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens
        self._vectors: dict[str, np.ndarray] = {}
        self._query_vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        return self._cached(self._vectors, self.inner.encode, texts, batch_size)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
        return self._cached(self._query_vectors, self.inner.encode_queries, texts, batch_size)

    def _cached(
        self,
        cache: dict[str, np.ndarray],
        encode: Callable[..., np.ndarray],
        texts: Sequence[str],
        batch_size: int,
    ) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if missing:
            for text, vector in zip(missing, encode(missing, batch_size=batch_size), strict=True):
                cache[text] = vector
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return np.stack([cache[t] for t in texts])

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # anything else of the encoder, unchanged


@pytest.fixture(scope="session")
def cached_encoder(encoder: Encoder) -> CachedEncoder:
    """The session's real encoder behind a per-session cache of vectors."""
    return CachedEncoder(encoder)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A private, writable copy of the seed stories for one test."""
    target = tmp_path / "corpus"
    target.mkdir()
    for path in SEED_DIR.iterdir():
        if path.is_file():
            shutil.copy2(path, target / path.name)
    return target


@pytest.fixture
def tmp_settings(corpus_dir: Path, tmp_path: Path) -> RetrievalSettings:
    """Settings over the private corpus, with a private data directory (no model in it)."""
    return RetrievalSettings(corpus_dir=corpus_dir, data_dir=tmp_path / "data")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No ARTISTBOT_* variable or bot token from the outside environment leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("ARTISTBOT_") or name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
            monkeypatch.delenv(name)
    yield monkeypatch
