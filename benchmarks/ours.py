"""Our side of the benchmark: build, cold start, warm latency, concurrency and update.

Concurrency is measured on the path users take: :class:`~bot.chat.ChatService`,
the object both adapters call, with each asker a chat of its own (rate limits,
follow-ups and reply assembly included). The core's batched ``Retriever.asearch``
and its unbatched ``search`` in a worker thread are measured beside it, to show
what the chat layer costs and what batching gains.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import load
from benchmarks.common import (
    ADDED_STORY,
    BenchOptions,
    child,
    child_cold_start,
    cold_start,
    keep,
    log,
    median_story,
    with_rates,
)
from bot.chat import ChatService, FeedbackStore, Incoming, Reply
from bot.settings import ChatSettings, Settings
from retrieval import Retriever
from retrieval import vectors as faiss_index
from retrieval.batching import EMBED_CHUNK
from retrieval.embedding import Encoder
from retrieval.settings import RetrievalSettings

PLATFORM = "bench"


def measure_ours(
    settings: RetrievalSettings, encoder: Encoder, questions: list[str], options: BenchOptions
) -> dict[str, Any]:
    """Build, cold start, warm latency, concurrency and update figures of our core."""
    result: dict[str, Any] = {}
    log.info("bench: full build (fresh process)")
    keep(result, "ours", "build", with_rates(child("build", settings)))
    log.info("bench: cold start x%d", options.repeats)
    cold = options.cold_start or child_cold_start
    keep(result, "ours", "cold_start", cold_start(cold, settings, questions[0], options.repeats))
    loaded = child("load", settings, "--question", questions[0])
    result["rss_after_load_mb"] = loaded["rss_after_load_mb"]
    result["first_answer_in_process_s"] = loaded["first_answer_s"]

    # Opened as the bots open it: its snapshots kept out of garbage collections.
    retriever = Retriever.open(settings, encoder=encoder, freeze=True)
    # The multilingual vectors build in the background after a fresh index; the figures
    # below are of a bot that has them (as after `artistbot index`), not of both at once.
    retriever.index.wait_multilingual()
    try:
        sample = questions[: options.latency_questions]
        log.info("bench: warm latency (%d questions x%d)", len(sample), options.repeats)
        latency = {
            "dense": load.warm_latency(_dense_path(retriever), sample, repeats=options.repeats),
            "lexical": load.warm_latency(_lexical_path(retriever), sample, repeats=options.repeats),
            "core": load.warm_latency(retriever.search, sample, repeats=options.repeats),
        }
        keep(result, "ours", "latency", latency)
        log.info("bench: concurrent chats %s (the chat service)", options.levels)
        keep(result, "ours", "concurrency", chat_levels(retriever, questions, options))
        log.info("bench: concurrent askers %s (the core, batched)", options.levels)
        keep(result, "ours", "concurrency_core", _batched_levels(retriever, questions, options))

        async def unbatched(question: str) -> object:
            return await asyncio.to_thread(retriever.search, question)

        levels = load.concurrency(
            unbatched,
            questions,
            levels=options.levels,
            total=options.requests,
            repeats=options.repeats,
        )
        keep(result, "ours", "concurrency_unbatched", levels)
        log.info("bench: incremental update x%d", options.repeats)
        update = _update_ours(retriever, settings.corpus_dir, options.repeats)
        keep(result, "ours", "update", update)
    finally:
        retriever.close()
    return result


def chat_levels(
    retriever: Retriever, questions: list[str], options: BenchOptions
) -> list[dict[str, Any]]:
    """Concurrent chats through :class:`ChatService`: each asker is one person in a chat.

    A person asks one question after another, so follow-ups (the topic's story first)
    and the rate limiter run as they do in a real chat; the limit is raised so that a
    benchmark asker is never refused. Each figure also counts the questions that got no
    reply (``lost``) and answers whose id repeats (``duplicated``); both must be 0.
    """
    results = []
    settings = Settings(chat=ChatSettings(rate_limit_questions=1000, rate_limit_seconds=1))
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp:
        chat = ChatService(retriever, settings, FeedbackStore(Path(tmp) / "feedback.sqlite3"))
        for level in options.levels:
            ask, replies = _chat_asker(chat)
            before = (retriever.batcher.batches, retriever.batcher.batched_questions)
            [figures] = load.concurrency(
                ask, questions, levels=[level], total=options.requests, repeats=options.repeats
            )
            figures.update(_batch_figures(retriever, before))
            batch = max(1, round(figures["mean_batch"]))
            model = model_only_rate(retriever, questions, batch=batch, total=options.requests)
            figures["model_only_qps"] = round(model, 1)
            figures["of_model_only"] = round(figures["qps"] / model, 3) if model else 0.0
            answer_ids = [r.answer_id for r in replies if r is not None and r.answer_id]
            figures["replies"] = len(replies)
            figures["lost"] = sum(1 for r in replies if r is None)
            figures["duplicated"] = len(answer_ids) - len(set(answer_ids))
            results.append(figures)
    return results


def model_only_rate(retriever: Retriever, questions: list[str], *, batch: int, total: int) -> float:
    """Questions a second the bare model embeds, the reference line for a chat level.

    Each question's texts as the engine prepares them, ``batch`` questions per encoder
    call as the batcher makes it (texts shared in a call embedded once), ``total``
    questions: what the chats' rate would be if nothing but the model cost anything.
    Measured right after the level, in the same process, so both see the same machine.
    """
    texts = [retriever.engine.prepare(q).texts for q in questions]
    started, done = time.perf_counter(), 0
    while done < total:
        needed = [texts[(done + i) % len(texts)] for i in range(min(batch, total - done))]
        call = list(dict.fromkeys(t for each in needed for t in each))
        if call:
            retriever.encoder.encode_queries(call, batch_size=min(len(call), EMBED_CHUNK))
        done += len(needed)
    return done / (time.perf_counter() - started)


def _chat_asker(
    chat: ChatService,
) -> tuple[Callable[[str], Awaitable[object]], list[Reply | None]]:
    """An asker (each concurrent one a person in their own chat), and the list every
    reply (None: lost) is appended to."""
    people: dict[asyncio.Task[Any] | None, int] = {}  # each asker's task is one person
    replies: list[Reply | None] = []

    async def ask(question: str) -> object:
        person = people.setdefault(asyncio.current_task(), len(people))
        message = Incoming(
            platform=PLATFORM, chat_id=f"chat-{person}", user_id=f"person-{person}", text=question
        )
        reply: Reply | None = None
        try:
            reply = await chat.handle(message)
        except Exception:
            log.exception("bench: a question got no reply")
        replies.append(reply)
        return reply

    return ask, replies


def _batched_levels(
    retriever: Retriever, questions: list[str], options: BenchOptions
) -> list[dict[str, Any]]:
    results = []
    for level in options.levels:
        before = (retriever.batcher.batches, retriever.batcher.batched_questions)
        [figures] = load.concurrency(
            retriever.asearch,
            questions,
            levels=[level],
            total=options.requests,
            repeats=options.repeats,
        )
        figures.update(_batch_figures(retriever, before))
        results.append(figures)
    return results


def _batch_figures(retriever: Retriever, before: tuple[int, int]) -> dict[str, Any]:
    calls = retriever.batcher.batches - before[0]
    embedded = retriever.batcher.batched_questions - before[1]
    return {"model_calls": calls, "mean_batch": round(embedded / calls, 1) if calls else 0.0}


def _dense_path(retriever: Retriever) -> Callable[[str], object]:
    candidates = retriever.settings.candidates

    def dense(question: str) -> object:
        vector = retriever.encoder.encode_queries([question], batch_size=1)[0]
        return faiss_index.search(retriever.index.snapshot.data.faiss, vector, candidates)

    return dense


def _lexical_path(retriever: Retriever) -> Callable[[str], object]:
    candidates = retriever.settings.candidates

    def lexical(question: str) -> object:
        index = retriever.index.snapshot.lexical
        scores = index.scores(index.terms(question))
        if len(scores) <= candidates:
            return scores
        return np.argpartition(-scores, candidates)[:candidates]

    return lexical


def _update_ours(retriever: Retriever, corpus: Path, repeats: int) -> dict[str, Any]:
    """Adding the median story (its file copied in, then what ``/reload`` runs) and
    removing it again (what ``/removestory`` runs), ``repeats`` times each."""
    source = median_story(corpus)
    added = corpus / f"{ADDED_STORY}{source.suffix}"
    runs, removals = [], []
    for _ in range(repeats):
        shutil.copyfile(source, added)
        started = time.perf_counter()
        report = retriever.reload()
        runs.append(
            {"wall_s": time.perf_counter() - started, "embedded_passages": report.embedded_passages}
        )
        passages = len(retriever.index.snapshot.data.passages)
        [story_id] = report.added
        started = time.perf_counter()
        retriever.remove_story(story_id)  # back to the built index for the next run
        removals.append(time.perf_counter() - started)
    # Each add too: the first in a process also opens the passage model.
    each = [round(run["wall_s"], 3) for run in runs]
    return {
        **load.median_of(runs),
        "each_s": each,
        "remove_s": round(statistics.median(removals), 3),
        "remove_each_s": [round(r, 3) for r in removals],
        "story": source.name,
        "index_passages": passages,
    }
