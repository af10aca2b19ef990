"""The one table of commands; /help, Telegram's command menu and the Discord tree come from it.

Each command is written once, here: its name, usage, description, who may run it
(:class:`~bot.chat.messages.Access`), its argument and whether it takes a file. The
chat layer runs commands by this table (and refuses each to those below its access);
the adapters build their platform's command lists from it, never from a list of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.chat.i18n import gettext, translate
from bot.chat.messages import Access
from bot.chat.texts import (
    COMMAND_SEPARATOR,
    EXAMPLE_QUESTION,
    HELP_COMMANDS,
    HELP_INTRO,
    HELP_LINE,
    UNKNOWN_COMMAND,
)

# Both platforms' limits: Discord allows 100 characters for a description, Telegram 256.
MAX_DESCRIPTION = 100


@dataclass(frozen=True, slots=True)
class Argument:
    """The text a command takes (Discord shows it as a named option)."""

    name: str
    description: str
    example: str  # shown in the usage hint when the argument is missing
    suggests_artists: bool = False  # platforms that can, offer the artists' names as you type


@dataclass(frozen=True, slots=True)
class Command:
    """One command, as every platform shows it."""

    name: str
    description: str
    access: Access = Access.EVERYONE
    argument: Argument | None = None
    aliases: tuple[str, ...] = ()  # other names that run it (never listed)
    takes_file: bool = False  # a file sent with it (or replied to) reaches the chat layer

    @property
    def admin_only(self) -> bool:
        """True when not everyone may run it (platform menus leave it out)."""
        return self.access > Access.EVERYONE

    @property
    def usage(self) -> str:
        """How to type it, e.g. ``/about <artist>``."""
        return f"/{self.name} <{self.argument.name}>" if self.argument else f"/{self.name}"

    @property
    def names(self) -> tuple[str, ...]:
        """Its name and its aliases: what a platform should route to it."""
        return (self.name, *self.aliases)


COMMANDS: tuple[Command, ...] = (
    Command(
        "ask",
        "Ask a question about the artists in the stories",
        argument=Argument(
            "question", f"What you want to know, e.g. {EXAMPLE_QUESTION}", EXAMPLE_QUESTION
        ),
    ),
    Command("more", "More passages for the last question"),
    Command("artists", "The artists I know"),
    Command(
        "about",
        "Who an artist is, and what their story is called",
        argument=Argument(
            "artist",
            "The artist, band or alias (start typing for suggestions)",
            "Talgat",
            suggests_artists=True,
        ),
    ),
    # Telegram sends /start when someone opens the bot: the help, and a fresh conversation.
    Command("start", "Start over: what I can do, and forget the artist we talked about"),
    Command("help", "What I can do, and how to ask"),
    Command("forgetme", "Delete the questions and votes I stored from you, in every chat"),
    Command("reload", "Re-read the stories (admins only)", access=Access.ADMINS),
    Command(
        "stories",
        "Every story: who it is about, its size, when it changed (admins only)",
        Access.ADMINS,
    ),
    Command(
        "addstory",
        "Add or replace a story: send a .txt or .md file with it (named admins only)",
        Access.EDITORS,
        takes_file=True,
    ),
    Command(
        "storynames",
        "Fix who a story is about: artist, band, aliases, title (named admins only)",
        Access.EDITORS,
        argument=Argument(
            "names",
            "The story's id, then e.g. artist: A. Sadykova; band: Golden Domra; aliases: Aru",
            "aruzhan artist: Aruzhan Sadykova; band: Golden Domra; aliases: Aru, A. S.",
        ),
    ),
    Command(
        "removestory",
        "Remove a story, once you confirm; its file is kept aside (named admins only)",
        Access.EDITORS,
        argument=Argument(
            "story",
            "The story's id (see /stories) or its artist",
            "Talgat Baktybekova",
            suggests_artists=True,
        ),
    ),
)

_BY_NAME = {name: command for command in COMMANDS for name in command.names}


def command_named(name: str) -> Command | None:
    """The command ``name`` (or ``/name``, any case) runs, or ``None``."""
    return _BY_NAME.get(name.lower().lstrip("/"))


def public_commands() -> tuple[Command, ...]:
    """The commands everyone may run: the ones a platform's menu lists."""
    return tuple(command for command in COMMANDS if not command.admin_only)


def help_text(access: Access = Access.EVERYONE, language: str = "en") -> str:
    """What /help says: the introduction, then the commands someone with ``access`` may run."""
    shown = [command for command in COMMANDS if command.access <= access]
    lines = [
        HELP_LINE.format(usage=c.usage, description=gettext(language, c.description)) for c in shown
    ]
    intro, heading = gettext(language, HELP_INTRO), gettext(language, HELP_COMMANDS)
    return "\n".join([intro, "", heading, *lines])


def unknown_command(name: str, language: str = "en") -> str:
    """What the bot says to ``/name`` that is no command of the table: the ones it has."""
    listed = COMMAND_SEPARATOR.join(f"/{command.name}" for command in public_commands())
    return translate(language, UNKNOWN_COMMAND, name=name.lower().lstrip("/"), commands=listed)
