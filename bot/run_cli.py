"""``artistbot telegram``, ``discord`` and ``run``: the bots, started one way.

The core is loaded once (:func:`bot.opening.open_chat`), then every bot whose token is set
runs on one event loop (:func:`bot.runner.run_bots`). Tokens come from the environment
only, and are kept out of every log line.
"""

from __future__ import annotations

import click

from bot.runner import Tokens
from bot.settings import Settings


@click.command()
@click.pass_obj
def telegram(settings: Settings) -> None:
    """Run the Telegram bot (the token comes from TELEGRAM_BOT_TOKEN)."""
    _run_bots(settings, Tokens(telegram=_required_token("TELEGRAM_BOT_TOKEN")), sync=False)


@click.command("discord")
@click.option("--sync", is_flag=True, help="Sync the slash commands even if they did not change.")
@click.pass_obj
def discord_command(settings: Settings, sync: bool) -> None:
    """Run the Discord bot (the token comes from DISCORD_BOT_TOKEN)."""
    _run_bots(settings, Tokens(discord=_required_token("DISCORD_BOT_TOKEN")), sync=sync)


@click.command("run")
@click.option("--sync", is_flag=True, help="Sync Discord's slash commands even if unchanged.")
@click.pass_obj
def run_command(settings: Settings, sync: bool) -> None:
    """Run every bot whose token is set, in one process, until SIGINT or SIGTERM."""
    from bot.settings import token

    tokens = Tokens(discord=token("DISCORD_BOT_TOKEN"), telegram=token("TELEGRAM_BOT_TOKEN"))
    if not tokens.any:
        raise click.ClickException(
            "neither DISCORD_BOT_TOKEN nor TELEGRAM_BOT_TOKEN is set; export at least one "
            "(see docs/DISCORD.md and docs/TELEGRAM.md), or use `artistbot repl`."
        )
    _run_bots(settings, tokens, sync=sync)


# How to get each token, for the message when it is missing.
_WHERE_TOKENS_COME_FROM = {
    "TELEGRAM_BOT_TOKEN": "Create a bot with @BotFather, then export TELEGRAM_BOT_TOKEN=<the "
    "token it gives you> (see docs/TELEGRAM.md).",
    "DISCORD_BOT_TOKEN": "Create a bot application in the Discord developer portal, then "
    "export DISCORD_BOT_TOKEN=<its bot token> (see docs/DISCORD.md).",
}


def _required_token(variable: str) -> str:
    from bot.settings import token

    value = token(variable)
    if value is None:
        raise click.ClickException(f"{variable} is not set. {_WHERE_TOKENS_COME_FROM[variable]}")
    return value


def _run_bots(settings: Settings, tokens: Tokens, *, sync: bool) -> None:
    """Load the core once, then run the bots on one event loop (one ``asyncio.run``).

    A token a platform rejects stops the program with a message naming its
    variable; the token itself is never printed.
    """
    import asyncio

    from bot.logsafety import protect_token
    from bot.opening import open_chat, open_retriever
    from bot.runner import TokenRejected, run_bots

    for secret in (tokens.discord, tokens.telegram):
        if secret:
            protect_token(secret)
    chat = open_chat(settings, open_retriever(settings, progress=True, serving=True))
    try:
        asyncio.run(run_bots(settings, chat, tokens, sync=sync))
    except TokenRejected as error:
        raise click.ClickException(str(error)) from None
