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


def test_words_met_before_give_the_same_terms_as_new_ones(monkeypatch) -> None:
    """Each word's term is kept once found; a full table starts over. Neither changes what
    a text gives: the terms of the plain pipeline (fold, clitics off, stopwords off, stem)."""
    import Stemmer

    import retrieval.lexical as lexical
    from retrieval.text import fold

    stemmer = Stemmer.Stemmer("english")

    def plain(text: str) -> list[str]:
        words = lexical._TERM.findall(lexical._CLITIC.sub("", fold(text)))
        kept = [w for w in words if w not in lexical._STOPWORDS and (len(w) > 1 or w.isdigit())]
        return list(stemmer.stemWords(kept))

    texts = [p for story in squad_passages() for p in story][:300]
    texts.append("Who's in charge of Talgat's band? It didn't say. The the THE Runners' runner")
    expected = [plain(t) for t in texts]
    monkeypatch.setattr(lexical, "WORDS_CACHED", 200)
    small = Analyzer()
    assert [small(t) for t in texts] == expected
    assert [small(t) for t in reversed(texts)] == expected[::-1]  # words met before
    most_words = max(len(set(lexical._TERM.findall(fold(t)))) for t in texts)
    assert len(small._terms) <= 200 + most_words  # the table was started over


def test_a_possessive_in_a_passage_does_not_match_a_contraction_in_a_question() -> None:
    index = LexicalIndex(["Talgat's band played rock.", "A quiet evening by the lake."])
    assert index.terms("who's there?") == []
    assert np.all(index.scores(index.terms("who's there?")) == 0)


def test_numbers_stay_searchable() -> None:
    index = LexicalIndex(["They formed in 2014 with 5 friends.", "No dates here."])
    assert index.terms("founded in 2014 by 5 people") == ["2014", "5"]


def squad_passages() -> list[list[str]]:
    """The public SQuAD slice's passages, story by story."""
    from retrieval.chunking import split_passages
    from tests.core.conftest import SQUAD_CORPUS

    return [
        [p.text for p in split_passages(path.stem, path.read_text(encoding="utf-8"), max_words=160)]
        for path in sorted(SQUAD_CORPUS.glob("*.txt"))
    ]


QUESTIONS = [
    "When did Beyonce start becoming popular?",
    "What is the capital of the state",
    "who won the war in 1812 and the the war",  # a repeated term counts again
    "zzzz nothing matches",
]


def test_scores_are_bm25s_lucene_scores() -> None:
    import bm25s

    texts = [t for story in squad_passages() for t in story]
    ours = LexicalIndex(texts)
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index([ours.analyze(t) or ["\x00"] for t in texts], show_progress=False)
    for question in QUESTIONS:
        terms = [t for t in ours.analyze(question) if t in reference.vocab_dict]
        if not terms:
            assert not ours.scores(ours.analyze(question)).any()
            continue
        np.testing.assert_allclose(
            ours.scores(terms), reference.get_scores(terms), rtol=1e-5, atol=1e-6
        )


def test_an_index_merged_from_stories_is_the_index_of_all_their_passages() -> None:
    from retrieval.postings import count_terms

    stories = squad_passages()
    whole = LexicalIndex([t for story in stories for t in story])
    merged = LexicalIndex(counts=[count_terms(story, whole.analyze) for story in stories])
    assert len(merged) == len(whole)
    for question in QUESTIONS:
        terms = whole.analyze(question)
        np.testing.assert_array_equal(merged.scores(terms), whole.scores(terms))
        assert [merged.idf(t) for t in terms] == [whole.idf(t) for t in terms]


def test_the_stopwords_are_bm25s_english_ones() -> None:
    from bm25s.stopwords import STOPWORDS_EN

    from retrieval import lexical

    assert tuple(STOPWORDS_EN) == lexical.STOPWORDS_EN


def test_sentence_terms_stored_as_lines_read_back_as_analysed() -> None:
    from retrieval.lexical import read_sentence_lines, sentence_lines

    sentences = ["Talgat's band played rock.", "The the.", "Rock, rock and ROCK in 2014!"]
    stored = sentence_lines(sentences)

    lines = read_sentence_lines(stored, len(sentences))
    assert lines is not None
    analyze = Analyzer()
    assert [frozenset(line.split()) for line in lines] == [frozenset(analyze(t)) for t in sentences]
    assert lines[1] == "" and lines[2].split() == ["rock", "2014"]  # each term once
    assert read_sentence_lines(stored, 2) is None  # not the story's sentences
    assert read_sentence_lines(stored.replace("analyzer", "analyser", 1), 3) is None
    assert read_sentence_lines(sentence_lines([]), 0) == []
