"""Fresh processes for the benchmark; each command prints one JSON object on stdout.

Builds and first answers are measured in their own processes, so that peak memory,
memory after load and start-up cost are those of a real process, not of the
benchmark that has already loaded everything::

    python -m benchmarks.child build --settings JSON
    python -m benchmarks.child load --settings JSON --question Q
    python -m benchmarks.child baseline-build --settings JSON --out DIR
    python -m benchmarks.child baseline-load --settings JSON --out DIR --question Q
    python -m benchmarks.child synthetic --type hnsw --count N --dimension D

``--settings`` is a :class:`~retrieval.settings.RetrievalSettings` as JSON (its corpus
and data directories say what to index and where).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.memory import peak_rss_mb, rss_mb  # noqa: E402

# Passages embedded alone after a build, for the model's own passage rate as measured
# before session 11 (the reference line is now timed during the build: benchmarks.reference).
REFERENCE_PASSAGES = 1000


def build(settings_json: str) -> dict[str, Any]:
    """Build (or update) our index like ``artistbot index`` and time it.

    The reference line, the model's rate on whole passages alone, is timed in slices
    between the build's batches (:mod:`benchmarks.reference`), and once more after the
    build as before session 11 (``passage_only_after_per_s``); neither is in the build's
    time.
    """
    from benchmarks.reference import Interleaved, sample_passages
    from retrieval import Retriever
    from retrieval.models import open_encoder
    from retrieval.settings import RetrievalSettings
    from retrieval.text import count_words

    settings = RetrievalSettings.model_validate_json(settings_json)
    imported = time.perf_counter()
    encoder = open_encoder(settings)  # what Retriever.open would do first
    sampling = time.perf_counter()
    reference = Interleaved(encoder, sample_passages(settings, encoder), settings.encode_batch_size)
    left_out = time.perf_counter() - sampling  # choosing the reference's passages
    embedded = {"passages": 0, "last": imported, "reference_s": 0.0}

    def progress(done: int, total: int) -> None:
        reference.during(done, total)
        embedded["passages"], embedded["last"] = total, time.perf_counter()
        embedded["reference_s"] = reference.spent

    retriever = Retriever.open(settings, encoder=encoder, progress=progress)
    wall = time.perf_counter() - imported - left_out - reference.spent
    reference.finish()
    data = retriever.index.snapshot.data  # the index just built (read-only)
    # The reference as measured before session 11: once, after the build, on its first
    # passages (kept beside the interleaved one, to compare).
    sample = [p.text for p in data.passages[:REFERENCE_PASSAGES]]
    started = time.perf_counter()
    encoder.encode(sample, batch_size=settings.encode_batch_size)
    after = len(sample) / max(time.perf_counter() - started, 1e-9)
    embed_s = embedded["last"] - imported - left_out - embedded["reference_s"]
    return {
        "stories": len(data.stories),
        "passages": len(data.passages),
        "sentences": int(data.sentence_vectors.shape[0]),
        "words": sum(count_words(p.text) for p in data.passages),
        "passages_embedded": embedded["passages"],
        "wall_s": round(wall, 3),
        "embed_s": round(embed_s, 3) if embedded["passages"] else 0.0,
        "import_s": round(imported - STARTED, 3),
        "peak_rss_mb": peak_rss_mb(),
        "passage_only_per_s": round(reference.rate, 1),
        "passage_only_passages": reference.passages,
        "passage_only_after_per_s": round(after, 1),
    }


def load(settings_json: str, question: str) -> dict[str, Any]:
    """Open the persisted index and answer one question: what a restarted bot does."""
    from retrieval import Retriever
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings.model_validate_json(settings_json)
    imported = time.perf_counter()
    retriever = Retriever.open(settings)
    opened = time.perf_counter()
    answer = retriever.search(question)
    answered = time.perf_counter()
    return {
        "import_s": round(imported - STARTED, 3),
        "open_s": round(opened - imported, 3),
        "first_answer_s": round(answered - STARTED, 3),
        "found": answer.found,
        "rss_after_load_mb": rss_mb(),
    }


def baseline_build(settings_json: str, out: Path) -> dict[str, Any]:
    """Build the baseline (whole paragraphs, torch, flat FAISS) and save it."""
    from benchmarks.baseline import BASELINE_BATCH, Baseline, torch_encoder
    from retrieval.settings import RetrievalSettings
    from retrieval.text import count_words

    settings = RetrievalSettings.model_validate_json(settings_json)
    imported = time.perf_counter()
    encoder = torch_encoder(settings.model, threads=settings.threads)
    loaded = time.perf_counter()
    baseline = Baseline.build(settings.corpus_dir, encoder, batch_size=BASELINE_BATCH)
    baseline.save(out)
    return {
        "stories": len({p.story_id for p in baseline.paragraphs}),
        "passages": len(baseline.paragraphs),
        "sentences": 0,
        "words": sum(count_words(p.text) for p in baseline.paragraphs),
        "passages_embedded": len(baseline.paragraphs),
        "wall_s": round(time.perf_counter() - imported, 3),
        "embed_s": round(time.perf_counter() - loaded, 3),
        "import_s": round(imported - STARTED, 3),
        "peak_rss_mb": peak_rss_mb(),
    }


def baseline_load(settings_json: str, out: Path, question: str) -> dict[str, Any]:
    """Load the saved baseline and answer one question."""
    from benchmarks.baseline import Baseline, torch_encoder
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings.model_validate_json(settings_json)
    imported = time.perf_counter()
    baseline = Baseline.load(out, torch_encoder(settings.model, threads=settings.threads))
    opened = time.perf_counter()
    hits = baseline.search(question)
    answered = time.perf_counter()
    return {
        "import_s": round(imported - STARTED, 3),
        "open_s": round(opened - imported, 3),
        "first_answer_s": round(answered - STARTED, 3),
        "found": bool(hits),
        "rss_after_load_mb": rss_mb(),
    }


def main(argv: list[str] | None = None) -> None:
    """Run one command and print its JSON result."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child")
    parser.add_argument(
        "command", choices=["build", "load", "baseline-build", "baseline-load", "synthetic"]
    )
    parser.add_argument("--settings", default="{}")
    parser.add_argument("--question", default="")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--type", dest="index_type", default="flat")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result: dict[str, Any]
    if args.command == "build":
        result = build(args.settings)
    elif args.command == "load":
        result = load(args.settings, args.question)
    elif args.command == "baseline-build":
        result = baseline_build(args.settings, args.out)
    elif args.command == "baseline-load":
        result = baseline_load(args.settings, args.out, args.question)
    else:
        from benchmarks.synthetic import measure

        result = measure(
            args.index_type,
            args.count,
            dimension=args.dimension,
            queries=args.queries,
            seed=args.seed,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
