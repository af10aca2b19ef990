"""The private question log: what is stored, keyed hashes, retention and /forgetme."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.chat import ActionKind, ActionRequest, ChatService, FeedbackStore, Incoming, ReplyKind
from bot.chat.privacy import KEY_FILE, SECRET_VARIABLE, IdHasher, load_secret
from bot.chat.questionlog import QuestionLog
from bot.settings import Settings
from retrieval import Retriever

USER = "user-4711-very-identifiable"
ANSWERABLE = "Who founded Moonlight Serenaders?"
UNANSWERABLE = "What is the capital of Mongolia's second largest province?"


@pytest.fixture
def questions(chat_settings: Settings) -> QuestionLog:
    log = QuestionLog(chat_settings.feedback_path, b"test-secret")
    yield log
    log.close()


@pytest.fixture
def logged_chat(
    retriever: Retriever, chat_settings: Settings, feedback: FeedbackStore, questions: QuestionLog
) -> ChatService:
    return ChatService(retriever, chat_settings, feedback, questions=questions)


def rows(log: QuestionLog) -> list[dict[str, object]]:
    log.flush()
    with log.connect() as db:
        cursor = db.execute("SELECT * FROM questions ORDER BY id")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def message(text: str, *, chat: str = "group-1", user: str = USER, **kw: object) -> Incoming:
    return Incoming(platform="telegram", chat_id=chat, user_id=user, text=text, **kw)  # type: ignore[arg-type]


def test_hashes_are_keyed_stable_and_per_person() -> None:
    one, other = IdHasher(b"secret one"), IdHasher(b"secret two")
    assert one("user", "telegram", "42") == one("user", "telegram", "42")
    assert one("user", "telegram", "42") == one("user", "telegram-inline", "42")
    assert one("user", "telegram", "42") != one("user", "telegram", "43")
    assert one("user", "telegram", "42") != one("user", "discord", "42")
    assert one("user", "telegram", "42") != one("chat", "telegram", "42")
    assert one("user", "telegram", "42") != other("user", "telegram", "42")
    assert "42" not in one("user", "telegram", "42")


def test_secret_from_environment_or_generated_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    first = load_secret(tmp_path)
    assert len(first) == 64
    assert load_secret(tmp_path) == first
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv(SECRET_VARIABLE, "from-the-environment")
    assert load_secret(tmp_path) == b"from-the-environment"


async def test_a_question_is_logged_with_hashes_only(
    logged_chat: ChatService, questions: QuestionLog
) -> None:
    reply = await logged_chat.handle(message(ANSWERABLE, private=True))
    assert reply.kind is ReplyKind.ANSWER
    missed = await logged_chat.handle(message(UNANSWERABLE, chat="group-2"))
    assert missed.kind is ReplyKind.NO_ANSWER
    first, second = rows(questions)
    assert first["platform"] == "telegram" and first["private"] == 1
    assert first["question"] == ANSWERABLE and first["answered"] == 1
    assert first["top_artist"] == reply.passages[0].artist
    assert first["top_story_id"] and first["top_score"] == pytest.approx(reply.passages[0].score)
    assert first["latency_ms"] > 0 and first["vote"] is None
    assert [p["text"] for p in json.loads(str(first["passages"]))] == [
        p.text for p in reply.passages
    ]
    assert second["answered"] == 0 and second["private"] == 0 and second["top_story_id"] is None
    assert first["user_hash"] == second["user_hash"]
    assert first["chat_hash"] != second["chat_hash"]
    # The ids themselves are nowhere in the database file.
    raw = b"".join(p.read_bytes() for p in questions.path.parent.glob("feedback.sqlite3*"))
    assert USER.encode() not in raw and b"group-1" not in raw


async def test_a_vote_updates_the_logged_row(
    logged_chat: ChatService, questions: QuestionLog
) -> None:
    reply = await logged_chat.handle(message(ANSWERABLE))
    assert reply.answer_id is not None
    thanks = await logged_chat.act(
        ActionRequest(ActionKind.UNHELPFUL, reply.answer_id, "group-1", "someone"),
        platform="telegram",
    )
    assert thanks.kind is ReplyKind.INFO
    assert rows(questions)[0]["vote"] == -1


async def test_refusals_inline_queries_and_operator_tries_are_not_logged(
    logged_chat: ChatService, questions: QuestionLog
) -> None:
    await logged_chat.handle(message("   "))
    await logged_chat.handle(message("x" * 600))
    await logged_chat.handle(message(ANSWERABLE, inline=True))
    await logged_chat.handle(
        Incoming(platform="web", chat_id="web", user_id="operator", text=ANSWERABLE)
    )
    assert rows(questions) == []


def test_old_rows_are_deleted_at_start_and_by_the_daily_purge(chat_settings: Settings) -> None:
    now = [time.time() - 100 * 86400]
    path = chat_settings.feedback_path
    log = QuestionLog(path, b"k", retention_days=90, clock=lambda: now[0])
    log.record(message("old question"), _no_answer("old question"), 0.01)
    log.flush()
    now[0] = time.time() - 10 * 86400
    log.record(message("recent question"), _no_answer("recent question"), 0.01)
    log.close()
    # A restart deletes the question older than 90 days, keeps the other.
    log = QuestionLog(path, b"k", retention_days=90)
    assert [r["question"] for r in rows(log)] == ["recent question"]
    log.close()
    # The writer purges by itself once a day has passed since the last purge.
    clock = [time.time()]
    log = QuestionLog(path, b"k", retention_days=20, clock=lambda: clock[0])
    assert [r["question"] for r in rows(log)] == ["recent question"]
    clock[0] += 11 * 86400  # the question is now 21 days old
    deadline = time.monotonic() + 5
    while rows(log) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rows(log) == []
    log.close()


async def test_forgetme_deletes_the_askers_rows_in_every_chat(
    logged_chat: ChatService, questions: QuestionLog, feedback: FeedbackStore
) -> None:
    answer = await logged_chat.handle(message(ANSWERABLE, chat="group-1"))
    await logged_chat.handle(message(UNANSWERABLE, chat="private-9", private=True))
    assert answer.answer_id is not None
    await logged_chat.act(
        ActionRequest(ActionKind.HELPFUL, answer.answer_id, "group-1", USER), platform="telegram"
    )
    await logged_chat.handle(message(ANSWERABLE, chat="group-1", user="someone-else"))
    await logged_chat.handle(
        Incoming(platform="discord", chat_id="c", user_id=USER, text=ANSWERABLE)
    )
    reply = await logged_chat.command("forgetme", "", message("", chat="private-9"))
    assert reply.kind is ReplyKind.INFO
    assert "3" in reply.text  # two questions and one vote
    left = rows(questions)
    assert len(left) == 2 and {r["platform"] for r in left} == {"telegram", "discord"}
    assert list(feedback.votes()) == []
    again = await logged_chat.command("forgetme", "", message("", chat="group-1"))
    assert "nothing stored" in again.text


async def test_forgetme_without_a_log_still_deletes_votes(
    chat: ChatService, feedback: FeedbackStore
) -> None:
    answer = await chat.handle(message(ANSWERABLE))
    assert answer.answer_id is not None
    await chat.act(
        ActionRequest(ActionKind.UNHELPFUL, answer.answer_id, "group-1", USER),
        platform="telegram",
    )
    reply = await chat.command("forgetme", "", message(""))
    assert "1 stored row" in reply.text
    assert list(feedback.votes()) == []


def _no_answer(question: str):  # type: ignore[no-untyped-def]
    from bot.chat import Reply

    return Reply(ReplyKind.NO_ANSWER, "nothing", question=question)
