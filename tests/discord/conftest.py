"""Fixtures of the Discord tests: the real bot over the shared retriever, in simcord."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chat import ChatService, FeedbackStore
from bot.discord import ArtistBot
from bot.settings import ChatSettings, DiscordSettings, Settings
from retrieval import RetrievalSettings, Retriever

ADMIN_ID = 4242


@pytest.fixture
def discord_settings(retrieval_settings: RetrievalSettings, tmp_path: Path) -> Settings:
    """Settings with feedback in a per-test file and one configured admin."""
    return Settings(
        retrieval=retrieval_settings,
        chat=ChatSettings(
            max_question_chars=500,
            rate_limit_questions=50,
            rate_limit_seconds=60,
            feedback_db=tmp_path / "feedback.sqlite3",
        ),
        discord=DiscordSettings(admins=(ADMIN_ID,)),
    )


@pytest.fixture
def feedback(discord_settings: Settings) -> FeedbackStore:
    """The SQLite feedback store of this test."""
    return FeedbackStore(discord_settings.feedback_path)


@pytest.fixture
def chat(retriever: Retriever, discord_settings: Settings, feedback: FeedbackStore) -> ChatService:
    """A fresh chat layer over the session's one real retriever."""
    return ChatService(retriever, discord_settings, feedback)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """Where the bot keeps the hash of its synced command tree."""
    return tmp_path / "state"


@pytest.fixture
def simcord_bot(chat: ChatService, discord_settings: Settings, state_dir: Path) -> ArtistBot:
    """The real Discord bot; simcord's ``simcord_env`` fixture logs it in."""
    return ArtistBot(chat, discord_settings, state_dir=state_dir)
