"""The shipped question sets are well formed: what the evaluation figures rest on."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from retrieval.corpus import load_corpus
from retrieval.text import sentence_spans
from tests.conftest import EVAL_DIR

ROOT = EVAL_DIR.parent
# (corpus, questions): the seed test set and the development set.
SETS = {
    "seeds": (ROOT / "corpus", EVAL_DIR / "seeds" / "questions.jsonl"),
    "dev": (EVAL_DIR / "dev" / "corpus", EVAL_DIR / "dev" / "questions.jsonl"),
}


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_answer_is_in_the_stories_and_ids_are_unique(name: str) -> None:
    corpus, questions = SETS[name]
    text = "\n".join(story.text for story in load_corpus(corpus)).casefold()
    items = records(questions)

    assert len({item["id"] for item in items}) == len(items)
    missing = [
        (item["id"], answer)
        for item in items
        for answer in item["answers"]
        if answer.casefold() not in text
    ]
    assert not missing


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_set_has_the_kinds_the_issue_asks_for(name: str) -> None:
    kinds = Counter(str(item["kind"]) for item in records(SETS[name][1]))
    answerable = sum(n for kind, n in kinds.items() if kind != "out_of_corpus")

    assert answerable >= 30 and kinds["out_of_corpus"] >= 8
    assert {"paraphrase", "lowercase_typo", "band_only", "ambiguous"} <= set(kinds)


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_answerable_question_labels_one_sentence_of_the_stories(name: str) -> None:
    corpus, questions = SETS[name]
    sentences = {
        span.of(story.text) for story in load_corpus(corpus) for span in sentence_spans(story.text)
    }
    answerable = [item for item in records(questions) if item["answers"]]

    unlabelled = [item["id"] for item in answerable if not item.get("sentence")]
    not_a_sentence = [item["id"] for item in answerable if item.get("sentence") not in sentences]
    no_answer_in_it = [
        item["id"]
        for item in answerable
        if not any(a.casefold() in str(item.get("sentence")).casefold() for a in item["answers"])
    ]
    assert (unlabelled, not_a_sentence, no_answer_in_it) == ([], [], [])
