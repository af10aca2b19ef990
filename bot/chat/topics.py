"""Which artist a conversation is about: the follow-up rules, in one place.

Each person in each chat has a topic (a story):

* a question that names an artist, band or alias sets it to that story;
* a question that names nobody keeps it, and is answered from that story first
  (the core decides whether the story holds something relevant, see
  ``Retriever.asearch(prefer_story=...)``); when nothing was set yet, the story of
  the answer becomes the topic ("who plays the balalaika?", then "where was she born?");
* ``/about`` sets it, ``/start`` clears it, and it lapses after
  ``chat.topic_minutes`` without a question.

Topics are kept per person, not per chat: in a group, two people can follow up on
two different artists.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.chat.conversations import ConversationStore, Topic, TopicKey
from bot.chat.messages import Incoming
from retrieval import Answer


def key_of(message: Incoming) -> TopicKey:
    """Whose topic a message continues."""
    return (message.platform, message.chat_id, message.user_id)


class Topics:
    """The topic rules over a :class:`ConversationStore`."""

    def __init__(
        self,
        store: ConversationStore,
        *,
        idle_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._idle = idle_seconds
        self._clock = clock

    def current(self, message: Incoming) -> str | None:
        """The story the sender is talking about, unless it lapsed."""
        topic = self._store.topic(key_of(message))
        if topic is None or self._clock() - topic.at > self._idle:
            return None
        return topic.story_id

    def after(self, message: Incoming, answer: Answer, current: str | None) -> None:
        """Apply the rules after ``answer`` to a question asked with topic ``current``."""
        if answer.mentioned:
            self.set(message, answer.mentioned[0].story_id)
        elif current is not None:
            self.set(message, current)  # kept: talked about just now
        elif answer.found:
            self.set(message, answer.hits[0].story.story_id)

    def set(self, message: Incoming, story_id: str) -> None:
        """Make ``story_id`` the sender's topic (``/about``, or a question naming it)."""
        self._store.set_topic(key_of(message), Topic(story_id, self._clock()))

    def clear(self, message: Incoming) -> None:
        """Forget the sender's topic (``/start``)."""
        self._store.set_topic(key_of(message), None)
