"""Passages: a story's pieces as they are indexed, and a table of them kept by columns."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from retrieval.results import Span
from retrieval.text import count_words


@dataclass(frozen=True, slots=True)
class Passage:
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


class PassageTable(Sequence[Passage]):
    """Passages kept by columns, each made a :class:`Passage` when read (``story_ids`` is
    the column a search reads most, without making one).

    Opening squad-scale made its 19,782 passages and 89,108 sentence spans up front, 0.2 s
    of a cold start; a search reads a few dozen of them. Nor are the passages read kept:
    made after the snapshot was frozen (see :mod:`retrieval.live`), they were objects for
    the garbage collector to walk, up to 130,000 of them, and a full collection stalled
    every thread, the event loop's too, for up to 145 ms (docs/BENCHMARKS.md, session 14).
    """

    def __init__(
        self,
        story_ids: list[str],
        indexes: list[int],
        texts: list[str],
        bounds: tuple[list[int], list[int]],
        sentences: Sequence[int],
        spans: list[int],
    ) -> None:
        """``bounds``: the passages' starts and ends in their stories; ``sentences``: how
        many sentences each has; ``spans``: their start and end, flat, passage after passage."""
        self.story_ids = story_ids
        self.sentence_offsets = np.cumsum([0, *sentences]).astype(np.int64)
        if not len(story_ids) == len(indexes) == len(texts) == len(bounds[0]) == len(bounds[1]):
            raise ValueError("passage columns of different lengths")
        if 2 * int(self.sentence_offsets[-1]) != len(spans):
            raise ValueError("sentence spans of another number than the sentences")
        self._indexes, self._texts, self._bounds = indexes, texts, bounds
        self._sentences = list(sentences)
        self._offsets = self.sentence_offsets.tolist()
        self._spans = spans
        self._rows: dict[str, list[int]] | None = None  # rows_by_story, made once

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, index: int) -> Passage: ...

    @overload
    def __getitem__(self, index: slice) -> list[Passage]: ...

    def __getitem__(self, index: int | slice) -> Passage | list[Passage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        row = range(len(self._texts))[index]  # a negative index counts from the end
        spans, (starts, ends) = self._spans, self._bounds
        first, last = 2 * self._offsets[row], 2 * self._offsets[row + 1]
        return Passage(
            self.story_ids[row],
            self._indexes[row],
            self._texts[row],
            starts[row],
            ends[row],
            tuple(Span(spans[i], spans[i + 1]) for i in range(first, last, 2)),
        )

    def __iter__(self) -> Iterator[Passage]:
        return (self[i] for i in range(len(self._texts)))

    def columns(self, begin: int = 0, end: int | None = None) -> dict[str, list[Any]]:
        """The columns of passages ``begin:end`` (all by default), as the constructor takes
        them: story_id, index, text, start, end, sentences, spans."""
        end = len(self) if end is None else end
        first, last = 2 * self._offsets[begin], 2 * self._offsets[end]
        return {
            "story_id": self.story_ids[begin:end],
            "index": self._indexes[begin:end],
            "text": self._texts[begin:end],
            "start": self._bounds[0][begin:end],
            "end": self._bounds[1][begin:end],
            "sentences": self._sentences[begin:end],
            "spans": self._spans[first:last],
        }

    @classmethod
    def of_columns(cls, columns: dict[str, list[Any]]) -> PassageTable:
        """The table of ``columns`` (as :meth:`columns` gives them)."""
        return cls(
            columns["story_id"],
            columns["index"],
            columns["text"],
            (columns["start"], columns["end"]),
            columns["sentences"],
            columns["spans"],
        )


def columns_of(passages: Sequence[Passage]) -> dict[str, list[Any]]:
    """The columns of ``passages`` (see :meth:`PassageTable.columns`)."""
    if isinstance(passages, PassageTable):
        return passages.columns()
    return {
        "story_id": [p.story_id for p in passages],
        "index": [p.index for p in passages],
        "text": [p.text for p in passages],
        "start": [p.start for p in passages],
        "end": [p.end for p in passages],
        "sentences": [len(p.sentences) for p in passages],
        "spans": [x for p in passages for s in p.sentences for x in (s.start, s.end)],
    }


def join(parts: Iterable[tuple[Sequence[Passage], Sequence[int]]]) -> PassageTable:
    """The passages ``rows`` of each source in ``parts``, one after the other, as a table.

    Rows read together from a table are copied by columns, without making the passages
    (an update of squad-scale made all 19,782 again, 0.4 s).
    """
    joined: dict[str, list[Any]] = {key: [] for key in _COLUMNS}
    for source, rows in parts:
        if not rows:
            continue
        together = rows[-1] - rows[0] + 1 == len(rows)
        if isinstance(source, PassageTable) and together:
            part = source.columns(rows[0], rows[-1] + 1)
        else:
            part = columns_of([source[i] for i in rows])
        for key in _COLUMNS:
            joined[key].extend(part[key])
    return PassageTable.of_columns(joined)


_COLUMNS = ("story_id", "index", "text", "start", "end", "sentences", "spans")


def rows_by_story(passages: Sequence[Passage]) -> dict[str, list[int]]:
    """The positions of each story's passages in ``passages``, in order (do not change it:
    a table's is made once and shared, as an update asks for it four times)."""
    if isinstance(passages, PassageTable):
        if passages._rows is None:  # without making the passages
            passages._rows = _rows_of(passages.story_ids)
        return passages._rows
    return _rows_of(p.story_id for p in passages)


def _rows_of(story_ids: Iterable[str]) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for row, story_id in enumerate(story_ids):
        rows.setdefault(story_id, []).append(row)
    return rows


def sentence_offsets(passages: Sequence[Passage]) -> np.ndarray:
    """Where each passage's sentences start in a list of all their sentences, then the end."""
    if isinstance(passages, PassageTable):
        return passages.sentence_offsets
    return np.cumsum([0] + [len(p.sentences) for p in passages]).astype(np.int64)
