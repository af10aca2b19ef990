"""The micro-batcher behind Retriever.asearch: batches, errors, cancellation, the event loop.

Most tests drive :class:`QueryBatcher` with a stand-in searcher and a model whose call can be
held shut, so what queues up while the model is busy is deterministic (no timing). The
last tests use the real retriever over the seed stories.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from retrieval import Answer, Retriever
from retrieval.batching import QueryBatcher
from retrieval.evaluation import read_questions
from tests.conftest import EVAL_DIR

WAIT = 20.0  # seconds before a test gives up instead of hanging (never reached when it passes)


class GatedEncoder:
    """A model stand-in: a text's vector is its length; the first call can be held shut."""

    dimension = 4

    def __init__(self, *, gated: bool = True, fail: Exception | None = None) -> None:
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not gated:
            self.release.set()
        self.fail = fail

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
        self.calls.append(list(texts))
        self.entered.set()
        if not self.release.wait(WAIT):
            raise TimeoutError("the test never released the model")
        if self.fail is not None:
            raise self.fail
        return np.array([[float(len(t))] * self.dimension for t in texts], dtype=np.float32)


@dataclass(frozen=True)
class StubPrepared:
    question: str
    options: object
    texts: tuple[str, ...]


class StubSearcher:
    """Records every completed question with the vector it was given (its first value)."""

    def __init__(self, *, broken: str | None = None, unprepared: str | None = None) -> None:
        self.searched: list[tuple[str, float | None, object]] = []
        self.prepared: list[str] = []
        self.broken = broken
        self.unprepared = unprepared

    def prepare(self, question: str, options: object = None) -> StubPrepared:
        if question == self.unprepared:
            raise ValueError(f"cannot analyse {question!r}")
        self.prepared.append(question)
        words = question.strip()
        texts = (words,) if any(c.isalnum() for c in words) else ()
        return StubPrepared(question, options, texts)

    def complete(self, prepared: StubPrepared, vectors: Mapping[str, np.ndarray]) -> Answer:
        if prepared.question == self.broken:
            raise ValueError(f"cannot search {prepared.question!r}")
        first = float(vectors[prepared.texts[0]][0]) if prepared.texts else None
        self.searched.append((prepared.question, first, prepared.options))
        return Answer(question=prepared.question)


def batcher_for(
    encoder: GatedEncoder, searcher: StubSearcher | None = None, **options: float
) -> QueryBatcher:
    return QueryBatcher(searcher or StubSearcher(), encoder, **options)  # type: ignore[arg-type]


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the event loop until ``condition`` holds (or fail after WAIT seconds)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.002)


async def test_questions_queued_while_the_model_is_busy_share_one_call() -> None:
    encoder = GatedEncoder()
    stub = StubSearcher()
    batcher = batcher_for(encoder, stub)
    first = asyncio.create_task(batcher.search("first question"))
    await until(encoder.entered.is_set)
    others = [asyncio.create_task(batcher.search(f"question number {i}")) for i in range(20)]
    await asyncio.sleep(0)  # every asker enqueues

    encoder.release.set()
    answers = await asyncio.wait_for(asyncio.gather(first, *others), WAIT)

    assert [len(call) for call in encoder.calls] == [1, 20]
    assert [a.question for a in answers] == ["first question"] + [
        f"question number {i}" for i in range(20)
    ]
    # Each question was analysed once and ranked with its own vector (here: its length).
    assert sorted(stub.prepared) == sorted(a.question for a in answers)
    assert all(vector == len(question) for question, vector, _ in stub.searched)
    assert batcher.mean_batch == pytest.approx(10.5)
    batcher.close()


async def test_the_event_loop_runs_while_the_model_works() -> None:
    encoder = GatedEncoder()
    batcher = batcher_for(encoder)
    asking = asyncio.create_task(batcher.search("who plays the dombra?"))
    await until(encoder.entered.is_set)

    # The model call is still held shut, yet other coroutines run and timers fire.
    ticks = 0
    for _ in range(3):
        await asyncio.sleep(0.001)
        ticks += 1
    assert ticks == 3 and not asking.done()

    encoder.release.set()
    assert (await asyncio.wait_for(asking, WAIT)).question == "who plays the dombra?"
    batcher.close()


async def test_a_batch_holds_at_most_max_batch_questions() -> None:
    encoder = GatedEncoder()
    batcher = batcher_for(encoder, max_batch=4)
    first = asyncio.create_task(batcher.search("first"))
    await until(encoder.entered.is_set)
    others = [asyncio.create_task(batcher.search(f"q{i}")) for i in range(10)]
    await asyncio.sleep(0)

    encoder.release.set()
    await asyncio.wait_for(asyncio.gather(first, *others), WAIT)

    assert [len(call) for call in encoder.calls] == [1, 4, 4, 2]
    batcher.close()


async def test_options_reach_the_searcher_and_empty_questions_are_not_embedded() -> None:
    encoder = GatedEncoder(gated=False)
    stub = StubSearcher()
    batcher = batcher_for(encoder, stub)

    await batcher.search("more please", {"k": 2, "offset": 3})
    await batcher.search("?!")  # nothing to embed: completed without a vector

    assert stub.searched == [
        ("more please", len("more please"), {"k": 2, "offset": 3}),
        ("?!", None, None),
    ]
    assert encoder.calls == [["more please"]]
    batcher.close()


async def test_a_model_failure_reaches_every_asker_of_the_batch_and_the_worker_survives() -> None:
    encoder = GatedEncoder(gated=False, fail=RuntimeError("model is broken"))
    batcher = batcher_for(encoder)

    with pytest.raises(RuntimeError, match="model is broken"):
        await asyncio.wait_for(batcher.search("anything"), WAIT)
    encoder.fail = None
    answer = await asyncio.wait_for(batcher.search("and now?"), WAIT)

    assert answer.question == "and now?"
    batcher.close()


@pytest.mark.parametrize("failing", ["broken", "unprepared"])
async def test_a_failing_question_fails_only_its_own_asker(failing: str) -> None:
    stub = StubSearcher(**{failing: "bad question"})
    batcher = batcher_for(GatedEncoder(gated=False), stub)

    results = await asyncio.wait_for(
        asyncio.gather(
            batcher.search("good question"),
            batcher.search("bad question"),
            return_exceptions=True,
        ),
        WAIT,
    )

    assert isinstance(results[0], Answer) and results[0].question == "good question"
    assert isinstance(results[1], ValueError)
    batcher.close()


async def test_a_cancelled_asker_is_skipped() -> None:
    encoder = GatedEncoder()
    stub = StubSearcher()
    batcher = batcher_for(encoder, stub)
    first = asyncio.create_task(batcher.search("first"))
    await until(encoder.entered.is_set)
    gone = asyncio.create_task(batcher.search("never mind"))
    kept = asyncio.create_task(batcher.search("still here"))
    await asyncio.sleep(0)

    gone.cancel()
    encoder.release.set()
    await asyncio.wait_for(asyncio.gather(first, kept), WAIT)

    assert gone.cancelled()
    assert [q for q, _, _ in stub.searched] == ["first", "still here"]
    batcher.close()


def test_one_batcher_serves_several_event_loops() -> None:
    batcher = batcher_for(GatedEncoder(gated=False))

    first = asyncio.run(batcher.search("from the first loop"))
    second = asyncio.run(batcher.search("from the second loop"))

    assert (first.question, second.question) == ("from the first loop", "from the second loop")
    batcher.close()


async def test_an_idle_worker_ends_and_the_next_question_starts_another() -> None:
    batcher = batcher_for(GatedEncoder(gated=False), idle_seconds=0.01)

    await batcher.search("wake up")
    await until(lambda: not batcher.running)
    answer = await asyncio.wait_for(batcher.search("again"), WAIT)

    assert answer.question == "again"
    batcher.close()


async def test_a_closed_batcher_refuses_questions() -> None:
    batcher = batcher_for(GatedEncoder(gated=False))
    await batcher.search("one")

    batcher.close()

    assert not batcher.running
    with pytest.raises(RuntimeError, match="closed"):
        await batcher.search("two")


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        batcher_for(GatedEncoder(), max_batch=0)


# -- the real retriever ----------------------------------------------------------------------


def seed_questions() -> list[str]:
    return [q.question for q in read_questions(Path(EVAL_DIR / "seeds" / "questions.jsonl"))]


async def test_concurrent_asearch_ranks_like_search(retriever: Retriever) -> None:
    questions = seed_questions()

    answers = await asyncio.wait_for(
        asyncio.gather(*(retriever.asearch(q, k=5) for q in questions)), 4 * WAIT
    )

    for question, batched in zip(questions, answers, strict=True):
        alone = retriever.search(question, k=5)
        assert batched.found == alone.found, question
        assert batched.corrected == alone.corrected, question
        assert [h.passage_id for h in batched.hits] == [h.passage_id for h in alone.hits]
        # Vectors embedded in a batch differ from single ones by float rounding only.
        assert [h.score for h in batched.hits] == pytest.approx(
            [h.score for h in alone.hits], abs=1e-5
        )


async def test_asearch_passes_follow_up_options(retriever: Retriever) -> None:
    story = retriever.stories[0]

    answer = await retriever.asearch("where did she grow up?", k=1, story_id=story.story_id)
    more = await retriever.asearch("where did she grow up?", k=1, offset=1, story_id=story.story_id)

    assert answer == retriever.search("where did she grow up?", k=1, story_id=story.story_id)
    assert all(h.story.story_id == story.story_id for h in (*answer.hits, *more.hits))
    if answer.found and more.found:
        assert more.hits[0].passage_id != answer.hits[0].passage_id
