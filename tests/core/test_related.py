"""Question words the stories never use, searched as the stories' own words, and the
"band" a band's name leaves in the question's rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import Retriever
from retrieval.analysis import Query
from retrieval.corpus import load_corpus
from retrieval.related import MIN_COSINE, PER_WORD, WordNeighbours, for_model
from tests.core.conftest import SEED_DIR


@pytest.fixture(scope="module")
def neighbours() -> WordNeighbours:
    found = for_model("all-MiniLM-L6-v2")
    assert found is not None, "the packaged model has a word-piece table"
    return found


def analysed(retriever: Retriever, question: str) -> Query:
    query = retriever.engine.prepare(question).query
    assert query is not None
    return query


def test_the_models_nearest_words_to_granny_are_her_other_names(
    neighbours: WordNeighbours,
) -> None:
    nearest = neighbours.nearest("granny")

    words = [w for w, _ in nearest]
    assert {"grandma", "grandmother"} <= set(words[:3]), nearest
    cosines = [c for _, c in nearest]
    assert cosines == sorted(cosines, reverse=True)
    assert min(cosines) >= MIN_COSINE
    assert "granny" not in words


@pytest.mark.parametrize("word", ["qzxvwk", "Granny", "über", ""])
def test_a_word_outside_the_models_lowercase_vocabulary_has_no_neighbours(
    neighbours: WordNeighbours, word: str
) -> None:
    assert neighbours.nearest(word) == ()


def test_only_words_the_caller_knows_are_related_and_no_more_than_a_few(
    neighbours: WordNeighbours,
) -> None:
    words = ["granny", "mom", "qzxvwk"]

    assert neighbours.related(words, lambda w: w == "grandmother") == {
        "granny": (("grandmother", neighbours.nearest("granny")[1][1]),),
        "mom": (),
        "qzxvwk": (),
    }
    assert len(neighbours.related(["mom"], lambda w: True)["mom"]) == PER_WORD
    assert neighbours.related(["granny"], lambda w: False) == {"granny": ()}


def test_words_looked_up_together_get_what_each_gets_alone(neighbours: WordNeighbours) -> None:
    words = ["hubby", "grandpa", "mom", "granny", "founded"]
    together = neighbours.nearest_all(words)

    fresh = WordNeighbours(neighbours.model_dir)
    for word in words:
        alone = fresh.nearest(word)
        assert [w for w, _ in together[word]] == [w for w, _ in alone], word
        assert [c for _, c in together[word]] == pytest.approx([c for _, c in alone], abs=1e-3)


def test_a_question_word_the_stories_never_use_is_searched_as_the_one_they_use(
    retriever: Retriever,
) -> None:
    query = analysed(retriever, "what instrument did bakhyt's granny play")

    lexical = retriever.index.snapshot.lexical
    assert lexical.idf(lexical.analyze("granny")[0]) == 0, "the seed stories say grandmother"
    related = dict(query.related)
    assert list(related) == lexical.analyze("grandmother"), query.related
    assert MIN_COSINE <= related[lexical.analyze("grandmother")[0]] < 1


def test_a_question_in_the_stories_own_words_brings_no_others(retriever: Retriever) -> None:
    # Any sentence of the stories is made only of words they use.
    story = load_corpus(SEED_DIR)[0]
    sentence = story.text.split(". ")[1]

    assert analysed(retriever, sentence).related == ()


@pytest.mark.parametrize(
    ("question", "rest"),
    [
        ("who did the steppe serenaders play for", "who did the band play for"),
        ("who founded moonlight serenaders", "who founded the band"),
        ("what did bakhyt camara wear on stage", "what did wear on stage"),
        ("what did bakhyt and the steppe serenaders sing", "what did and the band sing"),
    ],
)
def test_a_bands_name_leaves_the_band_in_the_questions_rest(
    retriever: Retriever, question: str, rest: str
) -> None:
    assert analysed(retriever, question).rest == rest


def test_a_question_in_russian_gets_no_english_words(retriever: Retriever) -> None:
    query = analysed(retriever, "Перед кем выступали Steppe Serenaders и бабуля Бахыт?")

    assert query.rest is not None and "band" not in query.rest, query.rest
    assert query.related == ()


def test_a_question_of_only_a_bands_name_and_one_word_keeps_no_rest(retriever: Retriever) -> None:
    # "the band" is no word of the question: one word of its own is too little to rank by.
    assert analysed(retriever, "steppe serenaders members").rest is None


def test_a_model_whose_word_table_cannot_be_read_leaves_questions_as_asked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "tokenizer.json").write_text("{not json")
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 16)
    broken = WordNeighbours(tmp_path)

    assert broken.related(["granny"], lambda w: True) == {"granny": ()}
    assert "no word neighbours" in caplog.text
