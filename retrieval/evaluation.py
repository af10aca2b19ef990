"""The evaluation contract: hit@k, MRR, best sentences, rejection rates and latency."""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.languages import detect
from retrieval.results import Hit
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings
from retrieval.text import clean, count_words

MRR_DEPTH = 10


@dataclass(frozen=True, slots=True)
class Question:
    """One evaluation question; no answers means it should get "no answer".

    ``sentence`` is the story's sentence that holds the answer, when the set labels it;
    without it, the sentence holding the answer is one containing an answer string.
    """

    id: str
    question: str
    answers: tuple[str, ...]
    sentence: str | None = None
    language: str | None = None  # "en", "ru", "kk"; detected from the script when absent


def read_questions(path: Path) -> list[Question]:
    """Read a JSONL question file (``id``, ``question``, ``answers``; ``sentence``, ``language``).

    Other keys are ignored.
    """
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            sentence = raw.get("sentence")
            questions.append(
                Question(
                    str(raw["id"]),
                    clean(str(raw["question"])),
                    tuple(map(str, raw["answers"])),
                    str(sentence) if sentence else None,
                    str(raw["language"]) if raw.get("language") else None,
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a question record ({exc})") from exc
    return questions


def evaluate(
    settings: RetrievalSettings,
    questions: Iterable[Question],
    *,
    k: int = 5,
    retriever: Retriever | None = None,
) -> dict[str, Any]:
    """Index ``settings.corpus_dir`` in a temporary directory and score ``questions``.

    The default index is never touched. Returns the eval JSON object: the figures of the
    whole set, and under ``languages`` the same figures for each question language.
    """
    questions = list(questions)
    english_only = all(detect(q.question) == "en" for q in questions)
    if english_only:
        # English only: the multilingual vectors would only cost time (and skew latency).
        settings = settings.model_copy(update={"multilingual": "off"})
    with tempfile.TemporaryDirectory(prefix="artistbot-eval-") as tmp:
        if retriever is None:
            retriever = Retriever.open(settings, index_dir=Path(tmp) / "index")
        # Non-English questions are measured on the multilingual path, once it is built
        # (English ones never wait for it: a retriever handed in may still be building it).
        if not english_only:
            retriever.index.wait_multilingual()
        depth = max(k, MRR_DEPTH)
        for q in questions[:5]:  # warm up caches and the model
            retriever.search(q.question, k=depth)
        outcomes = []
        for q in questions:
            started = time.perf_counter()
            answer = retriever.search(q.question, k=depth)
            elapsed = (time.perf_counter() - started) * 1e3
            outcomes.append(
                _Outcome(
                    q.language or detect(q.question),
                    elapsed,
                    tuple(count_words(h.text) for h in answer.hits[:k]),
                    answerable=bool(q.answers),
                    rejected=not answer.found,
                    rank=_first_hit([h.text for h in answer.hits], q.answers),
                    highlighted=highlights_answer(q, answer.hits[:k]) if q.answers else None,
                )
            )
    result = _figures(outcomes, k)
    languages = sorted({o.language for o in outcomes})
    result["languages"] = {
        language: _figures([o for o in outcomes if o.language == language], k)
        for language in languages
    }
    return result


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one question got."""

    language: str
    latency_ms: float
    words: tuple[int, ...]
    answerable: bool
    rejected: bool
    rank: int | None
    highlighted: bool | None


def _figures(outcomes: Sequence[_Outcome], k: int) -> dict[str, Any]:
    ranks = [o.rank for o in outcomes if o.answerable]
    negatives = [o for o in outcomes if not o.answerable]
    highlighted = [o.highlighted for o in outcomes if o.highlighted is not None]
    latencies = [o.latency_ms for o in outcomes]
    words = [w for o in outcomes for w in o.words]
    answerable = len(ranks)

    def hit_at(n: int) -> float:
        return _ratio(sum(1 for r in ranks if r is not None and r < n), answerable)

    return {
        "questions": answerable,
        "negatives": len(negatives),
        "hit@1": hit_at(1),
        "hit@3": hit_at(3),
        "hit@5": hit_at(5),
        f"hit@{k}": hit_at(k),
        "mrr@10": _ratio(
            sum(1.0 / (r + 1) for r in ranks if r is not None and r < MRR_DEPTH), answerable
        ),
        "best_sentence_hit": _ratio(sum(highlighted), len(highlighted)),
        "negatives_rejected": _ratio(sum(o.rejected for o in negatives), len(negatives)),
        "answerable_rejected": _ratio(
            sum(o.rejected for o in outcomes if o.answerable), answerable
        ),
        "p50_ms": round(percentile(latencies, 50), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "mean_passage_words": round(statistics.fmean(words), 1) if words else 0.0,
        "max_passage_words": max(words, default=0),
    }


def highlights_answer(question: Question, hits: Sequence[Hit]) -> bool | None:
    """Whether the first of ``hits`` holding the answer highlights the sentence that holds it.

    With a labelled ``question.sentence``, the passage holding the answer is the first that
    contains that sentence, and the highlight must contain it; without a label, the first
    passage containing an answer string, whose highlight must contain one. ``None`` when no
    hit holds the answer (the question does not count towards ``best_sentence_hit``).
    """
    if question.sentence is not None:
        wanted = [_plain(question.sentence)]
    else:
        wanted = [_plain(a) for a in question.answers]
    for hit in hits:
        if any(w in _plain(hit.text) for w in wanted):
            return any(w in _plain(hit.sentence) for w in wanted)
    return None


def _plain(text: str) -> str:
    return " ".join(text.casefold().split())


def _first_hit(passages: list[str], answers: tuple[str, ...]) -> int | None:
    wanted = [a.casefold() for a in answers]
    for rank, text in enumerate(passages):
        folded = text.casefold()
        if any(a in folded for a in wanted):
            return rank
    return None


def _ratio(part: float, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank ``pct`` percentile of ``values`` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
