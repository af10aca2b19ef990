"""Search terms: what BM25 sees of a question and a passage."""

from __future__ import annotations

import numpy as np

from retrieval.lexical import Analyzer, LexicalIndex


def test_contractions_and_possessives_leave_no_letter_terms() -> None:
    analyze = Analyzer()
    assert analyze("Who's in charge of Talgat's band? It didn't say.") == [
        "charg",
        "talgat",
        "band",
        "say",
    ]


def test_a_possessive_in_a_passage_does_not_match_a_contraction_in_a_question() -> None:
    index = LexicalIndex(["Talgat's band played rock.", "A quiet evening by the lake."])
    assert index.terms("who's there?") == []
    assert np.all(index.scores(index.terms("who's there?")) == 0)


def test_numbers_stay_searchable() -> None:
    index = LexicalIndex(["They formed in 2014 with 5 friends.", "No dates here."])
    assert index.terms("founded in 2014 by 5 people") == ["2014", "5"]
