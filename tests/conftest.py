"""Shared fixtures: one real retriever over the seed stories, built once per session.

Everything uses the real packaged model, offline, and real FAISS and SQLite.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval import RetrievalSettings, Retriever
from retrieval.embedding import Encoder
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
    yield Retriever.open(retrieval_settings, encoder=encoder)
