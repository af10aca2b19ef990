"""The chat service: one message in, one neutral :class:`~bot.chat.Reply` out.

Adapters (Telegram, Discord, the REPL) translate platform events into
:class:`~bot.chat.Incoming` / :class:`~bot.chat.ActionRequest` and render the
:class:`~bot.chat.Reply`; everything a conversation needs lives here: commands,
follow-up questions, input limits, rate limits and feedback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.chat.commands import Command, command_named, help_text, unknown_command
from bot.chat.conversations import (
    AnswerRecord,
    ConversationStore,
    MemoryConversations,
    new_answer_id,
)
from bot.chat.feedback import FeedbackStore, Vote
from bot.chat.messages import (
    Access,
    ActionKind,
    ActionRequest,
    Incoming,
    PassageView,
    Reply,
    ReplyKind,
)
from bot.chat.ratelimit import Limiter, RateLimiter
from bot.chat.stories import StoryDesk
from bot.chat.storylog import StoryLog
from bot.chat.texts import (
    ASK_FIRST,
    CORRECTED,
    EMPTY,
    FOLLOW_UP,
    NO_ANSWER,
    NO_MORE,
    NOT_ADMIN,
    NOT_EDITOR,
    NOT_IN_STORY,
    NOT_IN_STORY_NOR_ELSEWHERE,
    RATE_LIMITED,
    RELOADED,
    RELOADED_NOTHING,
    STALE,
    THANKS_DOWN,
    THANKS_UP,
    TOO_LONG,
    UNKNOWN_ARTIST,
    USAGE,
    about_artist,
    artists_list,
)
from bot.chat.topics import Topics
from bot.settings import Settings
from retrieval import Answer, Retriever
from retrieval.text import clean

log = logging.getLogger(__name__)

# Local, single-user front ends are not rate limited.
UNLIMITED_PLATFORMS = frozenset({"repl"})

# A command's handler: its argument text (cleaned, stripped) and the message, to a reply.
CommandHandler = Callable[[str, Incoming], Awaitable[Reply]]


class ChatService:
    """Answers messages and commands for every platform.

    Conversations are kept in ``conversations`` (in this process unless another
    :class:`ConversationStore` is given) and questions are counted by ``limiter``
    (by default in the ``limits`` storage of ``chat.rate_limit_storage``); inline
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
        stories: StoryDesk | None = None,
    ) -> None:
        self.retriever = retriever
        self.settings = settings
        self.feedback = feedback
        self.conversations: ConversationStore = conversations or MemoryConversations()
        self.topics = Topics(self.conversations, idle_seconds=settings.chat.topic_minutes * 60)
        self.limiter: Limiter = limiter or RateLimiter(
            settings.chat.rate_limit_questions,
            settings.chat.rate_limit_seconds,
            storage=settings.chat.rate_limit_storage,
        )
        self.inline_limiter: Limiter = inline_limiter or RateLimiter(
            settings.chat.rate_limit_inline_queries,
            settings.chat.rate_limit_seconds,
            storage=settings.chat.rate_limit_storage,
            name="inline",
        )
        # Stories added and removed from the chats; the audit shares the feedback database.
        self.stories = stories or StoryDesk(
            retriever, StoryLog(feedback.path), max_bytes=settings.chat.max_story_bytes
        )
        self._handlers: dict[str, CommandHandler] = {
            "ask": self._ask_command,
            "more": self._more_command,
            "artists": self._artists_command,
            "about": self._about_command,
            "help": self._help_command,
            "start": self._start_command,
            "reload": self._reload_command,
            "stories": self.stories.listing,
            "addstory": self.stories.add,
            "removestory": self.stories.remove,
            "storynames": self.stories.rename,
        }

    # -- public API ------------------------------------------------------------------------

    async def handle(self, message: Incoming, *, k: int | None = None) -> Reply:
        """Answer a plain question (not a command); ``k`` overrides passages per answer."""
        question = clean(message.text).strip()
        refusal = self._check_question(question, message)
        if refusal is not None:
            return refusal
        return await self._answer(message, question, k=k)

    async def command(self, name: str, args: str, message: Incoming) -> Reply:
        """Run the table's command called ``name`` (or an alias) with its argument text.

        Commands are refused to whoever lacks their access; a missing argument gets the usage.
        """
        command = command_named(name)
        if command is None:
            return Reply(ReplyKind.INFO, unknown_command(name))
        if message.access < command.access:
            refusal = NOT_EDITOR if command.access is Access.EDITORS else NOT_ADMIN
            return Reply(ReplyKind.REFUSED, refusal.format(name=command.name))
        args = clean(args).strip()
        if command.argument is not None and not args:
            return Reply(ReplyKind.REFUSED, self._usage(command))
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
            return Reply(ReplyKind.REFUSED, STALE)
        if request.kind is ActionKind.MORE:
            return await self._more(record, request)
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
        return Reply(ReplyKind.INFO, THANKS_UP if vote > 0 else THANKS_DOWN)

    def artist_names(self) -> list[str]:
        """Every artist's name, for autocomplete."""
        return sorted({story.artist for story in self.retriever.stories}, key=str.casefold)

    # -- questions ---------------------------------------------------------------------------

    def _check_question(self, question: str, message: Incoming) -> Reply | None:
        if not question:
            return Reply(ReplyKind.REFUSED, EMPTY)
        limit = self.settings.chat.max_question_chars
        if len(question) > limit:
            return Reply(ReplyKind.REFUSED, TOO_LONG.format(length=len(question), limit=limit))
        # An inline query is a pause in typing, not a question sent: its own, larger limit.
        limiter = self.inline_limiter if message.inline else self.limiter
        return self._check_rate(message.platform, message.user_id, limiter)

    def _check_rate(
        self, platform: str, user_id: str, limiter: Limiter | None = None
    ) -> Reply | None:
        limiter = limiter or self.limiter
        if platform in UNLIMITED_PLATFORMS or limiter.allow(platform, user_id):
            return None
        seconds = limiter.retry_after(platform, user_id)
        return Reply(ReplyKind.REFUSED, RATE_LIMITED.format(seconds=seconds))

    async def _answer(self, message: Incoming, question: str, *, k: int | None) -> Reply:
        topic = self.topics.current(message)
        # One core call: a question naming nobody is answered from the topic's story when
        # it holds something relevant, and from all stories otherwise (see bot.chat.topics).
        answer = await self.retriever.asearch(question, k=k, prefer_story=topic)
        self.topics.after(message, answer, topic)
        if not answer.found:
            text = NO_ANSWER.format(question=question)
            if answer.passed_over is not None:
                artist = answer.passed_over.artist
                text = NOT_IN_STORY_NOR_ELSEWHERE.format(artist=artist, question=question)
            return Reply(ReplyKind.NO_ANSWER, text, question=question)
        notes = []
        if answer.followed is not None:
            notes.append(FOLLOW_UP.format(artist=answer.followed.artist))
        elif answer.passed_over is not None:
            other = answer.hits[0].artist
            notes.append(NOT_IN_STORY.format(artist=answer.passed_over.artist, other=other))
        if answer.corrected:
            notes.append(CORRECTED.format(question=answer.corrected))
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
        )

    async def _more(self, record: AnswerRecord, request: ActionRequest) -> Reply:
        refusal = self._check_rate(record.platform, request.user_id)
        if refusal is not None:
            return refusal
        if record.remaining <= 0:
            return Reply(ReplyKind.INFO, NO_MORE)
        answer = await self.retriever.asearch(
            record.question, k=record.k, offset=record.next_offset, story_id=record.story_id
        )
        if not answer.found:
            return Reply(ReplyKind.INFO, NO_MORE)
        return self._reply(
            record.platform,
            record.chat_id,
            record.question,
            record.story_id,
            answer,
            offset=record.next_offset,
            k=record.k,
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
        )

    # -- commands ----------------------------------------------------------------------------

    def _usage(self, command: Command) -> str:
        assert command.argument is not None
        example = command.argument.example
        if command.argument.suggests_artists and self.retriever.stories:
            example = self.artist_names()[0]
        return USAGE.format(usage=command.usage, name=command.name, example=example)

    async def _ask_command(self, question: str, message: Incoming) -> Reply:
        return await self.handle(replace(message, text=question))

    async def _more_command(self, _: str, message: Incoming) -> Reply:
        last = self.conversations.last_answer(message.platform, message.chat_id)
        if last is None:
            return Reply(ReplyKind.INFO, ASK_FIRST)
        return await self.act(
            ActionRequest(ActionKind.MORE, last, message.chat_id, message.user_id),
            platform=message.platform,
        )

    async def _help_command(self, _: str, message: Incoming) -> Reply:
        return Reply(ReplyKind.INFO, help_text(message.access))

    async def _start_command(self, _: str, message: Incoming) -> Reply:
        self.topics.clear(message)
        return await self._help_command(_, message)

    async def _artists_command(self, _: str, message: Incoming) -> Reply:
        return Reply(ReplyKind.INFO, artists_list(self.retriever.stories))

    async def _about_command(self, name: str, message: Incoming) -> Reply:
        if len(name) > self.settings.chat.max_question_chars:
            return Reply(ReplyKind.REFUSED, UNKNOWN_ARTIST.format(name=name[:40] + "…"))
        stories = self.retriever.find_stories(name)
        if not stories:
            return Reply(ReplyKind.INFO, UNKNOWN_ARTIST.format(name=name))
        story = stories[0]
        self.topics.set(message, story.story_id)
        return Reply(ReplyKind.INFO, about_artist(story))

    async def _reload_command(self, _: str, message: Incoming) -> Reply:
        report = await asyncio.to_thread(self.retriever.reload)
        log.info("reload by %s:%s: %s", message.platform, message.user_id, report)
        if not report.touched:
            return Reply(ReplyKind.INFO, RELOADED_NOTHING)
        return Reply(
            ReplyKind.INFO,
            RELOADED.format(
                added=len(report.added),
                changed=len(report.changed),
                removed=len(report.removed),
                total=len(self.retriever.stories),
            ),
        )
