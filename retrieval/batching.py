"""Micro-batching of concurrent questions: one encoder call embeds many of them.

A bot in a busy server gets many questions at once. Handing them to the encoder
together lets it use every core: the int8 query model runs them one per call on
parallel single-threaded lanes, the float32 model in batches.

:class:`QueryBatcher` is what :meth:`Retriever.asearch` uses: a coroutine
enqueues its question and awaits a future; one worker thread takes whatever is
queued (up to ``max_batch``), prepares each question (analysed once, see
:meth:`Searcher.prepare`), embeds every text they need in one encoder call
(float32: length-sorted chunks of :data:`EMBED_CHUNK`, so short questions are not
padded to long ones) and completes each with its vectors. Nothing waits for a batch to
fill: a lone question is embedded at once, and questions arriving while the worker is
busy form the next batch. The event loop never blocks: enqueueing is a non-blocking put,
and a batch's answers come back together, through one ``loop.call_soon_threadsafe`` per
event loop (see :func:`_resolve_all`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from retrieval.results import Answer

log = logging.getLogger(__name__)

# Questions taken from the queue at once at most (the model's throughput levels off here).
DEFAULT_MAX_BATCH = 32
# The encoder sorts a batch by length and runs it in chunks of this many: every question
# is padded to the longest of its chunk, and one padded chunk of 32 questions of 5 to 40
# word pieces costs about 30% more than four chunks of 8 (measured on SQuAD questions).
EMBED_CHUNK = 8
# An idle worker thread ends after this long (and starts again with the next question).
IDLE_SECONDS = 30.0


class Prepared(Protocol):
    """A question ready for its vectors."""

    @property
    def texts(self) -> tuple[str, ...]:
        """The texts to embed for it (none for a question with nothing to search)."""
        ...


class Searcher(Protocol):
    """What the batcher needs: prepare a question, embed texts, complete with vectors."""

    def prepare(self, question: str, options: Any = None) -> Prepared:
        """Analyse a question."""
        ...

    def complete(self, prepared: Any, vectors: Mapping[str, np.ndarray]) -> Answer:
        """The answer to a prepared question, given the vectors of its texts."""
        ...


class QueryEncoder(Protocol):
    """Embeds questions."""

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
        """One normalised vector per text."""
        ...


@dataclass(slots=True)
class _Request:
    question: str
    options: Any
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Answer]


# A request and its answer, or the error it raised.
_Outcome = tuple[_Request, Answer | None, BaseException | None]


class QueryBatcher:
    """Answers concurrent callers' questions, embedding them in batches.

    Thread-safe and usable from several event loops. The worker thread starts with the
    first question, ends after ``idle_seconds`` without one (so an unused retriever can be
    freed) and with :meth:`close`; it is a daemon, so it never holds up the exit.
    """

    def __init__(
        self,
        searcher: Searcher,
        encoder: QueryEncoder,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds
        self._searcher = searcher
        self._encoder = encoder
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False
        # Model calls and the questions they embedded so far (for the benchmark and tests).
        self.batches = 0
        self.batched_questions = 0

    async def search(self, question: str, options: Any = None) -> Answer:
        """Answer ``question`` without blocking the event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        if self._closed:
            raise RuntimeError("the query batcher is closed")
        # Enqueue first, then make sure a worker runs: a worker only ends on an empty queue.
        self._queue.put(_Request(question, options, loop, future))
        self._start()
        return await future

    def close(self) -> None:
        """Stop the worker once the questions already queued are answered."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            worker = self._worker
            self._queue.put(None)
        if worker is not None and worker is not threading.current_thread():
            worker.join()
        while True:  # anything that raced with closing is refused, not left waiting
            try:
                request = self._queue.get_nowait()
            except queue.Empty:
                return
            if request is not None:
                _resolve_all([(request, None, RuntimeError("the query batcher is closed"))])

    @property
    def running(self) -> bool:
        """True while a worker thread is alive (it ends when idle or closed)."""
        worker = self._worker
        return worker is not None and worker.is_alive()

    @property
    def pending(self) -> int:
        """Questions waiting for the worker (approximate while it runs)."""
        return self._queue.qsize()

    @property
    def mean_batch(self) -> float:
        """Mean number of questions per model call so far."""
        return self.batched_questions / self.batches if self.batches else 0.0

    def _start(self) -> None:
        if self._worker is not None:
            return
        with self._lock:
            if self._worker is None and not self._closed:
                self._worker = threading.Thread(
                    target=self._work, name="artistbot-query-batcher", daemon=True
                )
                self._worker.start()

    def _work(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:  # askers enqueue before they look for a worker
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            if first is None:
                self._worker = None
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._answer(batch)
            if stop:
                self._worker = None
                return

    def _answer(self, batch: list[_Request]) -> None:
        settled: list[_Outcome] = []
        prepared: list[tuple[_Request, Prepared]] = []
        for request in batch:
            if request.future.done():  # a cancelled asker needs no answer
                continue
            try:
                prepared.append(
                    (request, self._searcher.prepare(request.question, request.options))
                )
            except Exception as exc:
                settled.append((request, None, exc))
        try:
            vectors = self._embed([p for _, p in prepared])
        except Exception as exc:  # the model failed: every asker in the batch hears why
            settled.extend((request, None, exc) for request, _ in prepared)
            prepared = []
        for request, question in prepared:
            try:
                settled.append((request, self._searcher.complete(question, vectors), None))
            except Exception as exc:
                settled.append((request, None, exc))
        _resolve_all(settled)

    def _embed(self, prepared: list[Prepared]) -> dict[str, np.ndarray]:
        """One encoder call for every text the prepared questions need."""
        wanted = [p.texts for p in prepared if p.texts]
        texts = list(dict.fromkeys(t for needed in wanted for t in needed))
        if not texts:
            return {}
        encoded = self._encoder.encode_queries(texts, batch_size=min(len(texts), EMBED_CHUNK))
        self.batches += 1
        self.batched_questions += len(wanted)
        return {t: np.asarray(v, dtype=np.float32) for t, v in zip(texts, encoded, strict=True)}


def _resolve_all(settled: Sequence[_Outcome]) -> None:
    """Settle the askers' futures, with one call into each of their event loops.

    One call per answer woke the loop once per answer: at 64 chats, 31 wake-ups for each
    batch, each taking the GIL from the worker. Together, the seed questions were answered
    at 279-308 a second against 260-279 (three alternating pairs, docs/BENCHMARKS.md).
    """
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for outcome in settled:
        by_loop.setdefault(outcome[0].loop, []).append(outcome)
    for loop, outcomes in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, outcomes)
        except RuntimeError:  # the askers' event loop is closed: nobody is waiting any more
            log.debug("dropped %d answers for a closed event loop", len(outcomes))


def _settle(outcomes: Sequence[_Outcome]) -> None:
    for request, answer, error in outcomes:
        if request.future.done():
            continue
        if error is not None:
            request.future.set_exception(error)
        else:
            request.future.set_result(answer)  # type: ignore[arg-type]
