"""The chat layer's shared state behind its seams: the rate limit's storage and the conversations.

The rate limit is counted where ``chat.rate_limit_storage`` says: in this process
(``memory://``) or in a ``limits`` storage; a storage the limiter cannot use is refused
when the settings load. Conversations live in a :class:`ConversationStore`: two services
over one store continue each other's conversations, as several bot processes sharing a
store would.
"""

from __future__ import annotations

import pytest

from bot.chat import ActionKind, ActionRequest, ChatService, FeedbackStore, Incoming, ReplyKind
from bot.chat.conversations import MemoryConversations
from bot.chat.ratelimit import LocalLimiter, RateLimiter, open_limiter
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

    limiter = open_limiter(2, 60, storage=settings.chat.rate_limit_storage)

    assert isinstance(limiter, LocalLimiter)
    assert limiter.allow("telegram", "alice") and limiter.allow("telegram", "alice")
    assert not limiter.allow("telegram", "alice")
    assert 1 <= limiter.retry_after("telegram", "alice") <= 60
    assert limiter.allow("telegram", "bob") and limiter.allow("discord", "alice")


def test_the_local_window_moves_says_when_to_come_back_and_forgets_who_left() -> None:
    now = [0.0]
    limiter = LocalLimiter(2, 60, clock=lambda: now[0])

    assert limiter.allow("telegram", "alice")
    now[0] = 10.0
    assert limiter.allow("telegram", "alice")
    now[0] = 20.0
    assert not limiter.allow("telegram", "alice")  # refused questions are not counted
    assert limiter.retry_after("telegram", "alice") == 40  # the first leaves the window at 60
    now[0] = 60.5
    assert limiter.allow("telegram", "alice")
    assert not limiter.allow("telegram", "alice")
    assert limiter.retry_after("telegram", "alice") == 10  # the one asked at 10 s leaves next

    for user in range(LocalLimiter.SWEEP_EVERY):
        limiter.allow("discord", f"passer-by {user}")
    now[0] = 200.0  # a sweep comes within SWEEP_EVERY more questions
    for user in range(LocalLimiter.SWEEP_EVERY):
        limiter.allow("discord", f"late {user}")
    assert not [user for _, user in limiter._asked if user.startswith("passer-by")]
    assert limiter.allow("discord", "passer-by 0")  # forgotten, not refused


def test_a_shared_limits_storage_counts_the_same_way() -> None:
    limiter = RateLimiter(2, 60, storage="memory://")  # limits' own storage, as redis:// is

    assert limiter.allow("telegram", "alice") and limiter.allow("telegram", "alice")
    assert not limiter.allow("telegram", "alice")
    assert 1 <= limiter.retry_after("telegram", "alice") <= 60
    assert limiter.allow("telegram", "bob")


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
