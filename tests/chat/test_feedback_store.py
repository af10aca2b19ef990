"""The SQLite feedback store: upserts, persistence and export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.chat.feedback import COLUMNS, FeedbackStore, Vote


def vote(user: str, value: int, answer: str = "a1") -> Vote:
    return Vote(
        answer_id=answer,
        platform="telegram",
        chat_id="c",
        user_id=user,
        question='Who? "quoted", <b>',
        story_id="s1",
        artist="Talgat",
        vote=value,
    )


def test_votes_persist_and_export(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "feedback.sqlite3"
    store = FeedbackStore(path)
    store.record(vote("u1", 1))
    store.record(vote("u1", -1))
    store.record(vote("u2", 1, answer="a2"))
    reopened = FeedbackStore(path)
    assert [(v.user_id, v.vote) for v in reopened.votes()] == [("u1", -1), ("u2", 1)]
    out = io.StringIO()
    assert reopened.export(out, fmt="csv") == 2
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == COLUMNS and rows[1][4] == 'Who? "quoted", <b>'
    out = io.StringIO()
    assert reopened.export(out, fmt="jsonl") == 2
    assert json.loads(out.getvalue().splitlines()[1])["answer_id"] == "a2"
    with pytest.raises(ValueError):
        reopened.export(io.StringIO(), fmt="xml")
