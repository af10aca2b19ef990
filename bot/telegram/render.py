"""Telegram HTML rendering of chat-layer replies: escaping, bold best sentence, splitting.

Pure functions. Everything that came from a user or the corpus is escaped; a
reply longer than Telegram's limit is split between passages (or, for a single
overlong passage, between sentences), never inside a tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from itertools import pairwise

from telegram.constants import MessageLimit

from bot.chat import PassageView, Reply

LIMIT: int = MessageLimit.MAX_TEXT_LENGTH
INLINE_DESCRIPTION = 120
# A citation or an answer's note longer than this (a story header can say anything) is cut.
CITATION_CHARS = 300
NOTE_CHARS = 600
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def escape(text: str) -> str:
    """``text`` escaped for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    # A lone surrogate (JSON can carry one) still counts as one unit instead of raising.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def render_reply(reply: Reply, *, limit: int = LIMIT) -> list[str]:
    """The reply as one or more HTML messages, each at most ``limit`` long."""
    if not reply.passages:
        # Plain text (help, lists, refusals): split between lines when it is too long.
        step = max(1, limit // 6)  # escaping grows text at most sixfold ("&quot;" is not used)
        lines = [
            escape(line[i : i + step])
            for line in reply.text.split("\n")
            for i in range(0, max(len(line), 1), step)
        ]
        return pack(lines, limit, separator="\n") if reply.text else []
    units = [f"<i>{escape(clip(reply.text, NOTE_CHARS))}</i>"] if reply.text else []
    for passage in reply.passages:
        block = passage_html(passage)
        if telegram_length(block) <= limit:
            units.append(block)
        else:
            units.extend(_split_passage(passage, limit))
    return pack(units, limit, separator="\n\n")


def passage_html(passage: PassageView) -> str:
    """A passage with its best sentence in bold and a citation line."""
    return _body(passage, passage.text, 0) + "\n" + citation_html(passage)


def citation_html(passage: PassageView) -> str:
    """The citation line: artist and story."""
    return f"— <i>{escape(clip(passage.citation, CITATION_CHARS))}</i>"


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def inline_description(passage: PassageView) -> str:
    """A short plain-text preview of a passage (its best sentence) for inline results."""
    sentence = passage.best_sentence.of(passage.text).strip() or passage.text.strip()
    if len(sentence) <= INLINE_DESCRIPTION:
        return sentence
    return sentence[: INLINE_DESCRIPTION - 1].rstrip() + "…"


def pack(units: Iterable[str], limit: int, *, separator: str) -> list[str]:
    """Join whole units into messages of at most ``limit`` (units must each fit)."""
    messages: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current}{separator}{unit}" if current else unit
        if current and telegram_length(candidate) > limit:
            messages.append(current)
            current = unit
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def _body(passage: PassageView, text: str, offset: int) -> str:
    """``text`` (starting at ``offset`` in the passage) escaped, the best sentence in bold."""
    span = passage.best_sentence
    start = min(max(span.start - offset, 0), len(text))
    end = min(max(span.end - offset, start), len(text))
    bold = text[start:end]
    parts = [escape(text[:start])]
    if bold.strip():
        parts.append(f"<b>{escape(bold)}</b>")
    else:
        parts.append(escape(bold))
    parts.append(escape(text[end:]))
    return "".join(parts)


def _split_passage(passage: PassageView, limit: int) -> list[str]:
    """An overlong passage as self-contained pieces, split between sentences or words."""
    pieces: list[str] = []
    for start, end in _ranges(passage, limit):
        pieces.append(_body(passage, passage.text[start:end], start))
    cite = citation_html(passage)
    if telegram_length(pieces[-1] + "\n" + cite) <= limit:
        pieces[-1] += "\n" + cite
    else:
        pieces.append(cite)
    return pack(pieces, limit, separator="")


def _ranges(passage: PassageView, limit: int) -> list[tuple[int, int]]:
    """Character ranges of the passage whose rendering each fits in ``limit``."""
    text = passage.text
    bounds = sorted(
        {
            0,
            len(text),
            passage.best_sentence.start,
            passage.best_sentence.end,
            *(m.end() for m in _SENTENCE_END.finditer(text)),
        }
    )
    ranges: list[tuple[int, int]] = []
    for start, end in pairwise(bounds):
        ranges.extend(_fit(passage, start, end, limit))
    return ranges


def _fit(passage: PassageView, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Split ``[start, end)`` at whitespace (or anywhere) until each part renders in ``limit``."""
    if end <= start:
        return []
    if telegram_length(_body(passage, passage.text[start:end], start)) <= limit or end - start == 1:
        return [(start, end)]
    middle = (start + end) // 2
    space = passage.text.rfind(" ", start + 1, middle + 1)
    cut = space if space > start else middle
    return _fit(passage, start, cut, limit) + _fit(passage, cut, end, limit)
