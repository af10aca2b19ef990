"""The Telegram application: the handlers wired to one chat layer, polling until told to stop.

``artistbot telegram`` and ``artistbot run`` both start it through
:mod:`bot.runner`, which owns the event loop and the signals::

    application = build_application(settings, chat, token)
    await run(application, stop=stop)  # returns once ``stop`` is set
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.chat import COMMANDS, ChatService, public_commands
from bot.settings import Settings
from bot.telegram.handlers import (
    on_button,
    on_command,
    on_error,
    on_group_text,
    on_non_text,
    on_private_text,
)
from bot.telegram.inline import LatestQueries, on_inline
from bot.telegram.updates import PerChatUpdateProcessor

log = logging.getLogger(__name__)

# Every name a command answers to (aliases such as /start too); the menu lists the public ones.
COMMAND_NAMES = [name for command in COMMANDS for name in command.names]

TelegramApplication = Application[Any, Any, Any, Any, Any, Any]

# Connections for getUpdates. python-telegram-bot's default is 1, and stopping the updater
# cancels the poll in flight without waiting for it, then calls getUpdates once more to
# confirm the last offset. httpcore 1.0.9 can leave a request cancelled at an unlucky
# moment holding its connection for good (encode/httpcore#1093: 8% of 3,000 random
# cancellations here), so with one connection that last call waited out its pool timeout
# and failed: a traceback in 13 of 770 stops against the emulator (0 of 300 with two),
# and updates fetched just before it would come again on the next start. A second
# connection keeps the last call independent of the cancelled poll.
POLLING_CONNECTIONS = 2


def build_application(settings: Settings, chat: ChatService, token: str) -> TelegramApplication:
    """The Telegram application for ``chat``, talking to ``settings.telegram.base_url``."""
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_file_url)
        .get_updates_connection_pool_size(POLLING_CONNECTIONS)
        .rate_limiter(AIORateLimiter())
        .concurrent_updates(PerChatUpdateProcessor(settings.telegram.concurrent_updates))
        .build()
    )
    application.bot_data["chat"] = chat
    application.bot_data["settings"] = settings
    application.bot_data["inline"] = LatestQueries()
    application.add_handler(CommandHandler(COMMAND_NAMES, on_command))
    # Any other /command, and the table's addressed to another bot (``/ask@other_bot``).
    application.add_handler(
        MessageHandler(filters.COMMAND & ~filters.UpdateType.EDITED, on_command)
    )
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, on_private_text)
    )
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND, on_group_text)
    )
    application.add_handler(
        MessageHandler(
            ~filters.TEXT & ~filters.StatusUpdate.ALL & ~filters.UpdateType.EDITED, on_non_text
        )
    )
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(InlineQueryHandler(on_inline))
    application.add_error_handler(on_error)
    return application


async def run(
    application: TelegramApplication, *, stop: asyncio.Event, poll_interval: float = 0.0
) -> None:
    """Poll for updates until ``stop`` is set, on the running loop; then shut down cleanly.

    A rejected token raises :class:`telegram.error.InvalidToken` (whose message
    quotes the token: the runner replaces it).
    """
    async with application:
        await application.bot.set_my_commands(
            [BotCommand(command.name, command.description) for command in public_commands()]
        )
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=poll_interval, allowed_updates=Update.ALL_TYPES
        )
        log.info("telegram bot @%s is running", application.bot.username)
        try:
            await stop.wait()
        finally:
            await application.updater.stop()
            await application.stop()
