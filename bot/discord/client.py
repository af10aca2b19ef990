"""The Discord client: slash commands, @mentions, DMs and answer buttons.

It only translates: a Discord event becomes an :class:`~bot.chat.Incoming`
or :class:`~bot.chat.ActionRequest`, :class:`~bot.chat.ChatService` answers,
and :mod:`bot.discord.render` turns the :class:`~bot.chat.Reply` into
messages. The slash commands come from the chat layer's table
(:mod:`bot.discord.commands`). Usage::

    bot = ArtistBot(chat, settings, state_dir=settings.retrieval.data_dir)
    async with bot:
        await bot.start(token)

(:func:`bot.discord.lifecycle.run` does this until a stop event is set;
:mod:`bot.runner` runs it next to the Telegram bot.)

No mention can ever ping: :class:`discord.AllowedMentions.none` is the client's
default and is passed again on every send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import discord
from discord import app_commands

from bot.chat import (
    ActionKind,
    ActionRequest,
    Attachment,
    ChatService,
    Incoming,
    Reply,
    ReplyKind,
    command_named,
)
from bot.chat.texts import APOLOGY, FORGED
from bot.discord.buttons import AnswerButton
from bot.discord.commands import add_commands, sync_commands
from bot.discord.render import Outgoing, render
from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "discord"
NO_MENTIONS = discord.AllowedMentions.none()
# Replies not ready after this many seconds are deferred ("thinking…"); Discord allows 3.
DEFER_AFTER = 1.5

_QUIET_KINDS = (ReplyKind.REFUSED,)


class ArtistBot(discord.Client):
    """The artistbot Discord client: one :class:`ChatService`, slash commands, buttons."""

    def __init__(
        self,
        chat: ChatService,
        settings: Settings,
        *,
        state_dir: Path,
        sync: bool = False,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        # Mentions and DMs carry their content without the privileged Message Content intent.
        super().__init__(intents=discord.Intents.default(), allowed_mentions=NO_MENTIONS)
        self.chat = chat
        self.settings = settings
        self.state_dir = state_dir
        self.force_sync = sync
        self.defer_after = defer_after
        self.tree: app_commands.CommandTree[ArtistBot] = app_commands.CommandTree(self)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        add_commands(self)

    # -- start-up ----------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        """Register the persistent buttons; sync slash commands only when they changed."""
        self.add_dynamic_items(AnswerButton)
        await sync_commands(self, force=self.force_sync)

    async def on_ready(self) -> None:
        """Log who we are (nothing else happens here; syncing is done in setup_hook)."""
        log.info("discord: logged in as %s (%s)", self.user, self.user.id if self.user else "?")

    # -- messages: @mentions in servers, and DMs ------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """Answer a DM, or a server message that @mentions the bot; ignore everything else."""
        if message.author.bot or self.user is None:
            return
        addressed = self._addressing(message)
        if message.guild is not None and not re.search(addressed, message.content):
            return
        text = re.sub(addressed, " ", message.content).strip()
        incoming = Incoming(
            platform=PLATFORM,
            chat_id=str(message.channel.id),
            user_id=str(message.author.id),
            text=text,
            is_admin=self.is_admin(message.author),
            private=message.guild is None,
            is_editor=self.is_editor(message.author),
            attachment=attachment(message.attachments[0]) if message.attachments else None,
        )
        async with message.channel.typing():
            reply = await self._ask_chat(incoming)
        await self.send_reply(message, reply)

    async def _ask_chat(self, incoming: Incoming) -> Reply:
        name, _, args = incoming.text.partition(" ")
        if name.startswith("/") and command_named(name) is not None:  # "@bot /artists"
            return await self.chat.command(name, args, incoming)
        return await self.chat.handle(incoming)

    async def send_reply(self, message: discord.Message, reply: Reply) -> None:
        """Send ``reply`` as a reply to ``message`` (continued in the channel when it is long)."""
        parts = render(reply)
        for number, part in enumerate(parts):
            options = self._send_options(part, reply, last=number == len(parts) - 1)
            if number == 0:
                await message.reply(mention_author=False, **options)
            else:
                await message.channel.send(**options)

    def _addressing(self, message: discord.Message) -> str:
        """A pattern for the mentions that address the bot: its user, or its own role."""
        assert self.user is not None
        own_role = message.guild.self_role if message.guild is not None else None
        role = f"|<@&{own_role.id}>" if own_role is not None else ""
        return rf"<@!?{self.user.id}>{role}"

    # -- buttons ------------------------------------------------------------------------------

    async def press(
        self, interaction: discord.Interaction[Any], kind: ActionKind, answer_id: str
    ) -> None:
        """A button under an answer was pressed: More shows more passages; votes are recorded."""
        request = ActionRequest(
            kind=kind,
            answer_id=answer_id,
            chat_id=str(interaction.channel_id),
            user_id=str(interaction.user.id),
            language=_locale(interaction),
        )
        try:
            await self.respond(
                interaction,
                lambda: self.chat.act(request, platform=PLATFORM),
                ephemeral=kind is not ActionKind.MORE,
            )
        except Exception as error:  # buttons bypass tree.on_error; route to the same handler
            await self.report_interaction_error(interaction, error)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Acknowledge a press of a component that no button of ours handles.

        discord.py leaves such an interaction unanswered, and Discord then tells the user
        "This interaction failed": a button of another id scheme (an older version's), a
        garbled or forged id. Recognised presses are answered by :meth:`press`.
        """
        if interaction.type is not discord.InteractionType.component:
            return
        data = cast(dict[str, Any], interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if AnswerButton.recognises(custom_id):
            return
        log.info("unknown component %r pressed; acknowledged", custom_id[:100])
        await interaction.response.send_message(
            FORGED, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    # -- interactions: one way to answer -------------------------------------------------------

    def incoming(
        self,
        interaction: discord.Interaction[Any],
        text: str,
        file: discord.Attachment | None = None,
    ) -> Incoming:
        """The neutral message for a slash command (and the file given to it)."""
        return Incoming(
            platform=PLATFORM,
            chat_id=str(interaction.channel_id),
            user_id=str(interaction.user.id),
            text=text,
            is_admin=self.is_admin(interaction.user),
            private=interaction.guild_id is None,
            language=_locale(interaction),
            is_editor=self.is_editor(interaction.user),
            attachment=attachment(file) if file is not None else None,
        )

    async def respond(
        self,
        interaction: discord.Interaction[Any],
        call: Callable[[], Awaitable[Reply]],
        *,
        ephemeral: bool = False,
    ) -> None:
        """Answer an interaction with the chat layer's reply.

        A reply not ready within :attr:`defer_after` seconds is deferred with
        "thinking…" first (Discord allows 3 seconds to acknowledge). A refusal
        (rate limit, permission, a forgotten answer) that is ready in time is
        shown only to the user who asked.
        """
        pending = asyncio.ensure_future(call())
        done, _ = await asyncio.wait({pending}, timeout=self.defer_after)
        if not done:
            await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        reply = await pending
        if not interaction.response.is_done() and reply.kind in _QUIET_KINDS:
            ephemeral = True
        parts = render(reply)
        for number, part in enumerate(parts):
            options = self._send_options(part, reply, last=number == len(parts) - 1)
            if interaction.response.is_done():
                await interaction.followup.send(ephemeral=ephemeral, **options)
            else:
                await interaction.response.send_message(ephemeral=ephemeral, **options)

    def _send_options(self, part: Outgoing, reply: Reply, *, last: bool) -> dict[str, Any]:
        options: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if part.content:
            options["content"] = part.content
        if part.embeds:
            options["embeds"] = list(part.embeds)
        if last and reply.answer_id and reply.actions:
            view = discord.ui.View(timeout=None)
            for kind in reply.actions:
                view.add_item(AnswerButton(kind, reply.answer_id, reply.language))
            options["view"] = view
        return options

    def is_admin(self, user: discord.User | discord.Member) -> bool:
        """Configured admins, and members with the Administrator permission."""
        if self.is_editor(user):
            return True
        return isinstance(user, discord.Member) and user.guild_permissions.administrator

    def is_editor(self, user: discord.User | discord.Member) -> bool:
        """Configured admins only: a server's Administrator may not change every server's
        stories."""
        return user.id in self.settings.discord.admins

    # -- errors: one handler -----------------------------------------------------------------

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Slash-command failures: log the traceback, apologise to the user."""
        await self.report_interaction_error(interaction, error)

    async def report_interaction_error(
        self, interaction: discord.Interaction[Any], error: BaseException
    ) -> None:
        """Log ``error`` with its traceback and tell the user, briefly, that it failed."""
        name = interaction.command.name if interaction.command else interaction.data
        log.error("interaction %r failed", name, exc_info=error)
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(
                    APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS
                )
            else:
                await interaction.response.send_message(
                    APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS
                )

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Event failures: log the traceback, apologise in the channel; the bot keeps running."""
        log.exception("discord event %s failed", event_method)
        message = args[0] if args else None
        if event_method == "on_message" and isinstance(message, discord.Message):
            with contextlib.suppress(discord.HTTPException):
                await message.channel.send(APOLOGY, allowed_mentions=NO_MENTIONS)


def _locale(interaction: discord.Interaction[Any]) -> str | None:
    """The user's Discord locale ("ru", "en-US"; an unknown one as sent), if any."""
    locale = getattr(interaction, "locale", None)
    return str(locale) if locale else None


def attachment(file: discord.Attachment) -> Attachment:
    """The neutral attachment for a Discord file (fetched from Discord's CDN when read)."""
    return Attachment(file.filename, file.size, file.read)
