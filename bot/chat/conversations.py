"""Per-chat memory of the chat layer: recent answers (for buttons) and the last artist.

:class:`ConversationStore` is what the chat layer needs of that memory;
:class:`MemoryConversations` keeps it in this process, bounded. Several bot
processes that should continue each other's conversations would share one store
that implements the same three methods.
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
# Chats whose last artist and last answer are remembered.
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


@dataclass(slots=True)
class ChatState:
    """One chat's memory: the artist of the last answer and the last answer itself."""

    last_story_id: str | None = None
    last_answer_id: str | None = None


def new_answer_id() -> str:
    """A short random id (8 characters), unique across restarts for practical purposes."""
    return secrets.token_urlsafe(ANSWER_ID_BYTES)


class ConversationStore(Protocol):
    """Where the chat layer keeps each chat's state and the answers buttons refer to."""

    def chat(self, platform: str, chat_id: str) -> ChatState:
        """The state of one chat, created on first use.

        The chat layer sets the returned state's fields in place, so a store outside
        this process must write them back (a state whose setters write through).
        """
        ...

    def remember(self, record: AnswerRecord) -> None:
        """Keep an answer so its buttons work, and make it the chat's last answer."""
        ...

    def answer(self, answer_id: str) -> AnswerRecord | None:
        """A remembered answer, or ``None`` when unknown or forgotten."""
        ...


class MemoryConversations:
    """A :class:`ConversationStore` in this process: every chat's state and recent answers,
    both bounded (the least recently used are forgotten)."""

    def __init__(self, *, max_answers: int = MAX_ANSWERS, max_chats: int = MAX_CHATS) -> None:
        self._answers: LRU[str, AnswerRecord] = LRU(max_answers)
        self._chats: LRU[tuple[str, str], ChatState] = LRU(max_chats)

    def chat(self, platform: str, chat_id: str) -> ChatState:
        """The state of one chat, created on first use."""
        key = (platform, chat_id)
        state = self._chats.get(key)
        if state is None:
            state = ChatState()
            self._chats.put(key, state)
        return state

    def remember(self, record: AnswerRecord) -> None:
        """Keep an answer so its buttons work, and make it the chat's last answer."""
        self._answers.put(record.answer_id, record)
        self.chat(record.platform, record.chat_id).last_answer_id = record.answer_id

    def answer(self, answer_id: str) -> AnswerRecord | None:
        """A remembered answer, or ``None`` when unknown or forgotten."""
        return self._answers.get(answer_id)
