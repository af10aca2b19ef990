"""The chat's own commands, which tell rather than search: /help, /start, /artists,
/about, /reload and /forgetme (questions and "more" are the service's, the stories' the
:class:`~bot.chat.stories.StoryDesk`'s)."""

from __future__ import annotations

import asyncio
import logging

from bot.chat.commands import help_text
from bot.chat.feedback import FeedbackStore
from bot.chat.gate import refusal
from bot.chat.i18n import language_of, supported, translate
from bot.chat.messages import Incoming, Reply, ReplyKind
from bot.chat.questionlog import QuestionLog, forget_person
from bot.chat.texts import (
    FORGOTTEN,
    FORGOTTEN_NOTHING,
    RELOADED,
    RELOADED_NOTHING,
    UNKNOWN_ARTIST,
    about_artist,
    artists_list,
)
from bot.chat.topics import Topics
from bot.settings import Settings
from retrieval import Retriever

log = logging.getLogger(__name__)


def info(language: str, message: str, /, **fields: object) -> Reply:
    """An informational reply: ``message`` in ``language``, with its fields filled in."""
    return Reply(ReplyKind.INFO, translate(language, message, **fields), language=language)


class InfoCommands:
    """Handlers of the commands that tell: each takes its argument text and the message."""

    def __init__(
        self,
        retriever: Retriever,
        settings: Settings,
        topics: Topics,
        feedback: FeedbackStore,
        questions: QuestionLog | None,
    ) -> None:
        self.retriever = retriever
        self.settings = settings
        self.topics = topics
        self.feedback = feedback
        self.questions = questions

    async def help(self, _: str, message: Incoming) -> Reply:
        language = supported(message.language)
        text = help_text(message.access, language=language)
        return Reply(ReplyKind.INFO, text, language=language)

    async def start(self, _: str, message: Incoming) -> Reply:
        self.topics.clear(message)
        return await self.help(_, message)

    async def artists(self, _: str, message: Incoming) -> Reply:
        language = supported(message.language)
        text = artists_list(self.retriever.stories, language)
        return Reply(ReplyKind.INFO, text, language=language)

    async def about(self, name: str, message: Incoming) -> Reply:
        language = language_of(name, message.language)
        if len(name) > self.settings.chat.max_question_chars:
            return refusal(language, UNKNOWN_ARTIST, name=name[:40] + "…")
        stories = self.retriever.find_stories(name)
        if not stories:
            return info(language, UNKNOWN_ARTIST, name=name)
        story = stories[0]
        self.topics.set(message, story.story_id)
        return Reply(ReplyKind.INFO, about_artist(story, language), language=language)

    async def reload(self, _: str, message: Incoming) -> Reply:
        report = await asyncio.to_thread(self.retriever.reload)
        log.info("reload by %s:%s: %s", message.platform, message.user_id, report)
        language = supported(message.language)
        if not report.touched:
            return info(language, RELOADED_NOTHING)
        return info(
            language,
            RELOADED,
            added=len(report.added),
            changed=len(report.changed),
            removed=len(report.removed),
            total=len(self.retriever.stories),
        )

    async def forgetme(self, _: str, message: Incoming) -> Reply:
        count = await forget_person(self.feedback, self.questions, message)
        language = supported(message.language)
        if not count:
            return info(language, FORGOTTEN_NOTHING)
        return info(language, FORGOTTEN, count=count)
