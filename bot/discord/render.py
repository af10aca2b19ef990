"""Discord rendering: a neutral :class:`~bot.chat.Reply` in, message payloads out.

Pure functions, no I/O. Every piece of story or user text is escaped
(every markdown character; a zero-width space after every ``@``)
and every Discord limit holds: long passages are split at paragraph, sentence
or word boundaries (never inside the bold markup), each part keeps the citation
in its footer, and embeds are packed into as few messages as the per-message
limits allow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import discord

from bot.chat import PassageView, Reply, ReplyKind
from bot.chat.texts import BLANK, CONTINUED, QUESTION_HEADER

# Discord's limits (https://discord.com/developers/docs/resources/message).
CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000  # title + description + fields + footer + author, summed over a message
EMBEDS_PER_MESSAGE = 10
FIELDS_PER_EMBED = 25

# A question echoed above an answer is cut to this many (escaped) characters.
QUESTION_HEADER_LIMIT = 300

COLOURS = {
    ReplyKind.ANSWER: discord.Colour.blurple(),
    ReplyKind.NO_ANSWER: discord.Colour.light_grey(),
    ReplyKind.INFO: discord.Colour.teal(),
    ReplyKind.REFUSED: discord.Colour.orange(),
}

_ELLIPSIS = "…"
# A sentence with its trailing whitespace, or a run of newlines (paragraph breaks).
_CLOSERS = "\"')]\u201d\u2019"  # closing quotes and brackets after a sentence's end
_SENTENCE = re.compile(rf"[^\n]*?(?:[.!?…]+[{re.escape(_CLOSERS)}]*(?:\s+|$)|\n+|$)", re.S)
_WORD = re.compile(r"\S+\s*|\s+")
# Markdown characters escaped everywhere, and markup that counts only at a line's start.
_MARKDOWN_CHARS = re.compile(r"([\\*_`~|<\[\]])")
# Any whitespace but a newline counts as indentation: control characters such as U+001F
# are whitespace to str.strip, which takes them off a part's edges after escaping.
_LINE_MARKUP = re.compile(r"^(?P<indent>[^\S\n]*)(?P<mark>>|#|-|\d+\.)", re.M)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Discord message to send: plain content and/or embeds (buttons go on the last)."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()


def escape(text: str) -> str:
    """``text`` with Discord markdown and mentions (@everyone, @here, users, roles) neutralised.

    Every markdown character is escaped wherever it is, not only when a partner follows
    (as :func:`discord.utils.escape_markdown` does): a reply is built from separately
    escaped pieces, and a lone ``*`` in one piece would pair with one in the next. ``[``
    (masked links) and ``<`` (mentions of any id, channels, custom emoji, timestamps,
    commands) are escaped too, and so are quotes, headings and lists at a line's start.
    """
    escaped = _MARKDOWN_CHARS.sub(r"\\\1", text)
    escaped = _LINE_MARKUP.sub(_escape_line_start, escaped)
    # Every "@" gets a zero-width space, not only complete mentions: a long word is cut
    # into separately escaped pieces, and "@every" + "one" would join into a live one.
    return escaped.replace("@", "@\u200b")


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark = match["indent"], match["mark"]
    if mark[0].isdigit():
        return f"{indent}{mark[:-1]}\\."  # "1." -> "1\." (no ordered list)
    return f"{indent}\\{mark}"


def render(reply: Reply) -> list[Outgoing]:
    """The messages that show ``reply`` on Discord, each within every limit."""
    if reply.passages:
        return render_answer(reply)
    text = reply.text if reply.text.strip() else BLANK
    return [Outgoing(content=part) for part in split_text(text, CONTENT_LIMIT)]


def render_answer(reply: Reply) -> list[Outgoing]:
    """Passages as embeds (artist as title, best sentence in bold, citation in the footer)."""
    colour = COLOURS.get(reply.kind, discord.Colour.blurple())
    embeds = [e for p in reply.passages for e in passage_embeds(p, colour=colour)]
    header = _header(reply)
    messages = [Outgoing(embeds=tuple(group)) for group in pack_embeds(embeds)]
    if header and messages:
        messages[0] = Outgoing(content=header, embeds=messages[0].embeds)
    return messages


def passage_embeds(
    passage: PassageView, *, colour: discord.Colour | None = None
) -> list[discord.Embed]:
    """One passage as one embed, or several when it is longer than an embed description."""
    title = truncate(escape(passage.artist), TITLE_LIMIT - len(CONTINUED))
    footer = truncate(passage.citation, FOOTER_LIMIT)  # footers do not render markdown
    budget = min(DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - len(title + CONTINUED + footer))
    descriptions = pack(_passage_units(passage, budget), budget)
    embeds = []
    for number, description in enumerate(descriptions):
        embed = discord.Embed(
            title=title if number == 0 else title + CONTINUED,
            description=description,
            colour=colour,
        )
        embed.set_footer(text=footer)
        embeds.append(embed)
    return embeds


def pack_embeds(embeds: Iterable[discord.Embed]) -> Iterator[list[discord.Embed]]:
    """Group embeds into messages of at most 10 embeds and 6,000 characters."""
    group: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        length = len(embed)
        if group and (len(group) == EMBEDS_PER_MESSAGE or size + length > EMBED_TOTAL_LIMIT):
            yield group
            group, size = [], 0
        group.append(embed)
        size += length
    if group:
        yield group


def split_text(text: str, limit: int) -> list[str]:
    """Escaped ``text`` in parts of at most ``limit`` characters, split at natural boundaries."""
    return pack((escape(unit) for unit in split_raw(text, limit)), limit)


def split_raw(text: str, limit: int) -> list[str]:
    """Cut raw ``text`` into units whose *escaped* form fits in ``limit`` characters.

    Units are sentences (or paragraph breaks); a sentence too long is cut at
    words, and a word too long at characters. Joined, the units give back ``text``.
    """
    units: list[str] = []
    for sentence in _SENTENCE.findall(text):
        if not sentence:
            continue
        if len(escape(sentence)) <= limit:
            units.append(sentence)
            continue
        for word in _WORD.findall(sentence):
            if len(escape(word)) <= limit:
                units.append(word)
            else:
                units.extend(_hard_split(word, limit))
    return units


def pack(units: Iterable[str], limit: int) -> list[str]:
    """Concatenate rendered units greedily into parts of at most ``limit`` characters."""
    parts: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + len(unit) > limit:
            parts.append(current)
            current = ""
        current += unit
    if current.strip():
        parts.append(current)
    return [part.strip() or part for part in parts] or [""]


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with an ellipsis when cut.

    Never cuts an escape sequence in half: a trailing lone backslash is dropped.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - len(_ELLIPSIS)]
    if " " in cut[len(cut) // 2 :]:
        cut = cut[: cut.rindex(" ")]
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut.rstrip() + _ELLIPSIS


def _header(reply: Reply) -> str:
    if reply.text.strip():
        return split_text(reply.text, CONTENT_LIMIT)[0]
    if reply.question:
        return QUESTION_HEADER.format(
            question=truncate(escape(reply.question), QUESTION_HEADER_LIMIT)
        )
    return ""


def _passage_units(passage: PassageView, limit: int) -> list[str]:
    """The passage as rendered units: escaped text, with the best sentence in bold."""
    text, span = passage.text, passage.best_sentence
    start, end = max(0, min(span.start, len(text))), max(0, min(span.end, len(text)))
    units = [escape(u) for u in split_raw(text[:start], limit)]
    sentence = text[start:end]
    stripped = sentence.strip()
    if stripped:
        lead = sentence[: len(sentence) - len(sentence.lstrip())]
        trail = sentence[len(sentence.rstrip()) :]
        if lead:
            units.append(lead)
        units.extend(
            f"**{escape(u.strip())}**{_space(u)}"
            for u in split_raw(stripped, limit - 4)
            if u.strip()
        )
        if trail:
            units.append(trail)
    elif sentence:
        units.append(sentence)
    units.extend(escape(u) for u in split_raw(text[end:], limit))
    return units


def _space(unit: str) -> str:
    return unit[len(unit.rstrip()) :]


def _hard_split(word: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and len(escape(current + char)) > limit:
            pieces.append(current)
            current = ""
        current += char
    if current:
        pieces.append(current)
    return pieces
