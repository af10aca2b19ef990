"""Shared fixtures: one real retriever over the seed stories, built once per session.

Everything uses the real packaged model, offline, and real FAISS and SQLite.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval import RetrievalSettings, Retriever
from retrieval.embedding import Encoder
from retrieval.live import LiveIndex
from retrieval.models import open_encoder

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"
EVAL_DIR = ROOT / "eval"


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory for the session; holds the ONNX export so it happens once."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def seed_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the seed stories (tests may not change the repository's corpus)."""
    target = tmp_path_factory.mktemp("corpus")
    for path in SEED_CORPUS.iterdir():
        if path.is_file():
            shutil.copy2(path, target / path.name)
    return target


@pytest.fixture(scope="session")
def retrieval_settings(seed_corpus: Path, session_data_dir: Path) -> RetrievalSettings:
    """Settings for the seed corpus in the session data directory."""
    return RetrievalSettings(corpus_dir=seed_corpus, data_dir=session_data_dir)


@pytest.fixture(scope="session")
def encoder(retrieval_settings: RetrievalSettings) -> Encoder:
    """The real packaged model through the configured (ONNX) backend."""
    return open_encoder(retrieval_settings)


@pytest.fixture(scope="session")
def retriever(retrieval_settings: RetrievalSettings, encoder: Encoder) -> Iterator[Retriever]:
    """One real retriever over the seed stories, shared by the whole session (read-only)."""
    opened = Retriever.open(retrieval_settings, encoder=encoder)
    opened.index.wait_multilingual()  # Russian and Kazakh questions too, from the start
    yield opened


@pytest.fixture
def own_retriever(seed_corpus: Path, tmp_path: Path, encoder: Encoder) -> Iterator[Retriever]:
    """A retriever over a private copy of the seed stories, for tests that change them."""
    corpus = tmp_path / "own-corpus"
    shutil.copytree(seed_corpus, corpus)
    settings = RetrievalSettings(corpus_dir=corpus, data_dir=tmp_path / "own-data")
    own = Retriever.open(settings, encoder=encoder)
    yield own
    own.close()


def story_file(artist: str, band: str, detail: str) -> bytes:
    """A short story of the seeds' kind about a made-up artist, as a file's bytes."""
    return (
        f"{artist} tuned her dombra backstage. As the founder of the folk band "
        f'"{band}", {artist} had played in every village of the steppe.\n\n'
        f"{artist} learned to sing from her uncle, {detail}. Critics called {artist} "
        f"the quiet heart of {band}.\n"
    ).encode()


class GatedEncoder:
    """The real encoder behind a gate: once held, the next model call waits for release.

    Lets a test queue questions behind a busy model and see which ones share a call.
    """

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []  # the texts of each encode_queries call
        self.entered = threading.Event()
        self._open = threading.Event()
        self._open.set()

    def hold(self) -> None:
        """Make the next model call wait for :meth:`release`."""
        self.entered.clear()
        self._open.clear()

    def release(self) -> None:
        """Let the waiting call (and every later one) through."""
        self._open.set()

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
        self.calls.append(list(texts))
        self.entered.set()
        if not self._open.wait(60):
            raise TimeoutError("the test never released the model")
        return self.inner.encode_queries(texts, batch_size=batch_size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # everything else of the encoder, unchanged


def gated_retriever(retriever: Retriever) -> Iterator[Retriever]:
    """``retriever``'s index, its questions embedded by a :class:`GatedEncoder`.

    A test module that needs it overrides the ``retriever`` fixture with it:
    ``retriever = pytest.fixture(name="retriever")(gated_retriever)``.
    """
    index = retriever.index
    gate = GatedEncoder(index.encoder)
    gated = Retriever(
        LiveIndex(index.settings, gate, index.snapshot.data, index_dir=index.index_dir)
    )
    yield gated
    gated.close()


async def until(condition: Callable[[], bool], *, seconds: float = 30.0) -> None:
    """Yield to the event loop until ``condition`` holds (fail after ``seconds`` of real time).

    It never sleeps on the loop's clock, so it also works under a simulated clock.
    """
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0)
