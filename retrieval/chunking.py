"""Cutting stories into passages.

Passages follow paragraph and sentence boundaries: consecutive paragraphs are
packed together up to the limit (evenly), and a paragraph over it is cut between
sentences (a sentence over it, between words). Passages hold at most ``max_words``
words and at most ``max_tokens`` model word pieces (the model would otherwise
silently truncate them), and keep character offsets back into the story and the
spans of their sentences, so that a reply can highlight the best sentence.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence

from retrieval.passages import Passage
from retrieval.results import Span
from retrieval.text import count_words, sentence_spans

CHUNKER_VERSION = 2
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")

TokenCounter = Callable[[str], int]


def split_passages(
    story_id: str,
    text: str,
    *,
    max_words: int,
    max_tokens: int | None = None,
    count_tokens: TokenCounter | None = None,
) -> list[Passage]:
    """Split a story's text into passages that respect paragraphs and sentences."""
    measure = _Measure(text, max_words, max_tokens, count_tokens)
    units: list[list[Span]] = []  # sentence spans in story coordinates
    whole: list[bool] = []  # the unit is a whole paragraph (may share a passage)
    for paragraph in _paragraphs(text):
        sentences = _bounded_sentences(text, paragraph, max_words, measure)
        groups = _pack(text, sentences, max_words, measure)
        units.extend(groups)
        whole.extend([len(groups) == 1] * len(groups))
    pieces = _join_paragraphs(text, units, whole, max_words, measure)
    passages = []
    for index, sentences in enumerate(pieces):
        start, end = sentences[0].start, sentences[-1].end
        passages.append(
            Passage(
                story_id=story_id,
                index=index,
                text=text[start:end],
                start=start,
                end=end,
                sentences=tuple(Span(s.start - start, s.end - start) for s in sentences),
            )
        )
    return passages


class _Measure:
    """Words and model word pieces of a story's pieces, each counted once, and of runs of them.

    A run of pieces that whitespace separates is counted from its pieces' counts: words are
    runs of non-space characters, and the model's tokenizer splits on whitespace before
    cutting words into pieces, so neither crosses a space. Joining pieces only saves the
    special tokens each piece was counted with. Any other run is counted from its text.
    A 5 MB story took 19 s to split when each run was tokenised again (session 6).
    """

    def __init__(
        self, text: str, max_words: int, max_tokens: int | None, count_tokens: TokenCounter | None
    ) -> None:
        self._text = text
        self._max_words = max_words
        self._max_tokens = max_tokens if count_tokens is not None else None
        self._count_tokens = count_tokens if max_tokens is not None else None
        self._special = self._count_tokens("") if self._count_tokens else 0
        self._known: dict[Span, tuple[int, int]] = {}

    def fits(self, span: Span) -> bool:
        """Whether one piece of the story fits in a passage."""
        return self._within(*self._counts(span))

    def fits_run(self, spans: Sequence[Span]) -> bool:
        """Whether consecutive pieces (each measured by :meth:`fits`) fit in one passage."""
        words, tokens = self._counts(spans[0])
        for before, span in itertools.pairwise(spans):
            if not _spaced(self._text[before.end : span.start]):
                return self.fits(Span(spans[0].start, spans[-1].end))
            more_words, more_tokens = self._counts(span)
            words += more_words
            tokens += more_tokens - self._special
        return self._within(words, tokens)

    def _within(self, words: int, tokens: int) -> bool:
        return words <= self._max_words and (self._max_tokens is None or tokens <= self._max_tokens)

    def _counts(self, span: Span) -> tuple[int, int]:
        known = self._known.get(span)
        if known is None:
            piece = span.of(self._text)
            tokens = self._count_tokens(piece) if self._count_tokens else 0
            known = self._known[span] = (count_words(piece), tokens)
        return known


def _spaced(gap: str) -> bool:
    """Whether ``gap`` separates words for a reader and for the tokenizer alike."""
    return bool(gap) and gap.isspace() and any(c in " \t\n\r" for c in gap)


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


def _join_paragraphs(
    text: str,
    units: list[list[Span]],
    whole: list[bool],
    max_words: int,
    measure: _Measure,
) -> list[list[Span]]:
    """Pack runs of consecutive whole paragraphs into passages of even size within the limits."""
    pieces: list[list[Span]] = []
    run: list[list[Span]] = []
    for unit, is_whole in zip(units, whole, strict=True):
        if is_whole:
            run.append(unit)
            continue
        pieces.extend(_pack_run(text, run, max_words, measure))
        run = []
        pieces.append(unit)
    pieces.extend(_pack_run(text, run, max_words, measure))
    return pieces


def _pack_run(
    text: str, run: list[list[Span]], max_words: int, measure: _Measure
) -> list[list[Span]]:
    if not run:
        return []
    return [
        [s for unit in group for s in unit] for group in _balanced(text, run, max_words, measure)
    ]


def _balanced(
    text: str, units: list[list[Span]], max_words: int, measure: _Measure
) -> list[list[list[Span]]]:
    """Group consecutive units into as few passages as fit, as evenly sized as possible."""
    sizes = [count_words(Span(u[0].start, u[-1].end).of(text)) for u in units]

    def greedy(limit: int) -> list[list[list[Span]]]:
        groups: list[list[list[Span]]] = []
        words = 0
        for unit, size in zip(units, sizes, strict=True):
            if groups:
                joined = [s for member in groups[-1] for s in member] + unit
                if words + size <= limit and measure.fits_run(joined):
                    groups[-1].append(unit)
                    words += size
                    continue
            groups.append([unit])
            words = size
        return groups

    fewest = len(greedy(max_words))
    low, high = min(max(sizes), max_words), max_words
    while low < high:  # the smallest limit that still needs no more passages
        middle = (low + high) // 2
        if len(greedy(middle)) <= fewest:
            high = middle
        else:
            low = middle + 1
    return greedy(low)


def _bounded_sentences(text: str, paragraph: Span, max_words: int, measure: _Measure) -> list[Span]:
    """Sentence spans of a paragraph; a sentence too long for a passage is cut at word gaps."""
    out: list[Span] = []
    for local in sentence_spans(paragraph.of(text)):
        span = Span(paragraph.start + local.start, paragraph.start + local.end)
        if measure.fits(span):
            out.append(span)
        else:
            out.extend(_split_words(text, span, max_words, measure))
    return out


def _split_words(text: str, span: Span, max_words: int, measure: _Measure) -> list[Span]:
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
        if all(measure.fits(p) for p in pieces) or size == 1:
            return pieces
        parts += 1


def _pack(text: str, sentences: list[Span], max_words: int, measure: _Measure) -> list[list[Span]]:
    """Group a paragraph's sentences into passages that each fit the limits."""
    if not sentences:
        return []
    groups = _balanced(text, [[s] for s in sentences], max_words, measure)
    return [[s for unit in group for s in unit] for group in groups]
