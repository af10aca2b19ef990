"""Telegram's inline mode: "@bot question" typed in any chat offers the top passages.

Telegram sends an inline query for every keystroke, a few tenths of a second apart, so
the bot answers the question a user finished typing, not each prefix of it: a query
waits :data:`SETTLE_SECONDS` and is dropped unanswered when a newer query of the same
user arrived meanwhile (the client shows the newest query's results and lets an
unanswered one expire). What is left is counted by the chat layer's own limit for
inline queries (``chat.rate_limit_inline_queries``), never by the question limit.
"""

from __future__ import annotations

import asyncio
from typing import cast

from telegram import (
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import InlineQueryLimit, ParseMode
from telegram.ext import ContextTypes

from bot.chat import ChatService, Incoming, PassageView, Reply, ReplyKind
from bot.chat.texts import INLINE_HINT
from bot.telegram.render import inline_description, render_reply

INLINE_PLATFORM = "telegram-inline"
# Typing sent queries 0.3 s apart in the report; half a second without a newer
# one means the user paused. Telegram lets a query wait about 10 s for its answer.
SETTLE_SECONDS = 0.5
# How long Telegram may keep an answer for the same text of the same user.
CACHE_SECONDS = 30


class LatestQueries:
    """The newest inline query of each user; a newer one supersedes those still waiting."""

    def __init__(self, settle: float = SETTLE_SECONDS) -> None:
        self.settle = settle
        self._latest: dict[int, str] = {}

    async def settled(self, user_id: int, query_id: str) -> bool:
        """Wait :attr:`settle` seconds; True when no newer query of the user came meanwhile."""
        self._latest[user_id] = query_id
        await asyncio.sleep(self.settle)
        return self.is_latest(user_id, query_id)

    def is_latest(self, user_id: int, query_id: str) -> bool:
        """True while ``query_id`` is the user's newest query."""
        return self._latest.get(user_id) == query_id

    def done(self, user_id: int, query_id: str) -> None:
        """Forget the query once handled (unless a newer one has taken its place)."""
        if self.is_latest(user_id, query_id):
            del self._latest[user_id]


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the top passages for "@bot question" once the user stops typing."""
    query = update.inline_query
    assert query is not None
    latest = cast(LatestQueries, context.bot_data["inline"])
    user_id = query.from_user.id
    try:
        if not await latest.settled(user_id, query.id):
            return  # superseded while the user kept typing
        results, cache_time = await _results(query, cast(ChatService, context.bot_data["chat"]))
        if latest.is_latest(user_id, query.id):
            await query.answer(results, cache_time=cache_time, is_personal=True)
    finally:
        latest.done(user_id, query.id)


async def _results(
    query: InlineQuery, chat: ChatService
) -> tuple[list[InlineQueryResultArticle], int]:
    """The results for ``query``, and how long Telegram may cache them (refusals: not at all)."""
    text = query.query.strip()
    if not text:
        return [], 0
    incoming = Incoming(
        platform=INLINE_PLATFORM,
        chat_id=f"inline:{query.from_user.id}",
        user_id=str(query.from_user.id),
        text=text,
        inline=True,
    )
    reply = await chat.handle(incoming)
    results = [
        InlineQueryResultArticle(
            id=f"{reply.answer_id}:{number}",
            title=f"{passage.artist} ({number + 1})",
            description=inline_description(passage),
            input_message_content=InputTextMessageContent(
                _passage_message(passage),
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            ),
        )
        for number, passage in enumerate(reply.passages[: InlineQueryLimit.RESULTS])
    ]
    if not results:
        results = [
            InlineQueryResultArticle(
                id="none",
                title=reply.text[:64] or INLINE_HINT,
                description=text[:100],
                input_message_content=InputTextMessageContent(
                    render_reply(reply)[0], parse_mode=ParseMode.HTML
                ),
            )
        ]
    return results, 0 if reply.kind is ReplyKind.REFUSED else CACHE_SECONDS


def _passage_message(passage: PassageView) -> str:
    """One passage as an inline result's message (its first part, should it be overlong)."""
    return render_reply(Reply(ReplyKind.ANSWER, passages=(passage,)))[0]
