"""The plain baseline the benchmark compares against.

What a first version of such a bot does: every paragraph of every story is one
passage, embedded with sentence-transformers on torch and searched exactly with a
flat FAISS index, one question at a time. No lexical search, no sentence vectors,
no batching, no manifest: the vectors and paragraphs are saved as they are.
:func:`measure_baseline` takes the benchmark's figures of it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from benchmarks import load
from benchmarks.common import (
    BenchOptions,
    child,
    child_argv,
    keep,
    log,
    median_story,
    timed_run,
    with_rates,
)
from retrieval.corpus import Story, load_corpus, load_story
from retrieval.embedding import Encoder, offline, resolve_model
from retrieval.settings import RetrievalSettings
from retrieval.torch_encoder import TorchEncoder

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# The plain design embeds with sentence-transformers' own default batch size, not ours.
BASELINE_BATCH = 32


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One whole paragraph of a story: the baseline's unit of retrieval."""

    story_id: str
    text: str


def paragraphs(stories: Sequence[Story]) -> list[Paragraph]:
    """Every non-empty paragraph (blank-line separated) of ``stories``, in order."""
    return [
        Paragraph(story.story_id, part.strip())
        for story in stories
        for part in _PARAGRAPH_BREAK.split(story.text)
        if part.strip()
    ]


def torch_encoder(model: str, *, threads: int) -> Encoder:
    """sentence-transformers on torch, the packaged model (imports torch: seconds)."""
    offline()
    return TorchEncoder(resolve_model(model), name=model, threads=threads)


class Baseline:
    """Whole paragraphs in a flat FAISS index, searched one question at a time."""

    def __init__(self, encoder: Encoder, items: list[Paragraph], vectors: np.ndarray) -> None:
        self.encoder = encoder
        self.paragraphs = items
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index = faiss.IndexFlatIP(encoder.dimension)
        if len(items):
            self.index.add(self.vectors)

    @classmethod
    def build(cls, corpus_dir: Path, encoder: Encoder, *, batch_size: int = 32) -> Baseline:
        """Embed every paragraph of the stories in ``corpus_dir``."""
        items = paragraphs(load_corpus(corpus_dir))
        return cls(encoder, items, encoder.encode([p.text for p in items], batch_size=batch_size))

    @classmethod
    def load(cls, directory: Path, encoder: Encoder) -> Baseline:
        """Read what :meth:`save` wrote."""
        raw = json.loads((directory / "paragraphs.json").read_text(encoding="utf-8"))
        items = [Paragraph(story_id, text) for story_id, text in raw]
        return cls(encoder, items, np.load(directory / "vectors.npy", allow_pickle=False))

    def save(self, directory: Path) -> None:
        """Write the paragraphs and their vectors (no manifest, no atomic swap)."""
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "vectors.npy", self.vectors, allow_pickle=False)
        payload = [[p.story_id, p.text] for p in self.paragraphs]
        (directory / "paragraphs.json").write_text(json.dumps(payload), encoding="utf-8")

    def add(self, stories: Sequence[Story], *, batch_size: int = 32) -> int:
        """Embed and append the paragraphs of ``stories``; returns how many were added."""
        items = paragraphs(stories)
        if not items:
            return 0
        vectors = self.encoder.encode([p.text for p in items], batch_size=batch_size)
        self.paragraphs.extend(items)
        self.vectors = np.ascontiguousarray(np.vstack([self.vectors, vectors]), dtype=np.float32)
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return len(items)

    def search(self, question: str, *, k: int = 3) -> list[tuple[Paragraph, float]]:
        """The ``k`` paragraphs closest to ``question`` by cosine."""
        vector = self.encoder.encode([question], batch_size=1)
        count = min(k, self.index.ntotal)
        if count <= 0:
            return []
        scores, ids = self.index.search(np.ascontiguousarray(vector, dtype=np.float32), count)
        return [(self.paragraphs[i], float(s)) for s, i in zip(scores[0], ids[0], strict=True)]


def measure_baseline(
    settings: RetrievalSettings, out: Path, questions: list[str], options: BenchOptions
) -> dict[str, Any]:
    """The same figures for the baseline (whole paragraphs, torch, flat FAISS, no batching)."""
    result: dict[str, Any] = {}
    log.info("bench: baseline build (fresh process)")
    build = with_rates(child("baseline-build", settings, "--out", str(out)))
    keep(result, "baseline", "build", build)
    log.info("bench: baseline cold start x%d", options.repeats)
    starts, loaded = [], []
    argv = child_argv("baseline-load", settings, "--out", str(out), "--question", questions[0])
    for _ in range(options.repeats):
        # Timed as ours is: to the answer (the child prints it once it has it), and to exit.
        answered, exited, printed = timed_run(argv, {})
        loaded.append(json.loads(printed.strip().splitlines()[-1]))
        starts.append({"wall_s": answered, "exit_s": exited})
    keep(result, "baseline", "cold_start", load.median_of(starts))
    result["rss_after_load_mb"] = load.median_of(loaded)["rss_after_load_mb"]
    result["first_answer_in_process_s"] = load.median_of(loaded)["first_answer_s"]

    baseline = Baseline.load(out, torch_encoder(settings.model, threads=settings.threads))
    sample = questions[: options.latency_questions]
    log.info("bench: baseline warm latency")
    whole = load.warm_latency(baseline.search, sample, repeats=options.repeats)
    keep(result, "baseline", "latency", {"dense": whole, "lexical": None, "core": whole})

    async def ask(question: str) -> object:
        return await asyncio.to_thread(baseline.search, question)

    log.info("bench: baseline concurrent askers %s", options.levels)
    keep(
        result,
        "baseline",
        "concurrency",
        load.concurrency(
            ask, questions, levels=options.levels, total=options.requests, repeats=options.repeats
        ),
    )
    log.info("bench: baseline incremental update")
    source = median_story(settings.corpus_dir)
    runs = []
    for _ in range(options.repeats):
        story = load_story(source)
        assert story is not None
        started = time.perf_counter()
        count = baseline.add([story], batch_size=BASELINE_BATCH)
        baseline.save(out)
        runs.append({"wall_s": time.perf_counter() - started, "embedded_passages": count})
    keep(result, "baseline", "update", {**load.median_of(runs), "story": source.name})
    return result
