"""Fixtures of the operator page: a chat layer with a question log holding real questions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.chat import ActionKind, ActionRequest, ChatService, FeedbackStore, Incoming, ReplyKind
from bot.chat.questionlog import QuestionLog
from bot.settings import ChatSettings, Settings
from bot.web import create_app
from retrieval import RetrievalSettings, Retriever

TOKEN = "operator-token-for-tests-0123456789"
MARKUP = '<script>alert("x")</script><b>her albums?</b>'
ANSWERED = "Who founded Moonlight Serenaders?"
VOTED_DOWN = "What instrument did Bakhyt's grandmother play?"


@pytest.fixture
def chat_settings(retrieval_settings: RetrievalSettings, tmp_path: Path) -> Settings:
    """Settings with feedback (and the question log) in a per-test file."""
    return Settings(
        retrieval=retrieval_settings, chat=ChatSettings(feedback_db=tmp_path / "feedback.sqlite3")
    )


@pytest.fixture
def feedback(chat_settings: Settings) -> FeedbackStore:
    """A feedback store in the test's directory."""
    return FeedbackStore(chat_settings.feedback_path)


@pytest.fixture
def questions(chat_settings: Settings) -> Iterator[QuestionLog]:
    """A question log in the test's feedback database."""
    log = QuestionLog(chat_settings.feedback_path, b"web-test-secret")
    yield log
    log.close()


@pytest.fixture
async def logged_chat(
    retriever: Retriever, chat_settings: Settings, feedback: FeedbackStore, questions: QuestionLog
) -> ChatService:
    """A chat layer whose log holds an answer, a 👎-voted answer and unanswered questions."""
    chat = ChatService(retriever, chat_settings, feedback, questions=questions)
    asked = [ANSWERED, VOTED_DOWN, MARKUP, "what records did she put out", "what is pi"]
    for n, text in enumerate(asked):
        reply = await chat.handle(Incoming("telegram", f"chat-{n}", f"user-{n}", text))
        if text == VOTED_DOWN:
            assert reply.kind is ReplyKind.ANSWER and reply.answer_id
            await chat.act(
                ActionRequest(ActionKind.UNHELPFUL, reply.answer_id, f"chat-{n}", "voter"),
                platform="telegram",
            )
    questions.flush()
    return chat


@pytest.fixture
def app(logged_chat: ChatService) -> Starlette:
    """The operator page over that chat layer."""
    return create_app(logged_chat, TOKEN)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """A client that is not logged in (HTTPS, so the Secure cookie is sent back)."""
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def log_in(client: TestClient) -> str:
    """Log ``client`` in; return the session's CSRF token."""
    page = client.get("/login")
    response = client.post("/login", data={"token": TOKEN, "csrf": csrf_of(page.text)})
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/try").text)
