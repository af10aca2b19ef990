"""The chat layer's shared state behind its seams: the rate limit's storage and the conversations.

The rate limit is counted in a ``limits`` storage chosen by ``chat.rate_limit_storage``;
a storage the limiter cannot use is refused when the settings load. Conversations live
in a :class:`ConversationStore`: two services over one store continue each other's
conversations, as several bot processes sharing a store would.
"""

from __future__ import annotations

import pytest

from bot.chat import ActionKind, ActionRequest, ChatService, FeedbackStore, Incoming, ReplyKind
from bot.chat.conversations import MemoryConversations
from bot.chat.ratelimit import RateLimiter
from bot.settings import DEFAULT_CONFIG, Settings, SettingsError, load_settings
from retrieval import Retriever

BAKHYT = "Bakhyt Camara"


def msg(text: str, *, chat: str = "c1", user: str = "u1") -> Incoming:
    return Incoming(platform="test", chat_id=chat, user_id=user, text=text)


@pytest.fixture
def no_overrides(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The shipped configuration, whatever ARTISTBOT_* variables the outside world set."""
    import os

    for name in list(os.environ):
        if name.startswith("ARTISTBOT_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_the_default_storage_is_memory_and_counts_per_user(no_overrides: object) -> None:
    settings = load_settings(DEFAULT_CONFIG)
    assert settings.chat.rate_limit_storage == "memory://"

    limiter = RateLimiter(2, 60, storage=settings.chat.rate_limit_storage)

    assert limiter.allow("telegram", "alice") and limiter.allow("telegram", "alice")
    assert not limiter.allow("telegram", "alice")
    assert 1 <= limiter.retry_after("telegram", "alice") <= 60
    assert limiter.allow("telegram", "bob") and limiter.allow("discord", "alice")


@pytest.mark.parametrize(
    "uri",
    [
        "nonsense",  # no scheme
        "carrier-pigeon://loft",  # no such storage
        "async+memory://",  # a storage, but for asyncio limiters
        "memcached://localhost:11211",  # no moving window (or no client library)
    ],
)
def test_a_storage_the_limiter_cannot_use_is_refused_naming_the_setting(
    no_overrides: pytest.MonkeyPatch, uri: str
) -> None:
    no_overrides.setenv("ARTISTBOT_CHAT__RATE_LIMIT_STORAGE", uri)

    with pytest.raises(SettingsError) as error:
        load_settings(DEFAULT_CONFIG)

    assert "chat.rate_limit_storage" in str(error.value)
    assert "ARTISTBOT_CHAT__RATE_LIMIT_STORAGE" in str(error.value)


async def test_a_limiter_given_to_the_service_decides(
    retriever: Retriever, chat_settings: Settings, feedback: FeedbackStore
) -> None:
    class Closed:
        def allow(self, platform: str, user_id: str) -> bool:
            return False

        def retry_after(self, platform: str, user_id: str) -> int:
            return 42

    chat = ChatService(retriever, chat_settings, feedback, limiter=Closed())

    reply = await chat.handle(msg("Who founded Moonlight Serenaders?"))

    assert reply.kind is ReplyKind.REFUSED and "wait 42 s" in reply.text


async def test_services_sharing_one_store_continue_each_others_conversations(
    retriever: Retriever, chat_settings: Settings, feedback: FeedbackStore
) -> None:
    store = MemoryConversations()
    first = ChatService(retriever, chat_settings, feedback, conversations=store)
    second = ChatService(retriever, chat_settings, feedback, conversations=store)

    asked = await first.handle(msg("What instrument did Bakhyt's grandmother play?"))
    follow_up = await second.handle(msg("Who did she perform for?"))
    assert asked.answer_id is not None
    voted = await second.act(ActionRequest(ActionKind.HELPFUL, asked.answer_id, "c1", "u1"))

    assert {p.artist for p in follow_up.passages} == {BAKHYT}
    assert voted.kind is ReplyKind.INFO and "Thanks" in voted.text
    apart = ChatService(retriever, chat_settings, feedback)  # its own store: a stranger
    stale = await apart.act(ActionRequest(ActionKind.HELPFUL, asked.answer_id, "c1", "u1"))
    assert stale.kind is ReplyKind.REFUSED
