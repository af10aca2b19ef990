"""A story whose header gives initials as an alias, found by them as a user types them.

Two small invented stories, indexed once with the real model in a private directory.
"""

from __future__ import annotations

import pytest

from retrieval import RetrievalSettings, Retriever
from tests.core.conftest import CachedEncoder

AIGERIM = "aigerim"
DANIYAR = "daniyar"
STORIES = {
    AIGERIM: """\
---
artist: Aigerim Nurlanova
aliases: Aigerim, A. N.
---
Aigerim Nurlanova plays the kobyz, a two-stringed fiddle bowed with horsehair, in the folk
trio "Altai Wind". She learned it from her uncle in a village near Semey.

On stage Aigerim Nurlanova sits on a low stool, and she tunes the kobyz between every song
because the horsehair strings stretch in the heat of the lights.
""",
    DANIYAR: """\
Daniyar Seitkali plays the piano in a jazz club in Almaty every Friday night. He taught
himself from records his father brought back from Moscow.

Daniyar Seitkali writes a new tune each week and names it after a street of the old town.
""",
}


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, cached_encoder: CachedEncoder) -> Retriever:
    root = tmp_path_factory.mktemp("initials")
    corpus = root / "corpus"
    corpus.mkdir()
    for story_id, text in STORIES.items():
        (corpus / f"{story_id}.txt").write_text(text, encoding="utf-8")
    settings = RetrievalSettings(corpus_dir=corpus, data_dir=root / "data")
    return Retriever.open(settings, encoder=cached_encoder, index_dir=root / "index")


def test_the_header_gives_the_initials_as_an_alias(retriever: Retriever) -> None:
    story = retriever.story(AIGERIM)

    assert story is not None and "A. N." in story.aliases


@pytest.mark.parametrize(
    "question", ["what does A. N. play", "what does A.N. play", "what does AN play"]
)
def test_a_question_naming_the_initials_is_answered_from_that_story(
    retriever: Retriever, question: str
) -> None:
    answer = retriever.search(question)

    assert [s.story_id for s in answer.mentioned] == [AIGERIM]
    assert answer.found, answer.reason
    assert answer.hits[0].story.story_id == AIGERIM
    assert "kobyz" in answer.hits[0].text


@pytest.mark.parametrize("name", ["A. N.", "A.N.", "AN", "a.n."])
def test_about_finds_the_story_by_its_initials(retriever: Retriever, name: str) -> None:
    assert [s.story_id for s in retriever.find_stories(name)] == [AIGERIM]


def test_the_article_an_names_nobody(retriever: Retriever) -> None:
    assert retriever.find_stories("an") == []
    assert retriever.search("what does an artist play in a jazz club").mentioned == ()


def test_the_question_ranks_without_the_initials_but_keeps_its_articles(
    retriever: Retriever,
) -> None:
    query = retriever.engine.prepare("what does A. N. play in a trio").query

    assert query is not None
    assert query.rest == "what does play in a trio"
