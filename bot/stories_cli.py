"""``artistbot stories``: add, list, remove, restore and the log, from the host's shell.

The same code path as the chats: each command is the chat layer's
(:class:`~bot.chat.stories.StoryDesk` through :class:`~bot.chat.ChatService`), sent by
a local admin; a question (replace? remove?) is asked at the terminal, or answered by
``--yes``.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.chat import ChatService, Incoming, Reply

PLATFORM = "cli"

yes_option = click.option("--yes", "-y", is_flag=True, help="Answer yes to replace or remove.")


@click.group()
def stories() -> None:
    """Add, list, remove and restore stories; the log of changes."""


@stories.command("list")
@click.pass_obj
def list_command(settings: Settings) -> None:
    """Every story: who it is about, its size, when it changed."""
    chat = _chat(settings)
    _print(asyncio.run(chat.command("stories", "", _message())))


@stories.command("add")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@yes_option
@click.pass_obj
def add_command(settings: Settings, file: Path, yes: bool) -> None:
    """Add the story FILE (.txt or .md); one of the same name is replaced once you agree."""
    from bot.chat import Attachment

    async def read() -> bytes:
        return await asyncio.to_thread(file.read_bytes)

    message = _message(Attachment(file.name, file.stat().st_size, read))
    chat = _chat(settings)
    _answer(chat, asyncio.run(chat.command("addstory", "", message)), message, yes=yes)


@stories.command("remove")
@click.argument("story")
@yes_option
@click.pass_obj
def remove_command(settings: Settings, story: str, yes: bool) -> None:
    """Remove STORY (its id, or its artist); its file is kept aside for restore."""
    chat = _chat(settings)
    message = _message()
    _answer(chat, asyncio.run(chat.command("removestory", story, message)), message, yes=yes)


@stories.command("restore")
@click.argument("name", required=False)
@yes_option
@click.pass_obj
def restore_command(settings: Settings, name: str | None, yes: bool) -> None:
    """Put back a removed or replaced story: NAME is its id, file name or kept file's name.

    Without NAME, list the kept files, newest first.
    """
    chat = _chat(settings)
    if name is None:
        kept = chat.retriever.library.removed()
        click.echo("\n".join(p.name for p in kept) if kept else "No removed stories are kept.")
        return
    message = _message()
    _answer(chat, asyncio.run(chat.stories.restore(name, message)), message, yes=yes)


@stories.command("log")
@click.pass_obj
def log_command(settings: Settings) -> None:
    """Every story added, replaced, restored or removed: when, where, by whom, the digest."""
    from bot.chat.storylog import StoryLog

    for event in StoryLog(settings.feedback_path).events():
        when = datetime.fromtimestamp(event.at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        click.echo(
            f"{when}  {event.action:<8}  {event.story_id}  {event.file}  "
            f"{event.platform}:{event.user_id}  sha256:{event.digest[:16]}"
        )


def _chat(settings: Settings) -> ChatService:
    from bot.opening import open_chat, open_retriever

    # Only adding a story asks a question (who it is about): its model opens then.
    return open_chat(settings, open_retriever(settings, questions=False))


def _message(attachment: object = None) -> Incoming:
    from bot.chat import Attachment, Incoming

    assert attachment is None or isinstance(attachment, Attachment)
    return Incoming(
        platform=PLATFORM,
        chat_id=PLATFORM,
        user_id=getpass.getuser(),
        text="",
        is_admin=True,
        is_editor=True,  # whoever runs the command on the host
        attachment=attachment,
    )


def _answer(chat: ChatService, reply: Reply, message: Incoming, *, yes: bool) -> None:
    """Print ``reply``; a question is answered by ``--yes`` or at the terminal."""
    from bot.chat import ActionKind, ActionRequest

    if ActionKind.CONFIRM not in reply.actions or reply.answer_id is None:
        _print(reply)
        return
    if not yes and not (sys.stdin.isatty() and click.confirm(reply.text)):
        _print(reply)
        raise click.ClickException("not changed: answer yes at the terminal, or pass --yes")
    request = ActionRequest(ActionKind.CONFIRM, reply.answer_id, message.chat_id, message.user_id)
    _print(asyncio.run(chat.act(request)))


def _print(reply: Reply) -> None:
    from bot.chat import ReplyKind

    if reply.kind is ReplyKind.REFUSED:
        raise click.ClickException(reply.text)
    click.echo(reply.text)
