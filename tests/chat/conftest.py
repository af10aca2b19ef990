"""Fixtures of the chat layer: a fresh ChatService over the shared session retriever."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chat import ChatService, FeedbackStore
from bot.settings import ChatSettings, Settings
from retrieval import RetrievalSettings, Retriever


@pytest.fixture
def chat_settings(retrieval_settings: RetrievalSettings, tmp_path: Path) -> Settings:
    """Settings with a small rate limit and feedback in a per-test file."""
    return Settings(
        retrieval=retrieval_settings,
        chat=ChatSettings(
            max_question_chars=500,
            rate_limit_questions=3,
            rate_limit_seconds=60,
            feedback_db=tmp_path / "feedback.sqlite3",
        ),
    )


@pytest.fixture
def feedback(chat_settings: Settings) -> FeedbackStore:
    """A feedback store in the test's directory."""
    return FeedbackStore(chat_settings.feedback_path)


@pytest.fixture
def chat(retriever: Retriever, chat_settings: Settings, feedback: FeedbackStore) -> ChatService:
    """A chat layer with no conversation history."""
    return ChatService(retriever, chat_settings, feedback)
