"""Embedding new passages for the index: their sentences' vectors and their own.

:func:`embed_pooled` (the default, ``passage_vectors = "pooled"``) embeds each sentence
on its own and makes a passage's vector the mean of its sentences', weighted by their
words: one pass of the model over the text. :func:`embed_whole` (``"whole"``) embeds the
passage whole as well, a second pass over the same words. Both count progress in passages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from retrieval.embedding import Encoder, normalise
from retrieval.passages import Passage
from retrieval.text import count_words
from retrieval.vectors import empty_rows

Progress = Callable[[int, int], None]
# Texts handed to the encoder at once: it orders them by length before batching, so a
# longer run pads less (sentences of squad-scale: 4.5% padding at 256, 2.3% at 512), and
# progress is still reported every two seconds or so.
MIN_STEP = 512


def embed_pooled(
    passages: Sequence[Passage],
    encoder: Encoder,
    batch_size: int,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of ``passages`` and of their sentences; ``progress`` counts passages.

    A passage's vector is the mean of its sentences' vectors weighted by their words, as
    the model's own pooling weighs every word piece of a text alike. Measured against
    :func:`embed_whole` on the four eval sets, it ranks as well within noise, and a full
    squad-scale build ran at 0.95 of the model's passage-only rate instead of about 0.45
    on session 7's Xeon; on the EPYC of sessions 10-11, 0.82-0.86 against the reference
    timed during the build (docs/BENCHMARKS.md).
    """
    # Filled in place, in ordinary pages: stacking squad-scale's pieces at the end took
    # 1.5 s, most of it the kernel finding huge pages (see retrieval.vectors.empty_rows).
    passage_out = empty_rows(len(passages), encoder.dimension)
    sentence_out = empty_rows(sum(len(p.sentences) for p in passages), encoder.dimension)
    begin = first_sentence = 0
    for end, group in _groups(passages, batch_size, lambda p: max(1, len(p.sentences))):
        pieces = [[s.of(p.text) for s in p.sentences] or [p.text] for p in group]
        vectors = encoder.encode([t for texts in pieces for t in texts], batch_size=batch_size)
        weights = np.zeros((len(group), len(vectors)), dtype=np.float32)
        at = 0
        for row, texts in enumerate(pieces):
            weights[row, at : at + len(texts)] = [max(1, count_words(t)) for t in texts]
            at += len(texts)
        passage_out[begin:end] = normalise(weights @ vectors)
        owned = np.repeat([bool(p.sentences) for p in group], [len(t) for t in pieces])
        sentences = vectors[owned]
        sentence_out[first_sentence : first_sentence + len(sentences)] = sentences
        begin, first_sentence = end, first_sentence + len(sentences)
        if progress is not None:
            progress(end, len(passages))
    return passage_out, sentence_out


def embed_whole(
    passages: Sequence[Passage],
    encoder: Encoder,
    batch_size: int,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of ``passages``, each embedded whole, and of their sentences, each alone."""
    passage_rows, sentence_rows = [_empty(encoder)], [_empty(encoder)]
    for end, group in _groups(passages, batch_size, lambda p: 1 + len(p.sentences)):
        vectors = encoder.encode(
            [p.text for p in group] + [s.of(p.text) for p in group for s in p.sentences],
            batch_size=batch_size,
        )
        passage_rows.append(vectors[: len(group)])
        sentence_rows.append(vectors[len(group) :])
        if progress is not None:
            progress(end, len(passages))
    return np.vstack(passage_rows), np.vstack(sentence_rows)


def _groups(
    passages: Sequence[Passage], batch_size: int, texts: Callable[[Passage], int]
) -> Iterator[tuple[int, Sequence[Passage]]]:
    """Runs of whole passages of about one encoder call's worth of texts each, with where
    each run ends."""
    step = max(batch_size * 8, MIN_STEP)
    begin = 0
    while begin < len(passages):
        end, count = begin, 0
        while end < len(passages) and (end == begin or count < step):
            count += texts(passages[end])
            end += 1
        yield end, passages[begin:end]
        begin = end


def _empty(encoder: Encoder) -> np.ndarray:
    return np.empty((0, encoder.dimension), dtype=np.float32)
