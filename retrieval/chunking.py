"""Cutting stories into passages.

Passages follow paragraph and sentence boundaries, hold at most ``max_words``
words and at most ``max_tokens`` model word pieces (the model would otherwise
silently truncate them), and keep character offsets back into the story and the
spans of their sentences, so that a reply can highlight the best sentence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from retrieval.results import Span
from retrieval.text import count_words, sentence_spans

CHUNKER_VERSION = 1
# Paragraphs shorter than this are joined to the next one (headings, one-liners).
MIN_PARAGRAPH_WORDS = 12
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")

TokenCounter = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a story, with offsets into the story's text."""

    story_id: str
    index: int
    text: str
    start: int
    end: int
    sentences: tuple[Span, ...]

    @property
    def words(self) -> int:
        """Number of words in the passage."""
        return count_words(self.text)


def chunk_text(
    story_id: str,
    text: str,
    *,
    max_words: int,
    max_tokens: int | None = None,
    count_tokens: TokenCounter | None = None,
) -> list[Chunk]:
    """Split a story's text into passages that respect paragraphs and sentences."""
    fits = _fitter(max_words, max_tokens, count_tokens)
    pieces: list[list[Span]] = []  # each piece: sentence spans in story coordinates
    for paragraph in _merge_short(_paragraphs(text), text, fits):
        sentences = _bounded_sentences(text, paragraph, max_words, fits)
        pieces.extend(_pack(text, sentences, max_words, fits))
    chunks = []
    for index, sentences in enumerate(pieces):
        start, end = sentences[0].start, sentences[-1].end
        chunks.append(
            Chunk(
                story_id=story_id,
                index=index,
                text=text[start:end],
                start=start,
                end=end,
                sentences=tuple(Span(s.start - start, s.end - start) for s in sentences),
            )
        )
    return chunks


def _fitter(
    max_words: int, max_tokens: int | None, count_tokens: TokenCounter | None
) -> Callable[[str], bool]:
    def fits(piece: str) -> bool:
        if count_words(piece) > max_words:
            return False
        return max_tokens is None or count_tokens is None or count_tokens(piece) <= max_tokens

    return fits


def _paragraphs(text: str) -> list[Span]:
    spans, start = [], 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans.append(Span(start, match.start()))
        start = match.end()
    spans.append(Span(start, len(text)))
    out = []
    for span in spans:
        piece = span.of(text)
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append(Span(span.start + lead, span.start + lead + len(piece.strip())))
    return out


def _merge_short(paragraphs: list[Span], text: str, fits: Callable[[str], bool]) -> list[Span]:
    merged: list[Span] = []
    pending: Span | None = None
    for span in paragraphs:
        if pending is not None:
            joined = Span(pending.start, span.end)
            span = joined if fits(joined.of(text)) else span
            if span is not joined:
                merged.append(pending)
            pending = None
        if count_words(span.of(text)) < MIN_PARAGRAPH_WORDS:
            pending = span
        else:
            merged.append(span)
    if pending is not None:
        merged.append(pending)
    return merged


def _bounded_sentences(
    text: str, paragraph: Span, max_words: int, fits: Callable[[str], bool]
) -> list[Span]:
    """Sentence spans of a paragraph; a sentence too long for a passage is cut at word gaps."""
    out: list[Span] = []
    for local in sentence_spans(paragraph.of(text)):
        span = Span(paragraph.start + local.start, paragraph.start + local.end)
        if fits(span.of(text)):
            out.append(span)
        else:
            out.extend(_split_words(text, span, max_words, fits))
    return out


def _split_words(text: str, span: Span, max_words: int, fits: Callable[[str], bool]) -> list[Span]:
    gaps = [m.end() + span.start for m in re.finditer(r"\S+", span.of(text))]
    starts = [span.start] + [
        m.start() + span.start for m in re.finditer(r"(?<=\s)\S", span.of(text))
    ]
    parts = max(2, math.ceil(len(gaps) / max_words))
    while True:
        size = math.ceil(len(gaps) / parts)
        pieces = [
            Span(starts[i], gaps[min(i + size, len(gaps)) - 1]) for i in range(0, len(gaps), size)
        ]
        if all(fits(p.of(text)) for p in pieces) or size == 1:
            return pieces
        parts += 1


def _pack(
    text: str, sentences: list[Span], max_words: int, fits: Callable[[str], bool]
) -> list[list[Span]]:
    """Group consecutive sentences into passages of even size that each fit the limits."""
    if not sentences:
        return []
    whole = Span(sentences[0].start, sentences[-1].end).of(text)
    if fits(whole):
        return [sentences]
    parts = math.ceil(count_words(whole) / max_words)
    while True:
        target = count_words(whole) / parts
        groups: list[list[Span]] = [[]]
        for sentence in sentences:
            group = groups[-1]
            candidate = Span(group[0].start, sentence.end).of(text) if group else ""
            if group and (not fits(candidate) or count_words(candidate) > target * 1.15):
                groups.append([sentence])
            else:
                group.append(sentence)
        if len(groups) <= parts or parts >= len(sentences):
            return groups
        parts += 1
