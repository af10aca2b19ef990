"""The slash-command tree, built from the chat layer's table, and synced only when it changed.

Every command of :data:`bot.chat.commands.COMMANDS` becomes a slash command with
the table's name and description; a command's argument becomes its one string
option, named and described by the table. Aliases are Telegram's business and
are not registered here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import discord
from discord import app_commands

from bot.chat import COMMANDS, ChatService, Command, Incoming, Reply
from retrieval.files import write_text_atomic

log = logging.getLogger(__name__)

# Where the hash of the last synced command tree is kept (in the data directory).
SYNC_STATE_FILE = "discord_commands.sha256"
# The file option of a command that takes one (/addstory).
FILE_DESCRIPTION = "The story: a .txt or .md file"
# Autocomplete may offer at most 25 choices of at most 100 characters.
MAX_CHOICES = 25
MAX_CHOICE_CHARS = 100


class CommandHost(Protocol):
    """What the commands need of the client (:class:`~bot.discord.ArtistBot`)."""

    chat: ChatService
    tree: app_commands.CommandTree[Any]
    state_dir: Path

    @property
    def application_id(self) -> int | None:
        """The application whose commands these are."""
        ...

    def incoming(
        self,
        interaction: discord.Interaction[Any],
        text: str,
        file: discord.Attachment | None = None,
    ) -> Incoming:
        """The neutral message for a slash command (and the file given to it)."""
        ...

    async def respond(
        self,
        interaction: discord.Interaction[Any],
        call: Callable[[], Awaitable[Reply]],
        *,
        ephemeral: bool = False,
    ) -> None:
        """Answer an interaction with the chat layer's reply."""
        ...


def add_commands(bot: CommandHost) -> None:
    """Add a slash command to ``bot.tree`` for every command of the table."""
    for command in COMMANDS:
        bot.tree.add_command(slash_command(bot, command))


def slash_command(bot: CommandHost, command: Command) -> app_commands.Command[Any, ..., None]:
    """The slash command that runs ``command`` through ``bot``'s chat layer."""

    async def run(
        interaction: discord.Interaction[Any], text: str, file: discord.Attachment | None = None
    ) -> None:
        incoming = bot.incoming(interaction, text, file)
        await bot.respond(
            interaction,
            lambda: bot.chat.command(command.name, text, incoming),
            # What an admin command says is for the admin who ran it.
            ephemeral=command.admin_only,
        )

    # discord.py takes options from the callback's parameters: ``text`` for the argument,
    # shown to users under the table's name and description; ``file`` for a file.
    argument = command.argument
    if command.takes_file:

        @app_commands.describe(file=FILE_DESCRIPTION)
        async def with_file(
            interaction: discord.Interaction[Any], file: discord.Attachment
        ) -> None:
            await run(interaction, "", file)

        return app_commands.Command(
            name=command.name, description=command.description, callback=with_file
        )
    if argument is None:

        async def without_argument(interaction: discord.Interaction[Any]) -> None:
            await run(interaction, "")

        return app_commands.Command(
            name=command.name, description=command.description, callback=without_argument
        )

    @app_commands.rename(text=argument.name)
    @app_commands.describe(text=argument.description)
    async def with_argument(interaction: discord.Interaction[Any], text: str) -> None:
        await run(interaction, text)

    slash: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=command.name, description=command.description, callback=with_argument
    )
    if argument.suggests_artists:

        @slash.autocomplete("text")
        async def suggest(
            interaction: discord.Interaction[Any], current: str
        ) -> list[app_commands.Choice[str]]:
            return artist_choices(bot.chat.artist_names(), current)

    return slash


def artist_choices(names: list[str], current: str) -> list[app_commands.Choice[str]]:
    """Artist names that start with (then contain) what the user has typed, at most 25."""
    typed = current.casefold().strip()
    matches = [n for n in names if n.casefold().startswith(typed)]
    matches += [n for n in names if typed in n.casefold() and n not in matches]
    return [
        app_commands.Choice(name=name[:MAX_CHOICE_CHARS], value=name[:MAX_CHOICE_CHARS])
        for name in matches[:MAX_CHOICES]
    ]


async def sync_commands(bot: CommandHost, *, force: bool = False) -> bool:
    """Sync ``bot.tree`` if its definition changed since the last sync (or if ``force``).

    Syncing on every start is Discord's known anti-pattern (it is rate limited);
    the hash of what was last synced is kept in the state directory.
    """
    payload = {
        "application": bot.application_id,
        "commands": [command.to_dict(bot.tree) for command in bot.tree.get_commands()],
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    path = bot.state_dir / SYNC_STATE_FILE
    if not force and _read_digest(path) == digest:
        log.info("slash commands unchanged since the last sync; not syncing")
        return False
    synced = await bot.tree.sync()
    write_text_atomic(path, digest + "\n")
    log.info("synced %d slash commands", len(synced))
    return True


def _read_digest(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
