"""The eval contract's figures on tiny hand-made cases (no model, no index)."""

from __future__ import annotations

import json
from pathlib import Path

from retrieval import Hit, Span, StoryInfo
from retrieval.evaluation import Question, highlights_answer, read_questions

STORY = StoryInfo("s", "s", "Bakhyt Camara")
PASSAGE = (
    "As Bakhyt Camara took the stage, a hush fell over the crowd. "
    "She wore a blue and white dress. The balalaika echoed."
)
HUSH = Span(0, 60)
DRESS = Span(61, 93)


def hit(text: str, highlighted: Span) -> Hit:
    return Hit(text=text, story=STORY, score=1.0, best_sentence=highlighted)


def test_the_labelled_sentence_must_be_the_highlighted_one() -> None:
    dress = Question(
        "q", "what was she wearing", ("blue and white",), "She wore a blue and white dress."
    )

    assert highlights_answer(dress, [hit(PASSAGE, DRESS)]) is True
    assert highlights_answer(dress, [hit(PASSAGE, HUSH)]) is False


def test_without_a_label_the_highlight_must_hold_an_answer_string() -> None:
    dress = Question("q", "what was she wearing", ("Blue and White", "embroidery"))

    assert highlights_answer(dress, [hit(PASSAGE, DRESS)]) is True
    assert highlights_answer(dress, [hit(PASSAGE, HUSH)]) is False


def test_the_first_passage_holding_the_answer_is_the_one_judged() -> None:
    dress = Question(
        "q", "what was she wearing", ("blue and white",), "She wore a blue and white dress."
    )
    elsewhere = hit("The president thanked her. She smiled.", Span(0, 26))

    assert highlights_answer(dress, [elsewhere, hit(PASSAGE, DRESS), hit(PASSAGE, HUSH)]) is True
    assert highlights_answer(dress, [elsewhere, hit(PASSAGE, HUSH), hit(PASSAGE, DRESS)]) is False


def test_a_question_whose_answer_is_not_shown_does_not_count() -> None:
    dress = Question("q", "what was she wearing", ("blue and white",))

    assert highlights_answer(dress, []) is None
    assert highlights_answer(dress, [hit("The president thanked her.", Span(0, 26))]) is None


def test_the_sentence_label_is_read_and_optional(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    lines = [
        {"id": "a", "question": "q?", "answers": ["x"], "sentence": "An x here.", "kind": "plain"},
        {"id": "b", "question": "r?", "answers": []},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")

    assert read_questions(path) == [
        Question("a", "q?", ("x",), "An x here."),
        Question("b", "r?", ()),
    ]
