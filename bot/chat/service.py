"""The chat service: one message in, one neutral :class:`~bot.chat.Reply` out.

Adapters (Telegram, Discord, the REPL) translate platform events into
:class:`~bot.chat.Incoming` / :class:`~bot.chat.ActionRequest` and render the
:class:`~bot.chat.Reply`; everything a conversation needs lives here: commands,
follow-up questions, input limits, rate limits and feedback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.chat.commands import Command, command_named, unknown_command
from bot.chat.conversations import (
    AnswerRecord,
    ConversationStore,
    MemoryConversations,
    new_answer_id,
)
from bot.chat.feedback import FeedbackStore, Vote
from bot.chat.gate import QuestionGate, refusal
from bot.chat.i18n import gettext, language_of, supported
from bot.chat.info_commands import InfoCommands, info
from bot.chat.messages import (
    Access,
    ActionKind,
    ActionRequest,
    Incoming,
    PassageView,
    Reply,
    ReplyKind,
)
from bot.chat.questionlog import QuestionLog
from bot.chat.ratelimit import Limiter
from bot.chat.stories import StoryDesk
from bot.chat.storylog import StoryLog
from bot.chat.texts import (
    ASK_FIRST,
    CORRECTED,
    FOLLOW_UP,
    NO_ANSWER,
    NO_MORE,
    NOT_ADMIN,
    NOT_EDITOR,
    NOT_IN_STORY,
    NOT_IN_STORY_NOR_ELSEWHERE,
    STALE,
    THANKS_DOWN,
    THANKS_UP,
    USAGE,
)
from bot.chat.topics import Topics
from bot.settings import Settings
from retrieval import Answer, Retriever
from retrieval.text import clean

log = logging.getLogger(__name__)

# A command's handler: its argument text (cleaned, stripped) and the message, to a reply.
CommandHandler = Callable[[str, Incoming], Awaitable[Reply]]


class ChatService:
    """Answers messages and commands for every platform.

    Conversations are kept in ``conversations`` (in this process unless another
    :class:`ConversationStore` is given) and questions are counted by ``limiter``
    (by default where ``chat.rate_limit_storage`` says); inline
    queries by ``inline_limiter`` (``chat.rate_limit_inline_queries``) instead.
    """

    def __init__(
        self,
        retriever: Retriever,
        settings: Settings,
        feedback: FeedbackStore,
        *,
        conversations: ConversationStore | None = None,
        limiter: Limiter | None = None,
        inline_limiter: Limiter | None = None,
        questions: QuestionLog | None = None,
        stories: StoryDesk | None = None,
    ) -> None:
        self.retriever = retriever
        self.settings = settings
        self.feedback = feedback
        self.questions = questions  # the private question log, when kept
        self.conversations: ConversationStore = conversations or MemoryConversations()
        self.topics = Topics(self.conversations, idle_seconds=settings.chat.topic_minutes * 60)
        self.gate = QuestionGate(settings, limiter=limiter, inline_limiter=inline_limiter)
        # Stories added and removed from the chats; the audit shares the feedback database.
        self.stories = stories or StoryDesk(
            retriever, StoryLog(feedback.path), max_bytes=settings.chat.max_story_bytes
        )
        told = InfoCommands(retriever, settings, self.topics, feedback, questions)
        self._handlers: dict[str, CommandHandler] = {
            "ask": self._ask_command,
            "more": self._more_command,
            "artists": told.artists,
            "about": told.about,
            "help": told.help,
            "start": told.start,
            "reload": told.reload,
            "forgetme": told.forgetme,
            "stories": self.stories.listing,
            "addstory": self.stories.add,
            "removestory": self.stories.remove,
            "storynames": self.stories.rename,
        }

    # -- public API ------------------------------------------------------------------------

    async def handle(self, message: Incoming, *, k: int | None = None) -> Reply:
        """Answer a plain question (not a command); ``k`` overrides passages per answer."""
        question = clean(message.text).strip()
        language = language_of(question, message.language)
        refused = self.gate.check(question, message, language)
        if refused is not None:
            return refused
        started = time.perf_counter()
        reply = await self._answer(message, question, language, k=k)
        if self.questions is not None:  # queued: written off the event loop
            self.questions.record(message, reply, time.perf_counter() - started)
        return reply

    async def command(self, name: str, args: str, message: Incoming) -> Reply:
        """Run the table's command called ``name`` (or an alias) with its argument text.

        Commands are refused to whoever lacks their access; a missing argument gets the usage.
        """
        command = command_named(name)
        args = clean(args).strip()
        language = language_of(args, message.language)
        if command is None:
            return Reply(ReplyKind.INFO, unknown_command(name, language), language=language)
        if message.access < command.access:
            text = NOT_EDITOR if command.access is Access.EDITORS else NOT_ADMIN
            return refusal(language, text, name=command.name)
        if command.argument is not None and not args:
            return refusal(language, USAGE, **self._usage(command))
        return await self._handlers[command.name](args, message)

    async def act(self, request: ActionRequest, *, platform: str | None = None) -> Reply:
        """Handle a button press: More, helpful or not helpful; or one about the stories."""
        if request.kind.on_stories:
            return await self.stories.act(request)
        record = self.conversations.answer(request.answer_id)
        if (
            record is None
            or record.chat_id != request.chat_id
            or (platform is not None and record.platform != platform)
        ):
            return refusal(supported(request.language), STALE)
        language = language_of(record.question, request.language)  # the answer's language
        if request.kind is ActionKind.MORE:
            return await self._more(record, request, language)
        vote = 1 if request.kind is ActionKind.HELPFUL else -1
        await asyncio.to_thread(
            self.feedback.record,
            Vote(
                answer_id=record.answer_id,
                platform=record.platform,
                chat_id=record.chat_id,
                user_id=request.user_id,
                question=record.question,
                story_id=record.top_story_id,
                artist=record.top_artist,
                vote=vote,
            ),
        )
        if self.questions is not None:
            self.questions.vote(record.answer_id, vote)
        return info(language, THANKS_UP if vote > 0 else THANKS_DOWN)

    def artist_names(self) -> list[str]:
        """Every artist's name, for autocomplete."""
        return sorted({story.artist for story in self.retriever.stories}, key=str.casefold)

    # -- questions ---------------------------------------------------------------------------

    async def _answer(
        self, message: Incoming, question: str, language: str, *, k: int | None
    ) -> Reply:
        topic = self.topics.current(message)
        # One core call: a question naming nobody is answered from the topic's story when
        # it holds something relevant, and from all stories otherwise (see bot.chat.topics).
        answer = await self.retriever.asearch(question, k=k, prefer_story=topic)
        self.topics.after(message, answer, topic)

        def say(text: str) -> str:
            return gettext(language, text)

        if not answer.found:
            text = say(NO_ANSWER).format(question=question)
            if answer.passed_over is not None:
                artist = answer.passed_over.artist
                text = say(NOT_IN_STORY_NOR_ELSEWHERE).format(artist=artist, question=question)
            return Reply(ReplyKind.NO_ANSWER, text, question=question, language=language)
        notes = []
        if answer.followed is not None:
            notes.append(say(FOLLOW_UP).format(artist=answer.followed.artist))
        elif answer.passed_over is not None:
            other = answer.hits[0].artist
            notes.append(say(NOT_IN_STORY).format(artist=answer.passed_over.artist, other=other))
        if answer.corrected:
            notes.append(say(CORRECTED).format(question=answer.corrected))
        story_id = answer.followed.story_id if answer.followed else None
        return self._reply(
            message.platform,
            message.chat_id,
            question,
            story_id,
            answer,
            offset=0,
            k=k,
            text=" ".join(notes),
            language=language,
        )

    async def _more(self, record: AnswerRecord, request: ActionRequest, language: str) -> Reply:
        refused = self.gate.check_rate(record.platform, request.user_id, language)
        if refused is not None:
            return refused
        if record.remaining <= 0:
            return info(language, NO_MORE)
        answer = await self.retriever.asearch(
            record.question, k=record.k, offset=record.next_offset, story_id=record.story_id
        )
        if not answer.found:
            return info(language, NO_MORE)
        return self._reply(
            record.platform,
            record.chat_id,
            record.question,
            record.story_id,
            answer,
            offset=record.next_offset,
            k=record.k,
            language=language,
        )

    def _reply(
        self,
        platform: str,
        chat_id: str,
        question: str,
        story_id: str | None,
        answer: Answer,
        *,
        offset: int,
        k: int | None,
        text: str = "",
        language: str = "en",
    ) -> Reply:
        top = answer.hits[0]
        record = AnswerRecord(
            answer_id=new_answer_id(),
            platform=platform,
            chat_id=chat_id,
            question=question,
            story_id=story_id,
            next_offset=offset + len(answer.hits),
            remaining=answer.remaining,
            top_story_id=top.story.story_id,
            top_artist=top.artist,
            k=k,
        )
        self.conversations.remember(record)
        actions = (ActionKind.MORE,) if answer.remaining > 0 else ()
        return Reply(
            ReplyKind.ANSWER,
            text,
            passages=tuple(PassageView.from_hit(hit) for hit in answer.hits),
            answer_id=record.answer_id,
            actions=(*actions, ActionKind.HELPFUL, ActionKind.UNHELPFUL),
            question=question,
            language=language,
        )

    # -- commands ----------------------------------------------------------------------------

    def _usage(self, command: Command) -> dict[str, str]:
        """The fields of the usage hint of ``command``."""
        assert command.argument is not None
        example = command.argument.example
        if command.argument.suggests_artists and self.retriever.stories:
            example = self.artist_names()[0]
        return {"usage": command.usage, "name": command.name, "example": example}

    async def _ask_command(self, question: str, message: Incoming) -> Reply:
        return await self.handle(replace(message, text=question))

    async def _more_command(self, _: str, message: Incoming) -> Reply:
        last = self.conversations.last_answer(message.platform, message.chat_id)
        if last is None:
            return info(supported(message.language), ASK_FIRST)
        request = ActionRequest(
            ActionKind.MORE, last, message.chat_id, message.user_id, message.language
        )
        return await self.act(request, platform=message.platform)
