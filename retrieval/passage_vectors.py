"""Embedding new passages for the index: each passage with its sentences, as a user sees progress.

:func:`embed_separate` (the default) embeds every sentence on its own beside its passage;
:func:`embed_late` pools sentence vectors from the passage's own pass
(``sentence_vectors = "late"``). Both count progress in passages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from retrieval.embedding import Encoder, PartEncoder
from retrieval.passages import Passage

Progress = Callable[[int, int], None]


def embed_separate(
    passages: Sequence[Passage],
    encoder: Encoder,
    batch_size: int,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of ``passages`` and of their sentences; ``progress`` counts passages.

    Each passage is embedded with its sentences, in steps of whole passages, so that the
    progress a user sees counts passages (the unit ``artistbot index`` reports).
    """
    empty = np.empty((0, encoder.dimension), dtype=np.float32)
    passage_parts, sentence_parts = [empty], [empty]
    step = max(batch_size * 8, 256)  # texts per encoder call: long enough to batch well
    begin = 0
    while begin < len(passages):
        end, texts = begin, 0
        while end < len(passages) and (end == begin or texts < step):
            texts += 1 + len(passages[end].sentences)
            end += 1
        group = passages[begin:end]
        vectors = encoder.encode(
            [p.text for p in group] + [s.of(p.text) for p in group for s in p.sentences],
            batch_size=batch_size,
        )
        passage_parts.append(vectors[: len(group)])
        sentence_parts.append(vectors[len(group) :])
        begin = end
        if progress is not None:
            progress(end, len(passages))
    return np.vstack(passage_parts), np.vstack(sentence_parts)


def embed_late(
    passages: Sequence[Passage],
    encoder: Encoder,
    batch_size: int,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of ``passages`` and of their sentences; ``progress`` counts passages.

    A sentence's vector is pooled from the token vectors of its passage's own forward
    pass (:meth:`~retrieval.embedding.PartEncoder.encode_parts`, "late chunking"): on
    squad-scale the 89,108 sentences embedded on their own cost more than the 19,782
    passages. Measured against :func:`embed_separate`, it ranks worse (hit@1 down about two
    points on the SQuAD sets), so it is the ``sentence_vectors = "late"`` option only.
    """
    if not isinstance(encoder, PartEncoder):
        raise ValueError(f"sentence_vectors = 'late' needs token vectors; {encoder.name} has none")
    empty = np.empty((0, encoder.dimension), dtype=np.float32)
    passage_parts, sentence_parts = [empty], [empty]
    step = max(batch_size * 4, 128)  # passages per encoder call: long enough to batch well
    for begin in range(0, len(passages), step):
        group = passages[begin : begin + step]
        parts = [[((s.start, s.end),) for s in p.sentences] for p in group]
        pooled = encoder.encode_parts([p.text for p in group], parts, batch_size=batch_size)
        passage_parts.append(np.vstack([rows[:1] for rows in pooled]))
        sentence_parts.append(np.vstack([empty] + [rows[1:] for rows in pooled]))
        if progress is not None:
            progress(begin + len(group), len(passages))
    return np.vstack(passage_parts), np.vstack(sentence_parts)
