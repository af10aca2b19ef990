"""The chat layer's memory: recent answers (for buttons), each chat's last answer, and
which artist each person in a chat is talking about (their topic).

:class:`ConversationStore` is what the chat layer needs of that memory;
:class:`MemoryConversations` keeps it in this process, bounded. Several bot
processes that should continue each other's conversations would share one store
that implements the same methods. The rules of a topic are in :mod:`bot.chat.topics`.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Answers remembered for "More" and feedback buttons; older ones become stale.
MAX_ANSWERS = 5000
# Chats whose last answer, and people whose topic, are remembered.
MAX_CHATS = 10000
ANSWER_ID_BYTES = 6  # 8 URL-safe characters


class LRU(Generic[K, V]):
    """A small bounded mapping that forgets the least recently used key."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value for ``key`` (marking it recently used), or ``None``."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Store ``value``, evicting the oldest entry when full."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        """Forget ``key`` (nothing happens when it is unknown)."""
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """What the chat layer needs to continue or rate one answer."""

    answer_id: str
    platform: str
    chat_id: str
    question: str
    story_id: str | None  # the story filter the question was searched with
    next_offset: int  # where "More" continues
    remaining: int  # passages left after this answer
    top_story_id: str = ""
    top_artist: str = ""
    k: int | None = None  # passages per page, when not the configured default


@dataclass(frozen=True, slots=True)
class Topic:
    """The story a person's questions are about, and when it was last talked about."""

    story_id: str
    at: float  # time.time() of the last question that kept or set it


# Who a topic belongs to: platform, chat and user (two people in a group can talk
# about different artists).
TopicKey = tuple[str, str, str]


def new_answer_id() -> str:
    """A short random id (8 characters), unique across restarts for practical purposes."""
    return secrets.token_urlsafe(ANSWER_ID_BYTES)


class ConversationStore(Protocol):
    """Where the chat layer keeps answers, each chat's last answer and each person's topic."""

    def remember(self, record: AnswerRecord) -> None:
        """Keep an answer so its buttons work, and make it the chat's last answer."""
        ...

    def answer(self, answer_id: str) -> AnswerRecord | None:
        """A remembered answer, or ``None`` when unknown or forgotten."""
        ...

    def last_answer(self, platform: str, chat_id: str) -> str | None:
        """The id of the chat's last answer ("/more" continues it), if any."""
        ...

    def topic(self, key: TopicKey) -> Topic | None:
        """The topic of one person in one chat, if any (however old)."""
        ...

    def set_topic(self, key: TopicKey, topic: Topic | None) -> None:
        """Set (or, with ``None``, clear) the topic of one person in one chat."""
        ...


class MemoryConversations:
    """A :class:`ConversationStore` in this process, bounded: the least recently used
    answers, chats and topics are forgotten."""

    def __init__(self, *, max_answers: int = MAX_ANSWERS, max_chats: int = MAX_CHATS) -> None:
        self._answers: LRU[str, AnswerRecord] = LRU(max_answers)
        self._last: LRU[tuple[str, str], str] = LRU(max_chats)
        self._topics: LRU[TopicKey, Topic] = LRU(max_chats)

    def remember(self, record: AnswerRecord) -> None:
        """Keep an answer so its buttons work, and make it the chat's last answer."""
        self._answers.put(record.answer_id, record)
        self._last.put((record.platform, record.chat_id), record.answer_id)

    def answer(self, answer_id: str) -> AnswerRecord | None:
        """A remembered answer, or ``None`` when unknown or forgotten."""
        return self._answers.get(answer_id)

    def last_answer(self, platform: str, chat_id: str) -> str | None:
        """The id of the chat's last answer, if any."""
        return self._last.get((platform, chat_id))

    def topic(self, key: TopicKey) -> Topic | None:
        """The topic of one person in one chat, if any."""
        return self._topics.get(key)

    def set_topic(self, key: TopicKey, topic: Topic | None) -> None:
        """Set or clear the topic of one person in one chat."""
        if topic is None:
            self._topics.pop(key)
        else:
            self._topics.put(key, topic)
