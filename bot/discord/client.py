"""The Discord adapter: slash commands, @mentions, DMs and answer buttons.

It only translates: a Discord event becomes an :class:`~bot.messages.Incoming`
or :class:`~bot.messages.ActionRequest`, :class:`~bot.chat.ChatService` answers,
and :mod:`bot.discord_render` turns the :class:`~bot.messages.Reply` into
messages. Usage::

    bot = ArtistBot(chat, settings, state_dir=settings.retrieval.data_dir)
    async with bot:
        await bot.start(token)

(:func:`run` does this until a stop event is set; :mod:`bot.runner` runs it
next to the Telegram bot.)

No mention can ever ping: :class:`discord.AllowedMentions.none` is the client's
default and is passed again on every send.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import yarl
from discord import app_commands

from bot.chat.messages import ActionKind, ActionRequest, Incoming, Reply, ReplyKind
from bot.chat.service import COMMANDS, ChatService
from bot.chat.texts import APOLOGY, BUTTONS
from bot.discord.render import Outgoing, render
from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "discord"
# Where the hash of the last synced command tree is kept (in the data directory).
SYNC_STATE_FILE = "discord_commands.sha256"
# Autocomplete may offer at most 25 choices of at most 100 characters.
MAX_CHOICES = 25
MAX_CHOICE_CHARS = 100
NO_MENTIONS = discord.AllowedMentions.none()
# Replies not ready after this many seconds are deferred ("thinking…"); Discord allows 3.
DEFER_AFTER = 1.5

# More continues the answer (the primary action); the votes are secondary.
_BUTTON_STYLES = {
    ActionKind.MORE: discord.ButtonStyle.primary,
    ActionKind.HELPFUL: discord.ButtonStyle.secondary,
    ActionKind.UNHELPFUL: discord.ButtonStyle.secondary,
}
_CODES = "".join(kind.code for kind in ActionKind)
_QUIET_KINDS = (ReplyKind.REFUSED,)


class AnswerButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"artistbot:(?P<action>[{_CODES}]):(?P<answer_id>[^:]{{1,80}})",
):
    """A button under an answer; its ``custom_id`` says it all, so it survives restarts."""

    def __init__(self, kind: ActionKind, answer_id: str) -> None:
        label = BUTTONS[kind]
        super().__init__(
            discord.ui.Button(
                label=label.text, emoji=label.emoji, style=_BUTTON_STYLES[kind],
                custom_id=f"artistbot:{kind.code}:{answer_id}",
            )
        )
        self.kind = kind
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AnswerButton:
        """Rebuild the button from a click on any message, even one sent before a restart."""
        kind = ActionKind.from_code(match["action"])
        assert kind is not None  # the template admits only the codes
        return cls(kind, match["answer_id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the press to the bot (errors go to the bot's one error handler)."""
        client = interaction.client
        if isinstance(client, ArtistBot):
            await client.press(interaction, self.kind, self.answer_id)


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
        self._add_commands()

    # -- start-up ----------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        """Register the persistent buttons; sync slash commands only when they changed."""
        self.add_dynamic_items(AnswerButton)
        await self.sync_commands()

    async def sync_commands(self) -> bool:
        """Sync the command tree if its definition changed since the last sync (or if forced)."""
        payload = {
            "application": self.application_id,
            "commands": [command.to_dict(self.tree) for command in self.tree.get_commands()],
        }
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        path = self.state_dir / SYNC_STATE_FILE
        if not self.force_sync and _read_digest(path) == digest:
            log.info("slash commands unchanged since the last sync; not syncing")
            return False
        synced = await self.tree.sync()
        _write_digest(path, digest)
        log.info("synced %d slash commands", len(synced))
        return True

    async def on_ready(self) -> None:
        """Log who we are (nothing else happens here; syncing is done in setup_hook)."""
        log.info("discord: logged in as %s (%s)", self.user, self.user.id if self.user else "?")

    # -- slash commands ----------------------------------------------------------------------

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command()
        @app_commands.describe(question="What you want to know, e.g. Who founded Moonlight "
                                        "Serenaders?")
        async def ask(interaction: discord.Interaction[ArtistBot], question: str) -> None:
            """Ask a question about the artists in the stories."""
            incoming = self.incoming(interaction, question)
            await self.respond(interaction, lambda: self.chat.command("ask", question, incoming))

        @tree.command()
        async def artists(interaction: discord.Interaction[ArtistBot]) -> None:
            """List the artists I know."""
            incoming = self.incoming(interaction, "")
            await self.respond(interaction, lambda: self.chat.command("artists", "", incoming))

        @tree.command()
        @app_commands.describe(artist="The artist, band or alias (start typing for suggestions)")
        async def about(interaction: discord.Interaction[ArtistBot], artist: str) -> None:
            """Who an artist is, and what their story is called."""
            incoming = self.incoming(interaction, artist)
            await self.respond(interaction, lambda: self.chat.command("about", artist, incoming))

        @about.autocomplete("artist")
        async def about_artist(
            interaction: discord.Interaction[ArtistBot], current: str
        ) -> list[app_commands.Choice[str]]:
            return self.artist_choices(current)

        @tree.command(name="more")
        async def more(interaction: discord.Interaction[ArtistBot]) -> None:
            """More passages for the last question in this channel."""
            incoming = self.incoming(interaction, "")
            await self.respond(interaction, lambda: self.chat.command("more", "", incoming))

        @tree.command(name="help")
        async def help_(interaction: discord.Interaction[ArtistBot]) -> None:
            """What I can do, and how to ask."""
            incoming = self.incoming(interaction, "")
            await self.respond(interaction, lambda: self.chat.command("help", "", incoming))

        @tree.command()
        async def reload(interaction: discord.Interaction[ArtistBot]) -> None:
            """Re-read the stories (admins only)."""
            incoming = self.incoming(interaction, "")
            await self.respond(interaction, lambda: self.chat.command("reload", "", incoming),
                               ephemeral=True)

    def artist_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """Artist names that contain what the user has typed so far (at most 25)."""
        typed = current.casefold().strip()
        names = self.chat.artist_names()
        matches = [n for n in names if n.casefold().startswith(typed)]
        matches += [n for n in names if typed in n.casefold() and n not in matches]
        return [
            app_commands.Choice(name=name[:MAX_CHOICE_CHARS], value=name[:MAX_CHOICE_CHARS])
            for name in matches[:MAX_CHOICES]
        ]

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
            platform=PLATFORM, chat_id=str(message.channel.id), user_id=str(message.author.id),
            text=text, is_admin=self.is_admin(message.author),
        )
        async with message.channel.typing():
            reply = await self._ask_chat(incoming)
        await self.send_reply(message, reply)

    async def _ask_chat(self, incoming: Incoming) -> Reply:
        name, _, args = incoming.text.partition(" ")
        if name.startswith("/") and name[1:].lower() in COMMANDS:  # "@bot /artists"
            return await self.chat.command(name[1:].lower(), args, incoming)
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
            kind=kind, answer_id=answer_id, chat_id=str(interaction.channel_id),
            user_id=str(interaction.user.id),
        )
        try:
            await self.respond(
                interaction, lambda: self.chat.act(request, platform=PLATFORM),
                ephemeral=kind is not ActionKind.MORE,
            )
        except Exception as error:  # buttons bypass tree.on_error; route to the same handler
            await self.report_interaction_error(interaction, error)

    # -- interactions: one way to answer -------------------------------------------------------

    def incoming(self, interaction: discord.Interaction[Any], text: str) -> Incoming:
        """The neutral message for a slash command."""
        return Incoming(
            platform=PLATFORM, chat_id=str(interaction.channel_id),
            user_id=str(interaction.user.id), text=text, is_admin=self.is_admin(interaction.user),
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
                view.add_item(AnswerButton(kind, reply.answer_id))
            options["view"] = view
        return options

    def is_admin(self, user: discord.User | discord.Member) -> bool:
        """Configured admins, and members with the Administrator permission."""
        if user.id in self.settings.discord.admins:
            return True
        return isinstance(user, discord.Member) and user.guild_permissions.administrator

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
                await interaction.followup.send(APOLOGY, ephemeral=True,
                                                allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(APOLOGY, ephemeral=True,
                                                        allowed_mentions=NO_MENTIONS)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Event failures: log the traceback, apologise in the channel; the bot keeps running."""
        log.exception("discord event %s failed", event_method)
        message = args[0] if args else None
        if event_method == "on_message" and isinstance(message, discord.Message):
            with contextlib.suppress(discord.HTTPException):
                await message.channel.send(APOLOGY, allowed_mentions=NO_MENTIONS)


async def run(bot: ArtistBot, token: str, *, stop: asyncio.Event) -> None:
    """Run ``bot`` until ``stop`` is set, sharing the running event loop; close it cleanly.

    A failure to connect (a wrong token, say) is raised, not swallowed.
    """
    async with bot:
        connection = asyncio.create_task(bot.start(token), name="discord-connection")
        stopping = asyncio.create_task(stop.wait(), name="discord-stop")
        try:
            await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not connection.done():
                await bot.close()
            await connection  # re-raises a connection failure
    log.info("discord bot stopped")


def use_endpoints(api_base: str, gateway_url: str) -> None:
    """Point discord.py at these REST and gateway URLs (local stand-ins); call once, at start-up."""
    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def _read_digest(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _write_digest(path: Path, digest: str) -> None:
    """Write atomically: a temporary file, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(digest + "\n")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
