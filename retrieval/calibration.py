"""Calibrating "no answer" against questions the corpus cannot answer.

How well the best passage matches an unrelated question depends on the corpus:
the best of six passages scores lower than the best of four hundred. So instead
of one fixed threshold, each index is calibrated: a fixed set of general
questions (``data/background_questions.jsonl``, SQuAD questions about unrelated
Wikipedia articles) is run against it, and an answer must beat the score that
all but ``1 - quantile`` of those unrelated questions reach.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from importlib import resources

import numpy as np

BACKGROUND_FILE = "background_questions.jsonl"


@cache
def background_questions() -> tuple[str, ...]:
    """The shipped general questions used as the null distribution."""
    text = resources.files("retrieval.data").joinpath(BACKGROUND_FILE).read_text("utf-8")
    return tuple(json.loads(line)["question"] for line in text.splitlines() if line.strip())


def background_digest() -> str:
    """A short hash of the background questions, part of the calibration's key."""
    return hashlib.sha256("\n".join(background_questions()).encode()).hexdigest()[:12]


# The bar never rises above this: 99% of answerable questions about held-out SQuAD
# articles (not the evaluation slice) reach it. Without the cap, a corpus whose topics
# overlap the background questions (a Wikipedia corpus) would refuse real questions.
MAX_THRESHOLD = 0.39


def null_threshold(
    top_scores: Callable[[list[str], np.ndarray], np.ndarray],
    encode: Callable[[list[str]], np.ndarray],
    quantile: float,
) -> float:
    """The ``quantile`` of the best dense score that background questions reach.

    ``encode`` embeds questions; ``top_scores`` maps questions and their vectors to each
    one's best score, or NaN for a question the corpus answers after all (leaving it out).
    """
    questions = list(background_questions())
    scores = top_scores(questions, encode(questions))
    unrelated = scores[~np.isnan(scores)]
    if len(unrelated) == 0:
        return MAX_THRESHOLD
    return min(MAX_THRESHOLD, float(np.quantile(unrelated, quantile)))
