"""The persisted index: reload without re-embedding, incremental updates, damage, kills.

Every build here embeds with the real session model through a counting spy, into a
private index directory; the shared session index is never touched.
"""

from __future__ import annotations

import gc
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from retrieval import RetrievalSettings, Retriever, UpdateReport, store
from retrieval.embedding import Encoder
from retrieval.indexing import build_spec, refresh
from retrieval.live import LiveIndex
from retrieval.models import export_needed
from retrieval.passages import Passage
from retrieval.results import Span
from tests.core.conftest import (
    BAKHYT,
    ROOT,
    SQUAD_CORPUS,
    TALGAT,
    CachedEncoder,
    CountingEncoder,
)

MIRELA = "100_4f1c2b9a7d3e5f60"
OSKAR = "101_8b2e6d4c1a9f3e75"
NEW_ID = "102_5e0c7a9b3d1f2e4a"
STORIES = {
    MIRELA: """\
Mirela Voss tuned her cello in the wings while the hall filled up. For ten years she had
played with the string band "Glass Harbour", touring small towns along the Baltic coast.

Born in Tallinn, Mirela Voss learned to play on her grandfather's cello. Critics later
wrote that Mirela Voss made the instrument sound like a human voice.
""",
    OSKAR: """\
Oskar Lind counted in the last song of the night from behind his drum kit. He founded the
band "Fjord Static" in Bergen with two school friends in 2009.

Oskar Lind builds his own snare drums from birch wood in a shed near the harbour. Fans
queue after each show to see them up close.
""",
}
NEW_STORY = """\
Amara Okafor sang the opening number of the festival with her group "The Night Market".
She grew up in Lagos, where her mother ran a record stall under a flyover.

Amara Okafor writes every lyric in a notebook with a green cover, and never on a phone.
"""
QUESTIONS = (
    "Who plays the cello in Glass Harbour?",
    "What wood does Oskar Lind build his snare drums from?",
)
Answers = list[list[tuple[str, str]]]


def answers(retriever: Retriever) -> Answers:
    """What a user would see for the fixed questions: (story, passage) of each hit."""
    return [[(h.story.story_id, h.text) for h in retriever.search(q, k=3).hits] for q in QUESTIONS]


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))


def current_generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def assert_nothing_embedded_from(spy: CountingEncoder, *unchanged: str) -> None:
    """No text of an unchanged story went through the model again."""
    for embedded in spy.texts:
        for text in unchanged:
            assert embedded not in text, f"re-embedded an unchanged story: {embedded[:60]!r}"


def assert_embedded(spy: CountingEncoder, passages: Sequence[str]) -> None:
    """Every word of every passage went through the model (in its sentences)."""
    for passage in passages:
        covered = {word for text in spy.texts if text in passage for word in text.split()}
        assert set(passage.split()) <= covered, f"not embedded: {passage[:60]!r}"


def stored_passages(
    index_dir: Path, settings: RetrievalSettings, model: Encoder, story_id: str
) -> list[str]:
    data = store.load(index_dir, build_spec(settings, model))
    return [p.text for p in data.passages if p.story_id == story_id]


@dataclass(frozen=True)
class Workspace:
    settings: RetrievalSettings
    index_dir: Path
    expected: Answers


@pytest.fixture(scope="module")
def model(cached_encoder: CachedEncoder) -> CachedEncoder:
    """The session's real encoder, through the session's cache of vectors."""
    return cached_encoder


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, model: CachedEncoder) -> Workspace:
    """Two small invented stories, indexed once per module, and what the index answers."""
    root = tmp_path_factory.mktemp("pristine")
    corpus = root / "corpus"
    corpus.mkdir()
    for story_id, text in STORIES.items():
        (corpus / f"{story_id}.txt").write_text(text, encoding="utf-8")
    settings = RetrievalSettings(corpus_dir=corpus, data_dir=root / "data")
    index_dir = settings.data_dir / "index"
    retriever = Retriever.open(settings, encoder=model, index_dir=index_dir)
    expected = answers(retriever)
    assert [hits[0][0] for hits in expected] == [MIRELA, OSKAR]
    # The multilingual vectors are written in the background: copies of a folder still
    # being written lose files (a copy once listed a temporary file that was then renamed).
    retriever.index.wait_multilingual(timeout=300)
    assert not retriever.index.multilingual_building
    retriever.close()
    return Workspace(settings, index_dir, expected)


@pytest.fixture
def work(pristine: Workspace, tmp_path: Path) -> Workspace:
    """A private copy of the pristine corpus and its index."""
    corpus = tmp_path / "corpus"
    shutil.copytree(pristine.settings.corpus_dir, corpus)
    shutil.copytree(pristine.settings.data_dir, tmp_path / "data")
    settings = pristine.settings.model_copy(
        update={"corpus_dir": corpus, "data_dir": tmp_path / "data"}
    )
    return Workspace(settings, settings.data_dir / "index", pristine.expected)


@pytest.fixture
def opened(work: Workspace, model: CachedEncoder) -> Retriever:
    """The copied index, opened (nothing to embed)."""
    spy = CountingEncoder(model)
    retriever = Retriever.open(work.settings, encoder=spy, index_dir=work.index_dir)
    assert spy.embedded == 0
    retriever.index.encoder = model
    return retriever


# --- persist and reload ------------------------------------------------------------------------


def test_first_open_builds_and_second_open_embeds_nothing(
    tmp_settings: RetrievalSettings, model: CachedEncoder
) -> None:
    index_dir = tmp_settings.data_dir / "index"
    first_spy = CountingEncoder(model)
    first = Retriever.open(tmp_settings, encoder=first_spy, index_dir=index_dir)
    for story in first.stories:
        passages = stored_passages(index_dir, tmp_settings, model, story.story_id)
        assert len(passages) == story.passages > 0
        assert_embedded(first_spy, passages)

    second_spy = CountingEncoder(model)
    second = Retriever.open(tmp_settings, encoder=second_spy, index_dir=index_dir)

    assert second_spy.embedded == 0
    assert second.stories == first.stories
    question = "What instrument did Bakhyt Camara's grandmother play?"
    assert [h.text for h in second.search(question).hits] == [
        h.text for h in first.search(question).hits
    ]
    assert second.search(question).hits[0].story.story_id == BAKHYT
    assert len(generations(index_dir)) == 1


def test_first_build_reports_every_story_as_added(
    tmp_settings: RetrievalSettings, model: CachedEncoder, tmp_path: Path
) -> None:
    data, report = refresh(tmp_settings, model, tmp_path / "index")

    assert report.rebuilt and report.touched
    assert sorted(report.added) == [TALGAT, BAKHYT]
    assert report.changed == report.removed == ()
    assert report.embedded_passages == len(data.passages)


def test_reopening_an_unchanged_corpus_reports_nothing(
    work: Workspace, model: CachedEncoder
) -> None:
    before = current_generation(work.index_dir)
    spy = CountingEncoder(model)

    _, report = refresh(work.settings, spy, work.index_dir)

    assert not report.touched
    assert report.embedded_passages == spy.embedded == 0
    assert current_generation(work.index_dir) == before  # nothing rewritten


# --- incremental updates -------------------------------------------------------------------------


def update(
    work: Workspace, retriever: Retriever, spy: CountingEncoder, via: str
) -> tuple[Retriever, UpdateReport]:
    """Bring the index up to date the way the bot does: reload in place, or open again."""
    if via == "reload":
        retriever.index.encoder = spy
        report = retriever.reload()
        retriever.index.encoder = spy.inner
        return retriever, report
    _, report = refresh(work.settings, spy, work.index_dir)
    return Retriever.open(work.settings, encoder=spy.inner, index_dir=work.index_dir), report


@pytest.mark.parametrize("via", ["reload", "reopen"])
def test_added_story_is_the_only_one_embedded(
    work: Workspace, opened: Retriever, model: CachedEncoder, via: str
) -> None:
    (work.settings.corpus_dir / f"{NEW_ID}.txt").write_text(NEW_STORY, encoding="utf-8")
    spy = CountingEncoder(model)

    retriever, report = update(work, opened, spy, via)

    assert report.added == (NEW_ID,)
    assert report.changed == report.removed == ()
    assert not report.rebuilt
    assert_nothing_embedded_from(spy, *STORIES.values())
    passages = stored_passages(work.index_dir, work.settings, model, NEW_ID)
    assert_embedded(spy, passages)
    story = retriever.story(NEW_ID)
    assert story is not None and story.passages == len(passages) == report.embedded_passages
    top = retriever.search("Who sings in The Night Market?").hits[0]
    assert top.story.story_id == NEW_ID
    assert top.artist == "Amara Okafor"
    # The old stories still answer their questions first.
    assert [hits[0] for hits in answers(retriever)] == [hits[0] for hits in work.expected]


class PausedEncoder(CountingEncoder):
    """The real encoder, held at its first passage embedding until released."""

    def __init__(self, inner: Encoder) -> None:
        super().__init__(inner)
        self.embedding = threading.Event()
        self.release = threading.Event()

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        self.embedding.set()
        assert self.release.wait(60), "never released"
        return super().encode(texts, batch_size=batch_size)


def test_questions_are_answered_from_the_previous_index_while_a_story_is_embedded(
    work: Workspace, opened: Retriever, model: CachedEncoder
) -> None:
    (work.settings.corpus_dir / f"{NEW_ID}.txt").write_text(NEW_STORY, encoding="utf-8")
    paused = PausedEncoder(model)
    opened.index.encoder = paused
    with ThreadPoolExecutor(1) as pool:
        reloading = pool.submit(opened.reload)
        try:
            assert paused.embedding.wait(60), "the reload never started embedding"

            during = answers(opened)  # the model is busy with the new story meanwhile
            before_the_new_story = opened.search("Who sings in The Night Market?")
        finally:
            paused.release.set()
        report = reloading.result(60)

    assert during == work.expected
    assert all(h.story.story_id != NEW_ID for h in before_the_new_story.hits)
    assert report.added == (NEW_ID,)
    assert opened.search("Who sings in The Night Market?").hits[0].story.story_id == NEW_ID


@pytest.mark.parametrize("via", ["reload", "reopen"])
def test_changed_story_is_the_only_one_embedded(
    work: Workspace, opened: Retriever, model: CachedEncoder, via: str
) -> None:
    path = work.settings.corpus_dir / f"{OSKAR}.txt"
    text = path.read_text(encoding="utf-8") + (
        "\nIn 2024 Oskar Lind released a solo record called Salt Lines, made with a drum "
        "machine he found at a flea market in Oslo.\n"
    )
    path.write_text(text, encoding="utf-8")
    spy = CountingEncoder(model)

    retriever, report = update(work, opened, spy, via)

    assert report.changed == (OSKAR,)
    assert report.added == report.removed == ()
    assert not report.rebuilt
    assert_nothing_embedded_from(spy, STORIES[MIRELA])
    passages = stored_passages(work.index_dir, work.settings, model, OSKAR)
    assert_embedded(spy, passages)
    assert report.embedded_passages == len(passages)
    hits = retriever.search("What was Oskar Lind's solo record called?", k=3).hits
    assert any("Salt Lines" in h.text for h in hits)


@pytest.mark.parametrize("via", ["reload", "reopen"])
def test_removed_story_embeds_nothing_and_disappears(
    work: Workspace, opened: Retriever, model: CachedEncoder, via: str
) -> None:
    (work.settings.corpus_dir / f"{OSKAR}.txt").unlink()
    spy = CountingEncoder(model)

    retriever, report = update(work, opened, spy, via)

    assert report.removed == (OSKAR,)
    assert report.added == report.changed == ()
    assert report.embedded_passages == 0
    assert_nothing_embedded_from(spy, STORIES[MIRELA])
    assert [s.story_id for s in retriever.stories] == [MIRELA]
    answer = retriever.search("What wood does Oskar Lind build his snare drums from?", k=5)
    assert all(h.story.story_id == MIRELA for h in answer.hits)
    assert not stored_passages(work.index_dir, work.settings, model, OSKAR)


def test_add_change_and_remove_in_one_update(
    work: Workspace, opened: Retriever, model: CachedEncoder
) -> None:
    corpus = work.settings.corpus_dir
    (corpus / f"{NEW_ID}.txt").write_text(NEW_STORY, encoding="utf-8")
    (corpus / f"{OSKAR}.txt").unlink()
    (corpus / f"{MIRELA}.toml").write_text(
        'artist = "Mirela Voss"\naliases = ["Mira"]\n', encoding="utf-8"
    )
    spy = CountingEncoder(model)

    retriever, report = update(work, opened, spy, "reload")

    assert (report.added, report.changed, report.removed) == ((NEW_ID,), (MIRELA,), (OSKAR,))
    assert_embedded(spy, stored_passages(work.index_dir, work.settings, model, NEW_ID))
    story = retriever.story(MIRELA)
    assert story is not None and "Mira" in story.names
    assert_derived_as_from_scratch(retriever.index.snapshot.data)
    # The update is on disk: a fresh open embeds nothing more.
    again = CountingEncoder(model)
    reopened = Retriever.open(work.settings, encoder=again, index_dir=work.index_dir)
    assert again.embedded == 0
    assert_derived_as_from_scratch(reopened.index.snapshot.data)


def assert_derived_as_from_scratch(data: store.IndexData) -> None:
    """The postings and words an update derived from the previous ones (or read back) are
    those of all the stories' passages analysed again."""
    from retrieval import pack, vocabulary
    from retrieval.lexical import story_terms
    from retrieval.passages import rows_by_story
    from retrieval.postings import Postings

    rows = rows_by_story(data.passages)
    texts = {
        s.story_id: [data.passages[i].text for i in rows.get(s.story_id, [])] for s in data.stories
    }
    scratch = pack.derive(
        [
            (story_terms(s, texts[s.story_id]), vocabulary.story_words(texts[s.story_id]))
            for s in data.stories
        ]
    )

    def by_term(postings: Postings) -> dict[str, list[tuple[int, float]]]:
        return {
            term: list(
                zip(
                    postings.rows[postings.starts[i] : postings.starts[i + 1]].tolist(),
                    postings.counts[postings.starts[i] : postings.starts[i + 1]].tolist(),
                    strict=True,
                )
            )
            for term, i in postings.vocabulary.items()
        }

    derived = data.derived
    assert derived is not None
    assert by_term(derived.postings) == by_term(scratch.postings)
    np.testing.assert_array_equal(derived.postings.lengths, scratch.postings.lengths)
    assert derived.words == scratch.words
    for got, wanted in [
        (derived.holders.tokens, scratch.holders.tokens),
        (derived.holders.spelling, scratch.holders.spelling),
    ]:
        assert dict(zip(*got, strict=True)) == dict(zip(*wanted, strict=True))


def test_sidecar_change_updates_the_artist_shown(work: Workspace, opened: Retriever) -> None:
    (work.settings.corpus_dir / f"{MIRELA}.toml").write_text(
        'artist = "Mirela Voss-Tamm"\nband = "Glass Harbour"\n', encoding="utf-8"
    )

    report = opened.reload()

    assert report.changed == (MIRELA,)
    assert opened.search(QUESTIONS[0]).hits[0].artist == "Mirela Voss-Tamm"


def test_old_generations_are_removed_after_an_update(work: Workspace, opened: Retriever) -> None:
    (work.settings.corpus_dir / f"{NEW_ID}.txt").write_text(NEW_STORY, encoding="utf-8")

    opened.reload()

    assert len(generations(work.index_dir)) == 1
    assert not [p for p in work.index_dir.iterdir() if p.name.startswith(".")]


# --- a different build, or a damaged one --------------------------------------------------------


def test_different_max_words_rebuilds_everything(work: Workspace, model: CachedEncoder) -> None:
    smaller = work.settings.model_copy(update={"max_words": 30})
    spy = CountingEncoder(model)

    data, report = refresh(smaller, spy, work.index_dir)

    assert report.rebuilt
    assert report.embedded_passages == len(data.passages)
    assert_embedded(spy, [p.text for p in data.passages])
    assert all(p.words <= 30 for p in data.passages)
    with pytest.raises(store.IndexMismatch, match="max_words"):
        store.load(work.index_dir, build_spec(work.settings, model))
    assert store.load(work.index_dir, build_spec(smaller, model)).spec.max_words == 30


@pytest.mark.parametrize("index_type", ["ivf", "flat", "fp16", "hnsw"])
def test_an_index_opens_as_any_type_without_embedding(
    work: Workspace, model: CachedEncoder, index_type: str
) -> None:
    settings = work.settings.model_copy(update={"index_type": index_type})
    spy = CountingEncoder(model)

    retriever = Retriever.open(settings, encoder=spy, index_dir=work.index_dir)

    assert spy.embedded == 0
    assert (
        type(retriever.index.snapshot.data.faiss).__name__
        == {
            "ivf": "IndexFlatIP",  # too few passages to group: every vector scanned
            "flat": "IndexFlatIP",
            "fp16": "IndexScalarQuantizer",
            "hnsw": "IndexHNSWFlat",
        }[index_type]
    )
    assert answers(retriever) == work.expected


def test_a_linked_index_made_at_opening_is_stored_and_read_back_next_time(
    work: Workspace, model: CachedEncoder
) -> None:
    settings = work.settings.model_copy(update={"index_type": "hnsw"})
    Retriever.open(settings, encoder=model, index_dir=work.index_dir)
    spec = build_spec(settings, model)

    again = store.load(work.index_dir, spec)

    assert not again.faiss_unsaved  # read from the generation, not linked again
    assert type(again.faiss).__name__ == "IndexHNSWFlat"
    assert again.faiss.ntotal == len(again.passages)
    default = store.load(work.index_dir, build_spec(work.settings, model))
    assert type(default.faiss).__name__ == "IndexFlatIP"  # the default type, made from vectors


def test_a_serving_index_is_frozen_out_of_collections_and_an_old_snapshot_still_freed(
    work: Workspace, model: CachedEncoder
) -> None:
    settings = work.settings.model_copy(update={"multilingual": "off"})
    gc.collect()
    before = gc.get_freeze_count()
    try:
        retriever = Retriever.open(settings, encoder=model, index_dir=work.index_dir, freeze=True)
        assert gc.get_freeze_count() > before
        old = retriever.index.snapshot
        kept = [weakref.ref(x) for x in (old.data.passages, old.speller, old.lexical, old.matcher)]
        del old
        (settings.corpus_dir / f"{NEW_ID}.txt").write_text(NEW_STORY, encoding="utf-8")

        retriever.reload()

        # Frozen objects are never collected, so a snapshot must go by reference counts.
        assert [ref() for ref in kept] == [None] * len(kept)
        collected = {id(o) for o in gc.get_objects()}  # all but the frozen
        assert id(retriever.index.snapshot.speller) not in collected  # frozen in turn
        assert [h.story.story_id for h in retriever.search(QUESTIONS[0], k=1).hits]
    finally:
        gc.unfreeze()


def test_searches_leave_no_passages_for_the_collector_to_walk(
    work: Workspace, model: CachedEncoder
) -> None:
    # A full collection walks every object made since the snapshot was frozen, holding the
    # GIL: passages kept from searches were most of them at squad-scale (130,000 objects).
    settings = work.settings.model_copy(update={"multilingual": "off"})
    try:
        retriever = Retriever.open(settings, encoder=model, index_dir=work.index_dir, freeze=True)
        for question in QUESTIONS:
            assert retriever.search(question, k=3).question

        walked = [o for o in gc.get_objects() if isinstance(o, (Passage, Span))]
        assert walked == []
    finally:
        gc.unfreeze()


def assert_rebuilt_and_right(work: Workspace, model: CachedEncoder) -> None:
    spy = CountingEncoder(model)
    retriever = Retriever.open(work.settings, encoder=spy, index_dir=work.index_dir)
    for story in retriever.stories:
        passages = stored_passages(work.index_dir, work.settings, model, story.story_id)
        assert_embedded(spy, passages)
    assert answers(retriever) == work.expected
    store.load(work.index_dir, build_spec(work.settings, model))  # valid again


@pytest.mark.parametrize(
    ("key", "value"),
    [("max_words", 159), ("chunker_version", 999), ("model", "other-model"), ("format_version", 3)],
)
def test_edited_manifest_spec_is_refused_and_rebuilt(
    work: Workspace, model: CachedEncoder, key: str, value: object
) -> None:
    manifest_path = current_generation(work.index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["spec"][key] = value
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(store.IndexMismatch, match=key):
        store.load(work.index_dir, build_spec(work.settings, model))
    assert_rebuilt_and_right(work, model)


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def garbage(path: Path) -> None:
    path.write_bytes(b"\x00not what was written\xff" * 3)


def remove_folder(path: Path) -> None:
    shutil.rmtree(path)


# What is harmed: a file of the generation, or of a story's segment ("segment/<file>").
DAMAGE: dict[str, tuple[str, Callable[[Path], object]]] = {
    "vectors.npy truncated": ("segment/vectors.npy", truncate),
    "vectors.npy flipped": ("segment/vectors.npy", flip_a_byte),
    "postings.npz garbage": ("postings.npz", garbage),
    "manifest.json truncated": ("manifest.json", truncate),
    "passages.json flipped": ("passages.json", flip_a_byte),
    "vectors.npy missing": ("segment/vectors.npy", Path.unlink),
    "sentence_vectors.npy truncated": ("segment/sentence_vectors.npy", truncate),
    "segment missing": ("segment", remove_folder),
    "words.json missing": ("words.json", Path.unlink),
}


def first_segment(index_dir: Path) -> Path:
    manifest = json.loads((current_generation(index_dir) / "manifest.json").read_text())
    name: str = manifest["segments"][0][1]
    return index_dir / "segments" / name


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_index_is_detected_and_rebuilt(
    work: Workspace, model: CachedEncoder, damage: str
) -> None:
    file_name, harm = DAMAGE[damage]
    if file_name.startswith("segment"):
        harm(first_segment(work.index_dir) / file_name.removeprefix("segment").lstrip("/"))
    else:
        harm(current_generation(work.index_dir) / file_name)

    with pytest.raises(store.IndexMismatch):
        store.load(work.index_dir, build_spec(work.settings, model))
    assert_rebuilt_and_right(work, model)


@pytest.mark.parametrize("name", ["terms.npy", "words.json"])
def test_a_damaged_segment_term_or_word_file_is_written_again_when_read(
    work: Workspace, model: CachedEncoder, name: str
) -> None:
    from retrieval import segments

    damaged = first_segment(work.index_dir)
    garbage(damaged / name)
    # Not read to open or update (the generation holds the merged postings and words):
    # read when a generation is made again from the segments, here after its manifest broke.
    truncate(current_generation(work.index_dir) / "manifest.json")

    retriever = Retriever.open(work.settings, encoder=model, index_dir=work.index_dir)

    segments.read_pieces(damaged, segments.checksums(damaged))  # whole again
    assert_derived_as_from_scratch(retriever.index.snapshot.data)
    assert answers(retriever) == work.expected


def analysed_sentence_terms(data: store.IndexData) -> list[tuple[frozenset[str], ...]]:
    """Each passage's sentences' terms, worked out from their text."""
    from retrieval.lexical import Analyzer

    analyze = Analyzer()
    return [tuple(frozenset(analyze(s.of(p.text))) for s in p.sentences) for p in data.passages]


def test_sentence_terms_are_read_from_the_segments_as_analysis_gives_them(
    work: Workspace, opened: Retriever, model: CachedEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrieval.snapshot import make_snapshot

    (work.settings.corpus_dir / f"{NEW_ID}.txt").write_text(NEW_STORY, encoding="utf-8")
    opened.reload()  # an update writes the new story's segment, with its sentence terms
    data = store.load(work.index_dir, build_spec(work.settings, model))
    assert set(data.sentence_terms) == {MIRELA, OSKAR, NEW_ID}
    snapshot = make_snapshot(data, model)
    analysed: list[str] = []
    monkeypatch.setattr(snapshot.lexical, "analyze", lambda text: analysed.append(text) or [])

    read = [snapshot.sentence_terms(i) for i in range(len(data.passages))]

    assert analysed == []  # read, not worked out
    assert read == analysed_sentence_terms(data)
    assert sum(len(terms) for terms in read) == int(data.sentence_offsets[-1])


@pytest.mark.parametrize("damage", ["garbage", "truncate", "missing"])
def test_unreadable_sentence_terms_are_analysed_instead(
    work: Workspace, model: CachedEncoder, damage: str
) -> None:
    path = first_segment(work.index_dir) / "sentence_terms.txt"
    {"garbage": garbage, "truncate": truncate, "missing": Path.unlink}[damage](path)

    retriever = Retriever.open(work.settings, encoder=model, index_dir=work.index_dir)

    snapshot = retriever.index.snapshot
    data = snapshot.data
    assert [snapshot.sentence_terms(i) for i in range(len(data.passages))] == (
        analysed_sentence_terms(data)
    )
    assert answers(retriever) == work.expected


@pytest.mark.parametrize("pointer", ["gen-doesnotexist", "", "../.."])
def test_current_pointing_nowhere_is_detected_and_rebuilt(
    work: Workspace, model: CachedEncoder, pointer: str
) -> None:
    (work.index_dir / "CURRENT").write_text(pointer)

    with pytest.raises(store.IndexMismatch):
        store.load(work.index_dir, build_spec(work.settings, model))
    assert_rebuilt_and_right(work, model)


def test_no_index_yet_is_a_mismatch(tmp_path: Path, model: CachedEncoder) -> None:
    spec = build_spec(RetrievalSettings(), model)

    with pytest.raises(store.IndexMismatch, match="no index"):
        store.load(tmp_path / "index", spec)


# --- a killed build --------------------------------------------------------------------------

BUILD_SCRIPT = """
import sys
from pathlib import Path
from retrieval import RetrievalSettings
from retrieval.indexing import refresh
from retrieval.models import open_encoder

settings = RetrievalSettings(corpus_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2]))
encoder = open_encoder(settings)
print("updating", flush=True)
refresh(settings, encoder, Path(sys.argv[3]))
print("done", flush=True)
"""


# Fixed points, plus seeded random points in the update (reproducible, spread over the build).
RANDOM_KILLS = [
    f"{random.Random(2026 + i).uniform(0.1, 6.0):.2f}s into the update" for i in range(4)
]


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", ["0.3s", "1s", "2s", "0.5s into the update", *RANDOM_KILLS])
def test_killed_build_leaves_the_previous_index(
    work: Workspace, model: CachedEncoder, session_data_dir: Path, tmp_path: Path, kill_after: str
) -> None:
    big_corpus = tmp_path / "squad"
    shutil.copytree(SQUAD_CORPUS, big_corpus)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [
        sys.executable,
        "-c",
        BUILD_SCRIPT,
        str(big_corpus),
        str(session_data_dir),
        str(work.index_dir),
    ]

    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        if kill_after.endswith("update"):
            line = process.stdout.readline()
            assert line.strip() == "updating", process.stderr.read()
            time.sleep(float(kill_after.split("s ")[0]))
        else:
            time.sleep(float(kill_after.rstrip("s")))
        still_running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
        stderr = process.stderr.read()
    assert still_running, f"the build ended before the kill: {stderr}"

    data = store.load(work.index_dir, build_spec(work.settings, model))
    assert sorted(data.digests) == [MIRELA, OSKAR]
    assert answers(Retriever(LiveIndex(work.settings, model, data))) == work.expected
    # Opening the small corpus again finds the old index whole: nothing to embed.
    spy = CountingEncoder(model)
    Retriever.open(work.settings, encoder=spy, index_dir=work.index_dir)
    assert spy.embedded == 0


def test_build_progress_counts_passages(
    tmp_settings: RetrievalSettings, model: CachedEncoder
) -> None:
    reports: list[tuple[int, int]] = []

    retriever = Retriever.open(
        tmp_settings, encoder=model, progress=lambda done, total: reports.append((done, total))
    )

    passages = sum(story.passages for story in retriever.stories)
    sentences = int(retriever.index.snapshot.data.sentence_vectors.shape[0])
    assert passages < sentences  # what the bar counted before: passages and sentences
    assert reports[0] == (0, passages)  # the total (and the bar) before the first embedding
    assert reports[-1] == (passages, passages)
    assert all(total == passages for _, total in reports)
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)


def test_the_one_off_model_export_is_known_in_advance(
    tmp_settings: RetrievalSettings, session_data_dir: Path
) -> None:
    assert export_needed(tmp_settings)  # an empty data directory: the export comes first
    prepared = tmp_settings.model_copy(update={"data_dir": session_data_dir})
    assert not export_needed(prepared)


def test_a_passage_vector_is_the_mean_of_its_sentences_by_words(
    tmp_settings: RetrievalSettings, model: CachedEncoder
) -> None:
    spy = CountingEncoder(model)

    data, report = refresh(tmp_settings, spy, tmp_settings.data_dir / "index")

    assert report.embedded_passages == len(data.passages)
    offsets = data.sentence_offsets
    for row, passage in enumerate(data.passages):
        texts = [s.of(passage.text) for s in passage.sentences]
        assert texts and set(texts) <= set(spy.texts)
        if len(texts) > 1:  # one pass over the words: the passage itself is not embedded
            assert passage.text not in spy.texts
        words = np.array([len(t.split()) for t in texts], dtype=np.float32)
        mean = words @ data.sentence_vectors[offsets[row] : offsets[row + 1]]
        np.testing.assert_allclose(data.vectors[row], mean / np.linalg.norm(mean), atol=1e-5)


def test_whole_passage_vectors_are_an_index_of_their_own(
    tmp_settings: RetrievalSettings, model: CachedEncoder
) -> None:
    whole = tmp_settings.model_copy(update={"passage_vectors": "whole"})
    spy = CountingEncoder(model)

    data, _ = refresh(whole, spy, whole.data_dir / "index")

    assert {p.text for p in data.passages} <= set(spy.texts)
    np.testing.assert_allclose(
        data.vectors, model.encode([p.text for p in data.passages]), atol=1e-5
    )
    stored = store.load(whole.data_dir / "index", build_spec(whole, model))
    assert stored.spec.passage_vectors == "whole"
    with pytest.raises(store.IndexMismatch, match="passage_vectors"):
        store.load(whole.data_dir / "index", build_spec(tmp_settings, model))


def segment_times(index_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (index_dir / "segments").iterdir()}


def test_an_update_writes_only_the_new_story_and_a_removal_writes_none(
    work: Workspace, opened: Retriever
) -> None:
    before = segment_times(work.index_dir)
    assert len(before) == len(STORIES)
    (work.settings.corpus_dir / f"{NEW_ID}.txt").write_text(NEW_STORY, encoding="utf-8")

    opened.reload()

    added = segment_times(work.index_dir)
    assert len(added) == len(before) + 1
    assert {k: added[k] for k in before} == before  # the other stories' segments untouched
    (work.settings.corpus_dir / f"{MIRELA}.txt").unlink()

    opened.reload()

    assert len(segment_times(work.index_dir)) == len(before)
    assert {k: v for k, v in segment_times(work.index_dir).items() if k in added} == {
        k: v for k, v in added.items() if k in segment_times(work.index_dir)
    }
    assert [h.story.story_id for h in opened.search(QUESTIONS[1], k=1).hits] == [OSKAR]
    assert_derived_as_from_scratch(opened.index.snapshot.data)


def test_batched_calibration_is_the_one_question_at_a_time_bar(
    opened: Retriever, tmp_path: Path
) -> None:
    from retrieval import calibration, relevance
    from retrieval import vectors as faiss_index

    snapshot, settings = opened.index.snapshot, opened.index.settings
    vectors = relevance.background_vectors(settings, opened.index.encoder)
    scores = []
    for question, vector in zip(relevance.background_questions(), vectors, strict=True):
        _, ids = faiss_index.search(snapshot.data.faiss, vector, settings.candidates)
        scores.append(relevance.null_score(snapshot, settings, question, vector, ids))
    unrelated = np.array([s for s in scores if not np.isnan(s)])
    expected = min(relevance.MAX_THRESHOLD, float(np.quantile(unrelated, settings.null_quantile)))

    bar = calibration.calibrate(snapshot, settings, opened.index.encoder, tmp_path / "absent")

    assert bar == pytest.approx(expected, abs=1e-6)


def test_the_cached_bar_is_keyed_by_the_model_that_embeds_questions(
    opened: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrieval import models, relevance

    snapshot, settings = opened.index.snapshot, opened.index.settings
    key = relevance.cache_key(snapshot, settings)
    float32 = settings.model_copy(update={"query_precision": "float32"})
    assert relevance.cache_key(snapshot, float32) != key

    # A new export quantises a new int8 copy: its question vectors, and so its bar, differ.
    monkeypatch.setattr(models, "EXPORT_VERSION", models.EXPORT_VERSION + 1)

    assert relevance.cache_key(snapshot, settings) != key


def test_a_cold_open_reads_no_text_of_an_indexed_unchanged_story(
    work: Workspace, model: CachedEncoder, tmp_path: Path
) -> None:
    from retrieval.corpus import StoryCache, load_corpus

    spec_data, _ = refresh(work.settings, model, tmp_path / "index")  # paths of this corpus
    (work.settings.corpus_dir / f"{OSKAR}.txt").write_text(NEW_STORY, encoding="utf-8")
    cache = StoryCache()
    cache.learn(spec_data.stories, spec_data.digests)

    stories = {s.story_id: s for s in load_corpus(work.settings.corpus_dir, cache=cache)}

    assert stories[MIRELA].text == ""  # known from the index: not decoded nor repaired
    assert stories[MIRELA].info == next(s for s in spec_data.stories if s.story_id == MIRELA)
    assert stories[OSKAR].text.strip()  # changed: read again


def test_opening_analyses_and_folds_no_passage_again(work: Workspace, model: CachedEncoder) -> None:
    from retrieval import lexical
    from retrieval.artists import ArtistMatcher
    from retrieval.snapshot import make_snapshot
    from retrieval.spelling import Speller

    lexical._terms.clear()
    data = store.load(work.index_dir, build_spec(work.settings, model))

    snapshot = make_snapshot(data, model)

    assert lexical._terms == {}  # the generation's merged postings were read: nothing analysed
    whole = lexical.LexicalIndex(
        [lexical.indexed_text(p.text, snapshot.stories[p.story_id]) for p in data.passages]
    )
    for question in QUESTIONS:
        terms = whole.analyze(question)
        np.testing.assert_array_equal(snapshot.lexical.scores(terms), whole.scores(terms))
    # The stored words are exactly those the matcher and the speller fold from the passages.
    lexicon = model.lexicon()
    matcher = ArtistMatcher(
        data.stories,
        vocabulary={w for p in data.passages for w in p.text.lower().split()},
        lexicon=lexicon,
    )
    assert snapshot.matcher._vocabulary == matcher._vocabulary
    assert snapshot.matcher._lexicon == matcher._lexicon
    letters = {w for p in data.passages for w in re.findall(r"[^\W\d_]+", p.text.lower())}
    names = {w for s in data.stories for n in s.names for w in re.findall(r"[^\W\d_]+", n.lower())}
    speller = Speller(letters | names, lexicon)
    assert snapshot.speller._known == speller._known
    assert snapshot.speller._buckets == speller._buckets


def test_the_speller_updated_by_an_edit_is_the_speller_made_from_scratch(
    work: Workspace, opened: Retriever, model: CachedEncoder
) -> None:
    from retrieval.snapshot import make_snapshot

    def assert_as_from_scratch() -> None:
        updated = opened.index.snapshot.speller
        scratch = make_snapshot(opened.index.snapshot.data, model).speller
        assert updated._known == scratch._known
        assert updated._buckets == scratch._buckets

    (work.settings.corpus_dir / f"{NEW_ID}.txt").write_text(NEW_STORY, encoding="utf-8")
    opened.reload()

    assert_as_from_scratch()
    # A word only the new story holds is corrected towards it.
    assert opened.search("under a flyovr").corrected == "under a flyover"

    (work.settings.corpus_dir / f"{MIRELA}.txt").unlink()
    (work.settings.corpus_dir / f"{NEW_ID}.txt").unlink()
    opened.reload()

    assert_as_from_scratch()
    assert opened.search("under a flyovr").corrected is None  # gone with its story


class QuerySpy(CountingEncoder):
    """The real encoder, counting the questions embedded."""

    def __init__(self, inner: Encoder) -> None:
        super().__init__(inner)
        self.questions = 0

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
        self.questions += len(texts)
        return self.inner.encode_queries(texts, batch_size=batch_size)


def test_background_vectors_are_kept_beside_the_index(
    work: Workspace, model: CachedEncoder
) -> None:
    from retrieval import relevance

    relevance._background.clear()
    (work.index_dir / relevance.BACKGROUND_VECTORS).unlink(missing_ok=True)
    spy = QuerySpy(model)
    first = relevance.background_vectors(work.settings, spy, work.index_dir)
    assert spy.questions == len(relevance.background_questions())
    relevance._background.clear()  # as a new process

    again = relevance.background_vectors(work.settings, spy, work.index_dir)

    assert spy.questions == len(relevance.background_questions())  # read, not embedded
    np.testing.assert_array_equal(again, first)


def test_background_vectors_of_another_question_model_are_replaced_on_disk(
    work: Workspace, model: CachedEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrieval import models, relevance

    questions = len(relevance.background_questions())
    relevance._background.clear()
    relevance.background_vectors(work.settings, model, work.index_dir)
    # An upgrade's new export: the file on disk is of the old question model.
    monkeypatch.setattr(models, "EXPORT_VERSION", models.EXPORT_VERSION + 1)
    relevance._background.clear()
    spy = QuerySpy(model)
    relevance.background_vectors(work.settings, spy, work.index_dir)
    assert spy.questions == questions  # embedded again for the new model
    relevance._background.clear()  # as the next process

    relevance.background_vectors(work.settings, spy, work.index_dir)

    assert spy.questions == questions  # read from the file, not embedded every start


def test_the_bar_updated_after_an_edit_is_the_bar_calibrated_from_scratch(
    tmp_settings: RetrievalSettings, model: CachedEncoder, tmp_path: Path
) -> None:
    from retrieval import calibration, relevance

    # The seed and dev stories, with fewer candidates than passages: the update's own path.
    for path in (ROOT / "eval" / "dev" / "corpus").glob("*.txt"):
        shutil.copy(path, tmp_settings.corpus_dir / path.name)
    settings = tmp_settings.model_copy(update={"candidates": 5})
    retriever = Retriever.open(settings, encoder=model)
    vectors = relevance.background_vectors(settings, model)

    def assert_as_from_scratch() -> None:
        snapshot = retriever.index.snapshot
        state = snapshot.null_state
        assert isinstance(state, calibration.NullState)
        assert state.ids.shape[1] == 5  # updated in place, not "every passage a candidate"
        searched = calibration._searched(snapshot, settings, vectors)
        assert np.array_equal(state.best, searched.best)
        assert np.allclose(state.score, searched.score, equal_nan=True)
        bar = calibration.calibrate(snapshot, settings, model, tmp_path / "absent")
        assert snapshot.min_dense == pytest.approx(bar, abs=1e-6)

    try:
        assert_as_from_scratch()
        (settings.corpus_dir / f"{NEW_ID}.txt").write_text(NEW_STORY, encoding="utf-8")
        assert retriever.reload().added == (NEW_ID,)
        assert_as_from_scratch()
        retriever.remove_story("dev_b")
        assert_as_from_scratch()
    finally:
        retriever.close()
