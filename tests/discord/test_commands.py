"""The Discord command tree is the chat layer's table: same names, descriptions and arguments."""

from __future__ import annotations

import discord
import pytest
import simcord

from bot.chat import COMMANDS
from bot.discord import ArtistBot


def test_the_tree_is_the_table(simcord_bot: ArtistBot) -> None:
    tree = {command.name: command for command in simcord_bot.tree.get_commands()}

    assert list(tree) == [command.name for command in COMMANDS]  # aliases are not registered
    for command in COMMANDS:
        slash = tree[command.name]
        assert isinstance(slash, discord.app_commands.Command)
        assert slash.description == command.description
        if command.takes_file:
            [file] = slash.parameters
            assert file.name == "file" and file.required
            assert file.type is discord.AppCommandOptionType.attachment
            continue
        if command.argument is None:
            assert slash.parameters == []
            continue
        [option] = slash.parameters
        assert option.display_name == command.argument.name
        assert option.description == command.argument.description
        assert option.required
        assert option.autocomplete is command.argument.suggests_artists


@pytest.mark.simcord(approved_intents=discord.Intents.default())
async def test_every_slash_command_is_answered(simcord_env: simcord.Env) -> None:
    channel = simcord_env.create_guild().create_text_channel("general")
    alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))

    for command in COMMANDS:
        options: dict[str, object] = (
            {command.argument.name: command.argument.example} if command.argument else {}
        )
        if command.takes_file:
            options["file"] = ("story.txt", b"A story.")
        result = await alice.slash(channel, command.name, **options)
        assert result.response is not None, command.name
        shown = result.response.content + "".join(e.title or "" for e in result.response.embeds)
        assert shown and "Unknown command" not in shown, command.name
