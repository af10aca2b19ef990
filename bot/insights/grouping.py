"""Unanswered questions grouped by meaning, with the model the bot already loads.

Questions are embedded by the retriever's encoder (normalised, so a dot product is
the cosine) and joined by average-linkage clustering: two groups merge while their
questions are, on average, at least :data:`GROUP_SIMILARITY` alike. Average linkage
keeps a chain of loosely related questions ("albums" → "tour" → "tickets") from
collapsing into one group, which single linkage would do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Cosine at which two questions count as asking the same thing: "more alike than not".
# With MiniLM, paraphrases ("her albums?" / "what records did she put out") score 0.6-0.8
# and unrelated questions about one artist 0.0-0.4.
GROUP_SIMILARITY = 0.5
EXAMPLES = 3  # questions shown per group


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Questions that ask the same thing: how many times, and the most asked wordings."""

    count: int
    examples: tuple[str, ...]


def group_questions(
    questions: Sequence[str], vectors: np.ndarray, *, similarity: float = GROUP_SIMILARITY
) -> list[QuestionGroup]:
    """Group ``questions`` (one normalised vector per row of ``vectors``), biggest first.

    Identical wordings (ignoring case and surrounding space) count together.
    """
    if len(questions) != len(vectors):
        raise ValueError("one vector per question is needed")
    if not questions:
        return []
    keys = [" ".join(q.casefold().split()) for q in questions]
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    counts = Counter(keys)
    unique = list(first)
    labels = _cluster(vectors[[first[k] for k in unique]], similarity)
    members: dict[int, list[str]] = {}
    for key, label in zip(unique, labels, strict=True):
        members.setdefault(int(label), []).append(key)
    groups = []
    for keys_in_group in members.values():
        keys_in_group.sort(key=lambda k: (-counts[k], k))
        examples = tuple(questions[first[k]] for k in keys_in_group[:EXAMPLES])
        groups.append(QuestionGroup(sum(counts[k] for k in keys_in_group), examples))
    groups.sort(key=lambda g: (-g.count, g.examples[0].casefold()))
    return groups


def _cluster(vectors: np.ndarray, similarity: float) -> np.ndarray:
    """A group label per row (average linkage, cosine distance cut at 1 - similarity)."""
    if len(vectors) == 1:
        return np.zeros(1, dtype=int)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(np.asarray(vectors, dtype=np.float64), method="average", metric="cosine")
    labels: np.ndarray = fcluster(tree, t=1.0 - similarity, criterion="distance")
    return labels
