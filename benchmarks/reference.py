"""The reference line of a build: the model's own rate on whole passages, in the same run.

This VM's speed drifts by 10-20% within minutes, so a reference measured once, after a
build of several minutes, is taken at another moment than the build it is compared with
(session 11: 91 passages/s after a build that embedded at 79/s, with sentences as fast as
whole passages when both were timed side by side). :class:`Interleaved` times whole
passages in slices spread over the build instead: each slice runs between two of the
build's batches, on the build's own encoder, and its time is left out of the build's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from retrieval.corpus import iter_story_paths, load_story
from retrieval.embedding import Encoder
from retrieval.indexing import build_spec, split_story
from retrieval.settings import RetrievalSettings

# Whole passages the reference embeds, and in how many slices over the build.
PASSAGES = 1000
SLICES = 5


def sample_passages(
    settings: RetrievalSettings, encoder: Encoder, count: int = PASSAGES
) -> list[str]:
    """About ``count`` passages from stories spread over the corpus, split as a build does."""
    paths = list(iter_story_paths(settings.corpus_dir))
    spec = build_spec(settings, encoder)
    texts: list[str] = []
    for step in _spread(len(paths)):
        story = load_story(paths[step])
        if story is None:
            continue
        texts.extend(p.text for p in split_story(story, spec, encoder))
        if len(texts) >= 2 * count:
            break
    if len(texts) <= count:
        return texts
    return [texts[round(i * (len(texts) - 1) / (count - 1))] for i in range(count)]


def _spread(size: int) -> list[int]:
    """0..size-1 in an order that covers the whole range early: halves, quarters, ..."""
    order: list[int] = []
    seen: set[int] = set()
    parts = 1
    while len(order) < size:
        for i in range(parts + 1):
            index = min(size - 1, round(i * (size - 1) / parts)) if size > 1 else 0
            if index not in seen:
                seen.add(index)
                order.append(index)
        parts *= 2
    return order


class Interleaved:
    """Times whole passages in :data:`SLICES` slices, one at each fifth of a build."""

    def __init__(self, encoder: Encoder, texts: Sequence[str], batch_size: int) -> None:
        self._encoder = encoder
        self._batch_size = batch_size
        size = -(-len(texts) // SLICES) if texts else 0
        self._slices = [texts[i : i + size] for i in range(0, len(texts), size)] if size else []
        self._next = 0
        self.spent = 0.0  # on the reference so far, warm-ups too (left out of the build's time)
        self.seconds = 0.0  # timing the passages counted in ``passages``
        self.passages = 0

    def during(self, done: int, total: int) -> None:
        """Called with the build's progress: runs the slice due at this point, if any."""
        if done <= 0 or total <= 0 or self._next >= len(self._slices):
            return  # the first batch opens the model: slices start after it
        due = (self._next + 0.5) / len(self._slices)
        if done / total >= due:
            self._run()

    def finish(self) -> None:
        """Runs the slices the build did not reach (a corpus of few batches)."""
        while self._next < len(self._slices):
            self._run()

    @property
    def rate(self) -> float:
        """Whole passages a second over all slices (0 before any ran)."""
        return self.passages / self.seconds if self.seconds else 0.0

    def _run(self) -> None:
        texts = self._slices[self._next]
        self._next += 1
        # One batch first, untimed: right after the build's sentence batches, whole passages
        # ran 3-5% slower for a moment (ONNX Runtime re-sizing its buffers for the new shapes).
        warm, timed = texts[: self._batch_size], texts[self._batch_size :] or texts
        started = time.perf_counter()
        self._encoder.encode(warm, batch_size=self._batch_size)
        warmed = time.perf_counter()
        self._encoder.encode(timed, batch_size=self._batch_size)
        ended = time.perf_counter()
        self.spent += ended - started
        self.seconds += ended - warmed
        self.passages += len(timed)
