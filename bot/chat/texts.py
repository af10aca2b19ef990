"""Every sentence the bot says, on every platform, in one place.

Replies of the chat layer, and the few things an adapter says by itself (the
apology after a failure, hints, button labels). Text is plain and unescaped:
each renderer escapes it for its platform. The commands' names, usages and
descriptions are in :mod:`bot.chat.commands`, the one table of commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.chat.i18n import gettext
from bot.chat.messages import ActionKind

if TYPE_CHECKING:
    from retrieval import StoryInfo

EXAMPLE_QUESTION = "Who founded Moonlight Serenaders?"

# -- /help ---------------------------------------------------------------------------------

HELP_INTRO = (
    "I answer questions about artists from a collection of stories.\n\n"
    f"Ask me anything, e.g. “{EXAMPLE_QUESTION}”, and I reply with the passages that "
    "answer it, the best sentence highlighted. Ask a follow-up like “Where was she born?” "
    "and I stay with the same artist until you name another one (/start starts over)."
)
HELP_COMMANDS = "Commands:"
HELP_LINE = "{usage} - {description}"

# -- refusals --------------------------------------------------------------------------------

EMPTY = f"Please type a question, e.g. “{EXAMPLE_QUESTION}”"
USAGE = "Usage: {usage}, e.g. /{name} {example}"
TOO_LONG = "That question is too long ({length} characters). Please keep it under {limit}."
RATE_LIMITED = "You are asking very quickly. Please wait {seconds} s and try again."
NOT_ADMIN = "Sorry, only the bot's admins may use /{name}."
STALE = "That button belongs to an answer I no longer remember. Please ask the question again."
UNKNOWN_COMMAND = "Unknown command /{name}. My commands: {commands}."
COMMAND_SEPARATOR = ", "

# -- answers ---------------------------------------------------------------------------------

NO_ANSWER = "Sorry, I found nothing in the stories that answers “{question}”."
NO_MORE = "No more passages for that question."
ASK_FIRST = "Ask a question first, then /more shows further passages."
CORRECTED = "Showing results for “{question}”."
FOLLOW_UP = "(About {artist}, from your previous question.)"
NOT_IN_STORY = "{artist}'s story doesn't mention this. From {other}'s story:"
NOT_IN_STORY_NOR_ELSEWHERE = (
    "Sorry, neither {artist}'s story nor the others answer “{question}”. "
    "Name another artist, or /start over."
)
THANKS_UP = "Thanks! Glad it helped."
THANKS_DOWN = "Thanks for telling me; I'll note that this answer didn't help."

# -- /artists, /about, /reload -----------------------------------------------------------------

NO_ARTISTS = "I don't know any artists yet."
ARTISTS_ONE = "I know 1 artist:"
ARTISTS_MANY = "I know {count} artists:"
ARTIST_LINE = "• {artist}"
ARTIST_WITH_BAND = "• {artist} ({band})"
UNKNOWN_ARTIST = "I don't know an artist called “{name}”. /artists lists the ones I know."
ABOUT_BAND = "Band: {band}"
ABOUT_ALIASES = "Also known as: {names}"
ABOUT_STORY = "Story: “{title}” ({passages})"
PASSAGES_ONE = "1 passage"
PASSAGES_MANY = "{count} passages"
ABOUT_FOLLOW_UP = "Ask me anything about them; follow-up questions stay with this artist."
RELOADED_NOTHING = "Stories reloaded: nothing changed."
RELOADED = (
    "Stories reloaded: {added} added, {changed} changed, {removed} removed ({total} in total)."
)

# -- /forgetme -----------------------------------------------------------------------------------

FORGOTTEN_NOTHING = "I had nothing stored about you: no questions and no votes."
FORGOTTEN = "Done: I deleted {count} stored rows about you (questions and votes, in every chat)."

# -- said by the adapters ----------------------------------------------------------------------

APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
NON_TEXT_HINT = "I can only read text. Send me a question about an artist, or /help."
FORGED = "That button doesn't belong to an answer of mine. Please ask a question."
INLINE_HINT = "Type a question about an artist"
BLANK = "…"  # a reply with nothing to show (platforms refuse empty messages)
QUESTION_HEADER = "❓ {question}"  # above an answer that has no note of its own
CONTINUED = " (continued)"  # after the title of a passage's second part


@dataclass(frozen=True, slots=True)
class ButtonLabel:
    """A button's words and, when it has one, its emoji (a platform may show just that)."""

    text: str
    emoji: str | None = None


BUTTONS = {
    ActionKind.MORE: ButtonLabel("More"),
    ActionKind.HELPFUL: ButtonLabel("Helpful", "👍"),
    ActionKind.UNHELPFUL: ButtonLabel("Not helpful", "👎"),
}


def button_label(kind: ActionKind, language: str = "en") -> ButtonLabel:
    """The label of ``kind``'s button in ``language`` (the emoji stays)."""
    label = BUTTONS[kind]
    return ButtonLabel(gettext(language, label.text), label.emoji)


def artists_list(stories: Sequence[StoryInfo], language: str = "en") -> str:
    """What /artists says: every artist (and band) the stories are about, by name."""
    if not stories:
        return gettext(language, NO_ARTISTS)
    many = gettext(language, ARTISTS_MANY).format(count=len(stories))
    lines = [gettext(language, ARTISTS_ONE) if len(stories) == 1 else many]
    for story in sorted(stories, key=lambda s: s.artist.casefold()):
        line = ARTIST_WITH_BAND if story.band else ARTIST_LINE
        lines.append(line.format(artist=story.artist, band=story.band))
    return "\n".join(lines)


def about_artist(story: StoryInfo, language: str = "en") -> str:
    """What /about says of one artist: band, other names, the story."""

    def say(text: str) -> str:
        return gettext(language, text)

    lines = [story.artist]
    if story.band:
        lines.append(say(ABOUT_BAND).format(band=story.band))
    others = [n for n in story.aliases if n not in (story.artist, story.band)]
    if others:
        lines.append(say(ABOUT_ALIASES).format(names=", ".join(others)))
    many = say(PASSAGES_MANY).format(count=story.passages)
    count = say(PASSAGES_ONE) if story.passages == 1 else many
    lines.append(say(ABOUT_STORY).format(title=story.title, passages=count))
    lines.append(say(ABOUT_FOLLOW_UP))
    return "\n".join(lines)
