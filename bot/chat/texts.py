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
NOT_EDITOR = (
    "Sorry, only the admins named in the bot's settings may use /{name}: "
    "it changes the stories for everyone."
)
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

# -- /stories, /addstory, /removestory --------------------------------------------------------

NO_STORIES = "There are no stories yet. Send me a .txt or .md file to add one."
STORIES_ONE = "1 story:"
STORIES_MANY = "{count} stories:"
STORY_LINE = "• {story_id}: {artist}{band}, “{title}”, {passages}, changed {changed}"
STORY_BAND = " ({band})"
ADD_HOW = (
    "Send me the story as a .txt or .md file (a document), with or without the caption "
    "/addstory, or reply /addstory to one."
)
TOO_BIG = (
    "I can't add {name}: it is {size}, over the limit of {limit}. Please send a shorter story."
)
NOT_ADDED = "I can't add {name}: {reason}."
BUSY = "I can't do that right now: {reason}."
FAILED = (
    "Indexing {name} failed, so nothing was changed: the stories are as they were. "
    "Please try again later, or tell whoever runs the bot."
)
ASK_REPLACE = "Replace the story about {artist} ({story_id}, “{title}”) with {name}?"
ASK_REMOVE = (
    "Remove the story about {artist} ({story_id}, “{title}”)? "
    "Its file is kept aside, and `artistbot stories restore` brings it back."
)
CANCELLED = "Cancelled: the stories are as they were."
EXPIRED = "That question has expired, or it was asked of someone else. Please start again."
ADDED = "Added story {story_id}. Here is what I understood:"
REPLACED = "Replaced story {story_id} (the old version is kept aside). Here is what I understood:"
RESTORED = "Put back story {story_id} as it was."
UNDONE_ADD = "Undone: story {story_id} is removed again (its file is kept aside)."
NOTE = "Note: {note}."
SAMPLE = "Asked “{question}”, I answer from {citation}: “{sentence}”"
SAMPLE_NONE = "Asked “{question}”, I found nothing: the names may not have been read right."
ADDED_HINT = "Names wrong? /storynames {story_id} artist: …; band: …; aliases: …, … sets them."
STORIES_TOTAL = "{count} stories in all."
STORIES_TOTAL_ONE = "1 story in all."
REMOVED = "Removed story {story_id} ({artist}); its file is kept aside."
UNKNOWN_STORY = "No story is called “{name}”. /stories lists them."
AMBIGUOUS_STORY = "“{name}” names {count} stories: {ids}. Please give the id of one."
NOT_REMOVED = "I can't remove {name}: {reason}."
NOT_RESTORED = "I can't restore {name}: {reason}."
NOT_RENAMED = "I can't set the names of {name}: {reason}."
RENAMED = "Set the names of story {story_id}. Here is what I understood:"
NAMES_HOW = (
    "Write the story's id, then the names to set, e.g. /storynames aruzhan "
    "artist: Aruzhan Sadykova; band: Golden Domra; aliases: Aru, A. S."
)

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
    ActionKind.CONFIRM: ButtonLabel("Yes, do it"),
    ActionKind.CANCEL: ButtonLabel("Cancel"),
    ActionKind.UNDO: ButtonLabel("Undo"),
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
    return "\n".join([*story_names(story, language), gettext(language, ABOUT_FOLLOW_UP)])


def story_names(story: StoryInfo, language: str = "en") -> list[str]:
    """Who a story is about, one line each: artist, band, other names, title and size."""

    def say(text: str) -> str:
        return gettext(language, text)

    lines = [story.artist]
    if story.band:
        lines.append(say(ABOUT_BAND).format(band=story.band))
    others = [n for n in story.aliases if n not in (story.artist, story.band)]
    if others:
        lines.append(say(ABOUT_ALIASES).format(names=", ".join(others)))
    lines.append(say(ABOUT_STORY).format(title=story.title, passages=passages(story, language)))
    return lines


def passages(story: StoryInfo, language: str = "en") -> str:
    """ "1 passage", "5 passages"."""
    if story.passages == 1:
        return gettext(language, PASSAGES_ONE)
    return gettext(language, PASSAGES_MANY).format(count=story.passages)


def stories_list(stories: Sequence[tuple[StoryInfo, str]]) -> str:
    """What /stories says: each story's id, artist, band, title, size and when it changed."""
    if not stories:
        return NO_STORIES
    lines = [STORIES_ONE if len(stories) == 1 else STORIES_MANY.format(count=len(stories))]
    lines += [
        STORY_LINE.format(
            story_id=s.story_id,
            artist=s.artist,
            band=STORY_BAND.format(band=s.band) if s.band else "",
            title=s.title,
            passages=passages(s),
            changed=changed,
        )
        for s, changed in stories
    ]
    return "\n".join(lines)


def stories_total(count: int) -> str:
    """ "1 story in all.", "5 stories in all."."""
    return STORIES_TOTAL_ONE if count == 1 else STORIES_TOTAL.format(count=count)


def file_size(count: int) -> str:
    """Bytes as people say them: "3.1 MB", "850 KB"."""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{max(1, round(count / 1024))} KB"
