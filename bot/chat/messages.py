"""Neutral message types between the chat layer and the platform adapters.

Adapters turn a platform event into an :class:`Incoming` (or a button press into
an :class:`ActionRequest`), call :class:`bot.chat.ChatService`, and render the
:class:`Reply` it returns. Nothing here knows Telegram or Discord.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from retrieval import Hit, Span


class ReplyKind(StrEnum):
    """What a reply is, so renderers can style it."""

    ANSWER = "answer"  # passages
    NO_ANSWER = "no_answer"  # an honest "nothing relevant"
    INFO = "info"  # help, artist list, about, confirmations
    REFUSED = "refused"  # input limits, rate limit, permission refused


class ActionKind(StrEnum):
    """Buttons under an answer, and under a question about the stories (admins only)."""

    MORE = "more"
    HELPFUL = "up"
    UNHELPFUL = "down"
    CONFIRM = "confirm"  # replace or remove the story, as asked
    CANCEL = "cancel"
    UNDO = "undo"  # take back the story just added (or put back the one it replaced)

    @property
    def on_stories(self) -> bool:
        """True for the buttons that change the stories (see :mod:`bot.chat.stories`)."""
        return self in _STORY_ACTIONS

    @property
    def code(self) -> str:
        """The one letter that stands for this action in a button's data on every platform."""
        return _ACTION_CODES[self]

    @classmethod
    def from_code(cls, code: str) -> ActionKind | None:
        """The action a button's code stands for, or ``None`` (a forged or garbled button)."""
        return _CODE_ACTIONS.get(code)


# One letter each, so a button's data stays short: Telegram allows 64 bytes of it.
_ACTION_CODES = {
    ActionKind.MORE: "m",
    ActionKind.HELPFUL: "u",
    ActionKind.UNHELPFUL: "d",
    ActionKind.CONFIRM: "y",
    ActionKind.CANCEL: "n",
    ActionKind.UNDO: "z",
}
_STORY_ACTIONS = frozenset({ActionKind.CONFIRM, ActionKind.CANCEL, ActionKind.UNDO})
_CODE_ACTIONS = {code: kind for kind, code in _ACTION_CODES.items()}


class Access(IntEnum):
    """Who may run a command; each level may run the ones below it too."""

    EVERYONE = 0
    # Configured admins, and on Discord a server's Administrators: /reload, /stories.
    ADMINS = 1
    # Only the admins named in the settings: changing the stories changes them for every
    # chat on every platform, which no one server's Administrator may decide.
    EDITORS = 2


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with a message; its bytes are fetched only when a command uses them."""

    name: str
    size: int  # as the platform declares it; 0 when it does not say
    read: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One text message (or slash command) addressed to the bot."""

    platform: str  # "telegram", "discord", "repl"
    chat_id: str  # conversation key: the chat/channel/DM the message came from
    user_id: str
    text: str  # the question or command, mention already stripped
    is_admin: bool = False  # the adapter decides (configured admins, platform permissions)
    # The adapter decides too: only the admins named in the settings (see Access.EDITORS).
    is_editor: bool = False
    # A search offered while the user types (Telegram's inline mode), not a question sent:
    # counted by its own limit (chat.rate_limit_inline_queries), not the question limit.
    inline: bool = False
    private: bool = False  # a one-to-one chat with the bot (not a group), for the question log
    # The language the platform reports for the user (Telegram language_code, Discord
    # locale); the bot replies in the question's language first (see bot.chat.i18n).
    language: str | None = None
    attachment: Attachment | None = None  # a file sent with the command, or replied to

    @property
    def access(self) -> Access:
        """The most the sender may do."""
        if self.is_editor:
            return Access.EDITORS
        return Access.ADMINS if self.is_admin else Access.EVERYONE


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """A button press: what it asks for, on which answer, by whom."""

    kind: ActionKind
    answer_id: str
    chat_id: str
    user_id: str
    language: str | None = None  # the platform's language for the user, as on Incoming


@dataclass(frozen=True, slots=True)
class PassageView:
    """A passage as a reply shows it: text, the sentence to emphasise, the citation."""

    text: str
    best_sentence: Span  # offsets into ``text``
    artist: str
    story_title: str
    score: float
    dense_score: float = 0.0  # the retrievers' own scores, for the REPL's :scores
    lexical_score: float = 0.0
    story_id: str = ""

    @classmethod
    def from_hit(cls, hit: Hit) -> PassageView:
        """The view of a passage the retrieval core returned."""
        return cls(
            text=hit.text,
            best_sentence=hit.best_sentence,
            artist=hit.artist,
            story_title=hit.story.title,
            score=hit.score,
            dense_score=hit.dense_score,
            lexical_score=hit.lexical_score,
            story_id=hit.story.story_id,
        )

    @property
    def citation(self) -> str:
        """ "Artist, “Story title”" or just the artist when the title is the artist."""
        if self.story_title and self.story_title != self.artist:
            return f"{self.artist}, “{self.story_title}”"
        return self.artist


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot says back. ``text`` is plain, unescaped text; renderers escape it."""

    kind: ReplyKind
    text: str = ""
    passages: tuple[PassageView, ...] = ()
    answer_id: str | None = None  # set on answers that can take actions
    actions: tuple[ActionKind, ...] = ()  # buttons to show
    question: str = ""  # the question as searched, for headers
    # The language of the bot's words in it ("en", "ru", "kk"): renderers label buttons in it.
    language: str = "en"

    @property
    def is_answer(self) -> bool:
        """True when the reply carries passages."""
        return self.kind is ReplyKind.ANSWER
