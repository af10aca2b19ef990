"""Telegram updates handled concurrently across chats, in arrival order within a chat.

python-telegram-bot handles one update at a time by default, so one slow answer
holds up every chat. Handling all updates concurrently instead could answer a
follow-up ("Where was she born?") before the question it follows. This processor
does both right: chats run side by side, each chat's messages run in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Up to ``max_concurrent_updates`` at once, one at a time per chat."""

    __slots__ = ("_locks", "_pending")

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` after the earlier updates of the same chat."""
        chat_id = _chat_id(update)
        if chat_id is None:  # inline queries and the like belong to no chat
            await coroutine
            return
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._pending[chat_id] = self._pending.get(chat_id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._pending[chat_id] -= 1
            if not self._pending[chat_id]:
                del self._pending[chat_id], self._locks[chat_id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _chat_id(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None
