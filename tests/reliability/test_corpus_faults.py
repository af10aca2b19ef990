"""Corpus faults all at once (tests/core covers each alone, kills and damaged indexes): a
50 MB story, a binary, an empty, an undecodable file and a link leaving corpus/ are skipped
with warnings naming them, and the index built from the rest answers correctly.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from retrieval import RetrievalSettings, Retriever
from retrieval.embedding import Encoder
from tests.conftest import SEED_CORPUS

BAD = {"huge.txt", "binary.txt", "empty.md", "latin.txt", "outside.txt"}


@pytest.mark.slow
def test_bad_files_are_skipped_and_the_rest_answers_correctly(
    tmp_path: Path,
    encoder: Encoder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    with (corpus / "huge.txt").open("wb") as handle:  # 50 MB of plausible text
        line = b"Talgat Baktybekova played a very long concert in Almaty that night.\n"
        handle.write(line * (50 * 1024 * 1024 // len(line) + 1))
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "latin.txt").write_bytes(b"\x81\x8d\x8f\x90\x9d" * 100)  # not UTF-8 nor cp1252
    secret = tmp_path / "secret.txt"
    secret.write_text("Talgat Baktybekova's password is hunter2.")
    (corpus / "outside.txt").symlink_to(secret)
    caplog.set_level(logging.WARNING)

    retriever = Retriever.open(
        RetrievalSettings(corpus_dir=corpus, data_dir=tmp_path / "data"), encoder=encoder
    )

    assert {Path(s.path).name for s in retriever.stories} == {
        p.name for p in SEED_CORPUS.iterdir() if p.suffix in (".txt", ".md")
    }
    for name in BAD:
        assert any(name in r.getMessage() for r in caplog.records), name
    answer = retriever.search("Where was Talgat Baktybekova born?")
    assert answer.found and "Central Asia" in answer.hits[0].text
    assert not any("hunter2" in h.text for h in retriever.search("password").hits)
