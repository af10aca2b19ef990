"""The build's reference line: whole passages timed in slices spread over the build."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.reference import SLICES, Interleaved, _spread, sample_passages
from retrieval import RetrievalSettings, Retriever
from retrieval.embedding import Encoder
from tests.conftest import EVAL_DIR


@pytest.mark.parametrize("size", [1, 2, 7, 434])
def test_stories_are_visited_once_each_ends_first(size: int) -> None:
    order = _spread(size)

    assert sorted(order) == list(range(size))
    assert order[: min(size, 2)] == [0, size - 1][: min(size, 2)]
    if size > 2:
        assert order[2] == round((size - 1) / 2)


def test_the_sample_is_the_passages_a_build_makes(retriever: Retriever, encoder: Encoder) -> None:
    texts = sample_passages(retriever.settings, encoder)

    built = {p.text for p in retriever.index.snapshot.data.passages}
    assert texts and set(texts) == built


def test_a_large_corpus_is_sampled_across_its_stories(
    retrieval_settings: RetrievalSettings, encoder: Encoder
) -> None:
    corpus = EVAL_DIR / "squad-artists-public" / "corpus"
    settings = retrieval_settings.model_copy(update={"corpus_dir": corpus})

    texts = sample_passages(settings, encoder, count=40)

    assert len(texts) == 40
    assert len(set(texts)) == 40
    first, last = sorted(corpus.iterdir())[0], sorted(corpus.iterdir())[-1]
    assert any(t in first.read_text() for t in texts)
    assert any(t in last.read_text() for t in texts)


def test_every_slice_runs_once_between_the_builds_batches(
    retriever: Retriever, encoder: Encoder
) -> None:
    texts = [p.text for p in retriever.index.snapshot.data.passages] * 20
    reference = Interleaved(encoder, texts, batch_size=8)

    reference.during(0, 100)  # the total, before the first batch: nothing yet
    assert reference.passages == 0
    seen = []
    for done in range(1, 101):
        reference.during(done, 100)
        seen.append(reference.passages)
    reference.finish()  # nothing left for it

    # Each slice's first batch warms the model up untimed; the rest is timed.
    assert reference.passages == len(texts) - SLICES * 8
    assert reference.spent > reference.seconds > 0 and reference.rate > 0
    assert len(set(seen)) == SLICES + 1  # no slice yet, then one more at each of SLICES points
    assert seen[4] == 0 and seen[-1] == reference.passages  # the first due at a tenth


def test_slices_the_build_did_not_reach_run_at_the_end(
    retriever: Retriever, encoder: Encoder
) -> None:
    texts = [p.text for p in retriever.index.snapshot.data.passages]
    reference = Interleaved(encoder, texts, batch_size=8)

    reference.during(1, 1)  # one batch: the first slice is due, the others are not reached
    ran = reference.passages
    reference.finish()

    assert 0 < ran < reference.passages
    assert reference.passages > 0


def test_the_build_child_reports_both_reference_lines(
    tmp_path: Path, retrieval_settings: RetrievalSettings, encoder: Encoder
) -> None:
    from benchmarks.child import build

    data = tmp_path / "data"
    data.mkdir()  # the session's exported model, shared (the encoder fixture made it)
    (data / "models").symlink_to(retrieval_settings.data_dir / "models", target_is_directory=True)
    settings = RetrievalSettings(corpus_dir=EVAL_DIR / "dev" / "corpus", data_dir=data)

    result = build(settings.model_dump_json())

    assert 0 < result["passage_only_passages"] <= result["passages"]
    assert result["passage_only_per_s"] > 0 and result["passage_only_after_per_s"] > 0
    assert result["wall_s"] > 0
