"""The one table of commands, and what the chat layer makes of it: /help and running them."""

from __future__ import annotations

import re

import pytest

from bot.chat import Access, ChatService, Incoming, ReplyKind
from bot.chat.commands import COMMANDS, MAX_DESCRIPTION, Command, public_commands

# What both platforms accept as a command's name (Telegram: 1-32 of a-z, 0-9, _).
NAME = re.compile(r"[a-z0-9_]{1,32}")


def msg(text: str = "", *, admin: bool = False, editor: bool = False) -> Incoming:
    return Incoming(
        platform="test", chat_id="c1", user_id="u1", text=text, is_admin=admin, is_editor=editor
    )


def arguments_for(command: Command) -> str:
    return command.argument.example if command.argument else ""


def test_the_table_fits_every_platform() -> None:
    names = [name for command in COMMANDS for name in command.names]
    assert len(names) == len(set(names))
    assert all(NAME.fullmatch(name) for name in names)
    for command in COMMANDS:
        assert 0 < len(command.description) <= MAX_DESCRIPTION
        if command.argument is not None:
            assert NAME.fullmatch(command.argument.name)
            assert 0 < len(command.argument.description) <= MAX_DESCRIPTION
    assert any(c.admin_only for c in COMMANDS) and public_commands()


async def test_help_lists_every_public_command_and_admin_ones_only_to_admins(
    chat: ChatService,
) -> None:
    everyone = (await chat.command("help", "", msg())).text
    admin = (await chat.command("help", "", msg(admin=True))).text
    editor = (await chat.command("help", "", msg(admin=True, editor=True))).text
    for command in COMMANDS:
        line = f"{command.usage} - {command.description}"
        assert line in editor
        assert (line in admin) is (command.access <= Access.ADMINS)
        assert (line in everyone) is not command.admin_only
    assert "/reload" in admin and "/reload" not in everyone
    assert "/addstory" in editor and "/addstory" not in admin


async def test_every_command_and_alias_of_the_table_runs(chat: ChatService) -> None:
    for command in COMMANDS:
        for name in command.names:
            reply = await chat.command(
                f"/{name.upper()}", arguments_for(command), msg(admin=True, editor=True)
            )
            assert "Unknown command" not in reply.text, name
            assert reply.text or reply.passages, name
    assert (await chat.command("start", "", msg())).text == (
        await chat.command("help", "", msg())
    ).text
    unknown = await chat.command("frobnicate", "", msg())
    assert "Unknown command /frobnicate" in unknown.text
    assert all(f"/{command.name}" in unknown.text for command in public_commands())
    assert "/reload" not in unknown.text  # the menu's commands, not the admins'


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.admin_only], ids=lambda c: c.name)
async def test_admin_only_commands_are_refused_to_others(
    chat: ChatService, command: Command
) -> None:
    reply = await chat.command(command.name, arguments_for(command), msg())
    assert reply.kind is ReplyKind.REFUSED
    if command.access is Access.ADMINS:
        assert f"only the bot's admins may use /{command.name}" in reply.text
    else:  # changing the stories: not even a Discord server's Administrator
        admin = await chat.command(command.name, arguments_for(command), msg(admin=True))
        for refused in (reply, admin):
            assert f"only the admins named in the bot's settings may use /{command.name}" in (
                refused.text
            )


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.argument], ids=lambda c: c.name)
async def test_a_missing_argument_gets_the_usage(chat: ChatService, command: Command) -> None:
    reply = await chat.command(command.name, "   ", msg(admin=True, editor=True))
    assert reply.kind is ReplyKind.REFUSED
    assert reply.text.startswith(f"Usage: {command.usage}, e.g. /{command.name} ")
