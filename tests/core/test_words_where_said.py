"""A word the question shares with a passage counts where the passage speaks of the question."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from retrieval import RetrievalSettings, Retriever, ranking
from retrieval.embedding import Encoder
from tests.conftest import EVAL_DIR

PUBLIC = EVAL_DIR / "squad-artists-public"


@pytest.fixture(scope="module")
def public(
    retrieval_settings: RetrievalSettings,
    encoder: Encoder,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Retriever]:
    """The public SQuAD slice's six articles, indexed beside the session's seed index
    (English questions only: no multilingual vectors)."""
    update = {"corpus_dir": PUBLIC / "corpus", "multilingual": "off"}
    settings = retrieval_settings.model_copy(update=update)
    index_dir = tmp_path_factory.mktemp("public-index")
    opened = Retriever.open(settings, encoder=encoder, index_dir=index_dir)
    yield opened
    opened.close()


def _questions(count: int) -> list[str]:
    lines = (PUBLIC / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines[:: len(lines) // count]][:count]


def _top(retriever: Retriever, question: str, count: int) -> list[int]:
    answer = retriever.search(question, k=count)
    return [hit.passage_id for hit in answer.hits]


def test_cutting_the_best_first_ranks_them_as_cutting_every_passage(
    public: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = _questions(40)
    lazy = [_top(public, q, ranking.EXACT_TOP) for q in questions]
    monkeypatch.setattr(ranking, "EXACT_TOP", 10**6)  # every candidate cut

    assert [_top(public, q, len(top)) for q, top in zip(questions, lazy, strict=True)] == lazy


def test_a_passage_has_the_terms_of_its_sentences_and_story_names(public: Retriever) -> None:
    snapshot = public.index.snapshot
    analyze = snapshot.lexical.analyze

    for passage_id in range(len(snapshot.data.passages)):
        whole = frozenset(analyze(snapshot.indexed_text(passage_id)))
        assert snapshot.passage_terms(passage_id) == whole, passage_id
