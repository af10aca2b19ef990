"""Every bot in one process: one event loop, one loaded core, clean shutdown on a signal.

``artistbot run``, ``artistbot telegram`` and ``artistbot discord`` all come here.
The core (one :class:`~retrieval.Retriever`, one :class:`~bot.chat.FeedbackStore`,
one :class:`~bot.chat.ChatService`) is built once and shared; each bot whose token
is set runs as a task on the same loop until SIGINT or SIGTERM sets the stop
event, then every bot is stopped and closed before the loop ends::

    asyncio.run(run_bots(settings, chat, tokens))
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.chat import ChatService
from bot.settings import Settings

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TokenRejected(Exception):
    """A platform refused a bot token; the message names the variable, never the token."""


@dataclass(frozen=True, slots=True)
class Tokens:
    """The bot tokens from the environment; a bot runs when its token is set."""

    discord: str | None = None
    telegram: str | None = None

    @property
    def any(self) -> bool:
        """True when at least one bot can run."""
        return bool(self.discord or self.telegram)


# A bot runner: runs until the event is set, then returns after a clean shutdown.
BotRunner = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def bot_runners(
    settings: Settings, chat: ChatService, tokens: Tokens, *, sync: bool = False
) -> dict[str, BotRunner]:
    """One runner per bot whose token is set, all over the same ``chat``."""
    runners: dict[str, BotRunner] = {}
    if tokens.telegram:
        from bot.telegram import app as telegram_app

        application = telegram_app.build_application(settings, chat, tokens.telegram)

        async def run_telegram(stop: asyncio.Event) -> None:
            from telegram.error import InvalidToken

            try:
                await telegram_app.run(application, stop=stop)
            except InvalidToken as error:
                # PTB's message quotes the token itself: never pass it on.
                raise TokenRejected(
                    f"Telegram rejected TELEGRAM_BOT_TOKEN ({type(error).__name__}); check the "
                    "token @BotFather gave you"
                ) from None

        runners["telegram"] = run_telegram
    if tokens.discord:
        from bot.discord import client as discord_client
        from bot.discord import lifecycle

        lifecycle.use_endpoints(settings.discord.api_base, settings.discord.gateway_url)
        bot = discord_client.ArtistBot(
            chat, settings, state_dir=settings.retrieval.data_dir, sync=sync
        )
        discord_token = tokens.discord

        async def run_discord(stop: asyncio.Event) -> None:
            from discord import LoginFailure

            try:
                await lifecycle.run(bot, discord_token, stop=stop)
            except LoginFailure as error:
                raise TokenRejected(f"Discord rejected DISCORD_BOT_TOKEN ({error})") from None

        runners["discord"] = run_discord
    return runners


async def run_bots(
    settings: Settings,
    chat: ChatService,
    tokens: Tokens,
    *,
    sync: bool = False,
    stop: asyncio.Event | None = None,
) -> None:
    """Run every bot with a token until SIGINT/SIGTERM (or ``stop``); then stop them all.

    When one bot fails (a rejected token, say) the others are stopped too and
    the first failure is raised.
    """
    runners = bot_runners(settings, chat, tokens, sync=sync)
    if not runners:
        raise ValueError("no bot token is set")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, _on_signal, sig, stop)
    tasks: dict[asyncio.Task[None], str] = {
        asyncio.create_task(run(stop), name=name): name for name, run in runners.items()
    }
    log.info("running: %s", ", ".join(runners))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        failed = [t for t in done if not t.cancelled() and t.exception() is not None]
        if failed:
            log.error("the %s bot failed; stopping the others", tasks[failed[0]])
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        error = failed[0].exception() if failed else None
        if error is not None:
            raise error
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        for task in tasks:
            task.cancel()
    log.info("all bots stopped")


def _on_signal(sig: signal.Signals, stop: asyncio.Event) -> None:
    log.info("%s received; stopping", sig.name)
    stop.set()
