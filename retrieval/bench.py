"""``artistbot bench``: how fast the core builds, starts, answers and scales, against a baseline.

One run measures, for our core and for a plain baseline (whole paragraphs,
sentence-transformers on torch, a flat FAISS index, one question at a time; see
:mod:`retrieval.bench_baseline`):

* a full index build (in a fresh process): passages and words per second, wall time,
  peak memory; and builds of parts of the corpus, for build time against corpus size;
* an incremental update: one story added to the built index (what ``/reload`` does);
* a cold start: a fresh process to its first answer, from the persisted index, and
  its memory after loading;
* warm single-question latency (p50, p99) of the dense path, the lexical path and
  the whole core call;
* throughput and latency with 1, 8 and 64 concurrent askers through the async API
  the bots use (``Retriever.asearch``), with the event loop's worst lateness;
* optionally, a synthetic index of a million vectors, flat against HNSW and IVF.

Everything happens in a private work directory; the configured index is never
touched. Numbers are medians of ``repeats`` runs. The machine may be shared: the
report records its load average before and after.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval import bench_load, store
from retrieval import vectors as faiss_index
from retrieval.corpus import iter_story_paths, load_story
from retrieval.embedding import Encoder
from retrieval.evaluation import read_questions
from retrieval.search import Retriever, open_encoder
from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)

# argv and extra environment that start a fresh process answering ``question`` over the
# index in ``settings.data_dir`` (the real ``artistbot ask``, handed in by the CLI).
ColdStart = Callable[[RetrievalSettings, str], tuple[list[str], dict[str, str]]]

DEFAULT_LEVELS = (1, 8, 64)
DEFAULT_SIZES = (0.25, 0.5, 1.0)
ADDED_STORY = "zzz-bench-added-story"
_LIBRARIES = ("onnxruntime", "faiss-cpu", "torch", "sentence-transformers", "numpy", "bm25s")


@dataclass(frozen=True, kw_only=True, slots=True)
class BenchOptions:
    """What to measure and how often."""

    questions: Path | None = None  # JSONL of {question, ...}; default: the shipped general ones
    work_dir: Path | None = None  # default: a temporary folder in the data directory
    levels: tuple[int, ...] = DEFAULT_LEVELS  # concurrent askers
    requests: int = 640  # questions per concurrency level and run
    latency_questions: int = 300  # questions in the warm latency runs
    repeats: int = 3
    sizes: tuple[float, ...] = DEFAULT_SIZES  # shares of the stories, for build time vs size
    baseline: bool = True
    synthetic: int = 0  # vectors in the synthetic index test (0: skip it)
    synthetic_types: tuple[str, ...] = ("flat", "hnsw", "ivf")
    cold_start: ColdStart | None = None  # default: python -m retrieval.bench_child load


def run(settings: RetrievalSettings, options: BenchOptions) -> dict[str, Any]:
    """Run the benchmark over ``settings.corpus_dir``; returns the report (JSON-ready)."""
    report: dict[str, Any] = {"machine": machine(), "load_average_start": _load_average()}
    encoder = open_encoder(settings)  # the ONNX export happens once, in the data directory
    questions = load_questions(options.questions)
    with _work_dir(options.work_dir, settings.data_dir) as work:
        corpus = _copy_stories(list(iter_story_paths(settings.corpus_dir)), work / "corpus")
        ours = _settings(settings, corpus, work / "data")
        log.info(
            "bench: %d stories, %d questions, work in %s", _count(corpus), len(questions), work
        )
        report["ours"] = measure_ours(ours, encoder, questions, options)
        full = report["ours"]["build"]
        report["corpus"] = {
            "dir": str(settings.corpus_dir),
            **{k: full[k] for k in ("stories", "passages", "sentences", "words")},
            "questions": len(questions),
            "questions_file": str(options.questions) if options.questions else "background",
        }
        if options.baseline:
            report["baseline"] = measure_baseline(ours, work / "baseline", questions, options)
            report["ratios"] = ratios(report["ours"], report["baseline"])
        baseline_full = report["baseline"]["build"] if options.baseline else None
        report["build_vs_size"] = build_vs_size(settings, work, options, full, baseline_full)
    if options.synthetic:
        log.info("bench: synthetic index of %d vectors", options.synthetic)
        report["synthetic"] = _synthetic(options)
    report["load_average_end"] = _load_average()
    return report


# -- our core ---------------------------------------------------------------------------------


def measure_ours(
    settings: RetrievalSettings, encoder: Encoder, questions: list[str], options: BenchOptions
) -> dict[str, Any]:
    """Build, cold start, warm latency, concurrency and update figures of our core."""
    result: dict[str, Any] = {}
    log.info("bench: full build (fresh process)")
    _keep(result, "ours", "build", _with_rates(child("build", settings)))
    log.info("bench: cold start x%d", options.repeats)
    cold = options.cold_start or _child_cold_start
    _keep(result, "ours", "cold_start", cold_start(cold, settings, questions[0], options.repeats))
    loaded = child("load", settings, "--question", questions[0])
    result["rss_after_load_mb"] = loaded["rss_after_load_mb"]
    result["first_answer_in_process_s"] = loaded["first_answer_s"]

    retriever = Retriever.open(settings, encoder=encoder)
    sample = questions[: options.latency_questions]
    log.info("bench: warm latency (%d questions x%d)", len(sample), options.repeats)
    _keep(
        result,
        "ours",
        "latency",
        {
            "dense": bench_load.warm_latency(
                _dense_path(retriever), sample, repeats=options.repeats
            ),
            "lexical": bench_load.warm_latency(
                _lexical_path(retriever), sample, repeats=options.repeats
            ),
            "core": bench_load.warm_latency(retriever.search, sample, repeats=options.repeats),
        },
    )
    log.info("bench: concurrent askers %s", options.levels)
    _keep(result, "ours", "concurrency", _batched_levels(retriever, questions, options))

    async def unbatched(question: str) -> object:
        return await asyncio.to_thread(retriever.search, question)

    _keep(
        result,
        "ours",
        "concurrency_unbatched",
        bench_load.concurrency(
            unbatched,
            questions,
            levels=options.levels,
            total=options.requests,
            repeats=options.repeats,
        ),
    )
    log.info("bench: incremental update x%d", options.repeats)
    _keep(result, "ours", "update", _update_ours(retriever, settings.corpus_dir, options.repeats))
    retriever._batcher.close()
    return result


def _dense_path(retriever: Retriever) -> Callable[[str], object]:
    candidates = retriever.settings.candidates

    def dense(question: str) -> object:
        vector = retriever.encode_question(question)
        return faiss_index.search(retriever._state.data.faiss, vector, candidates)

    return dense


def _lexical_path(retriever: Retriever) -> Callable[[str], object]:
    candidates = retriever.settings.candidates

    def lexical(question: str) -> object:
        index = retriever._state.lexical
        scores = index.scores(index.terms(question))
        if len(scores) <= candidates:
            return scores
        return np.argpartition(-scores, candidates)[:candidates]

    return lexical


def _batched_levels(
    retriever: Retriever, questions: list[str], options: BenchOptions
) -> list[dict[str, Any]]:
    batcher = retriever._batcher
    results = []
    for level in options.levels:
        before = (batcher.batches, batcher.batched_questions)
        [figures] = bench_load.concurrency(
            retriever.asearch,
            questions,
            levels=[level],
            total=options.requests,
            repeats=options.repeats,
        )
        calls = batcher.batches - before[0]
        embedded = batcher.batched_questions - before[1]
        figures["mean_batch"] = round(embedded / calls, 1) if calls else 0.0
        results.append(figures)
    return results


def _update_ours(retriever: Retriever, corpus: Path, repeats: int) -> dict[str, Any]:
    source = _median_story(corpus)
    added = corpus / f"{ADDED_STORY}{source.suffix}"
    runs = []
    for repeat in range(repeats):
        shutil.copyfile(source, added)
        started = time.perf_counter()
        report = retriever.reload()
        runs.append(
            {"wall_s": time.perf_counter() - started, "embedded_passages": report.embedded_passages}
        )
        passages = len(retriever._state.data.passages)
        added.unlink()
        if repeat < repeats - 1:
            retriever.reload()  # back to the built index for the next run
    return {**bench_load.median_of(runs), "story": source.name, "index_passages": passages}


# -- the baseline -----------------------------------------------------------------------------


def measure_baseline(
    settings: RetrievalSettings, out: Path, questions: list[str], options: BenchOptions
) -> dict[str, Any]:
    """The same figures for the baseline (whole paragraphs, torch, flat FAISS, no batching)."""
    from retrieval.bench_baseline import Baseline, torch_encoder

    result: dict[str, Any] = {}
    log.info("bench: baseline build (fresh process)")
    build = _with_rates(child("baseline-build", settings, "--out", str(out)))
    _keep(result, "baseline", "build", build)
    log.info("bench: baseline cold start x%d", options.repeats)
    starts, loaded = [], []
    for _ in range(options.repeats):
        started = time.perf_counter()
        loaded.append(
            child("baseline-load", settings, "--out", str(out), "--question", questions[0])
        )
        starts.append({"wall_s": time.perf_counter() - started})
    _keep(result, "baseline", "cold_start", bench_load.median_of(starts))
    result["rss_after_load_mb"] = bench_load.median_of(loaded)["rss_after_load_mb"]
    result["first_answer_in_process_s"] = bench_load.median_of(loaded)["first_answer_s"]

    baseline = Baseline.load(out, torch_encoder(settings.model, threads=settings.threads))
    sample = questions[: options.latency_questions]
    log.info("bench: baseline warm latency")
    whole = bench_load.warm_latency(baseline.search, sample, repeats=options.repeats)
    _keep(result, "baseline", "latency", {"dense": whole, "lexical": None, "core": whole})

    async def ask(question: str) -> object:
        return await asyncio.to_thread(baseline.search, question)

    log.info("bench: baseline concurrent askers %s", options.levels)
    _keep(
        result,
        "baseline",
        "concurrency",
        bench_load.concurrency(
            ask, questions, levels=options.levels, total=options.requests, repeats=options.repeats
        ),
    )
    log.info("bench: baseline incremental update")
    source = _median_story(settings.corpus_dir)
    runs = []
    for _ in range(options.repeats):
        story = load_story(source)
        assert story is not None
        started = time.perf_counter()
        count = baseline.add([story], batch_size=settings.encode_batch_size)
        baseline.save(out)
        runs.append({"wall_s": time.perf_counter() - started, "embedded_passages": count})
    _keep(result, "baseline", "update", {**bench_load.median_of(runs), "story": source.name})
    return result


# -- build time against corpus size -----------------------------------------------------------


def build_vs_size(
    settings: RetrievalSettings,
    work: Path,
    options: BenchOptions,
    full: dict[str, Any],
    baseline_full: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """Full builds of evenly spread parts of the corpus (ours, and the baseline's)."""
    paths = list(iter_story_paths(settings.corpus_dir))
    counts = sorted({max(1, round(share * len(paths))) for share in options.sizes if share < 1})
    rows = []
    for count in [c for c in counts if c < len(paths)]:
        chosen = [paths[round(i * len(paths) / count)] for i in range(count)]
        part = work / "sizes" / str(count)
        ours = _settings(settings, _copy_stories(chosen, part / "corpus"), part / "data")
        log.info("bench: build of %d of %d stories", count, len(paths))
        row = {"stories": count, "ours": _with_rates(child("build", ours))}
        if options.baseline:
            row["baseline"] = _with_rates(
                child("baseline-build", ours, "--out", str(part / "baseline"))
            )
        log.info("bench result build_vs_size: %s", json.dumps(row))
        rows.append(row)
        shutil.rmtree(part, ignore_errors=True)
    last: dict[str, Any] = {"stories": full["stories"], "ours": full}
    if baseline_full is not None:
        last["baseline"] = baseline_full
    return [*rows, last]


# -- pieces -----------------------------------------------------------------------------------


def _keep(result: dict[str, Any], side: str, key: str, value: Any) -> None:
    """Store a figure and log it at once: a run cut short still leaves what it measured."""
    result[key] = value
    log.info("bench result %s %s: %s", side, key, json.dumps(value))


def child(command: str, settings: RetrievalSettings, *args: str) -> dict[str, Any]:
    """Run ``python -m retrieval.bench_child COMMAND`` and return its JSON result."""
    argv = [
        sys.executable,
        "-m",
        "retrieval.bench_child",
        command,
        "--settings",
        settings.model_dump_json(),
        *args,
    ]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench child {command} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - started, 3)
    return result


def cold_start(
    command: ColdStart, settings: RetrievalSettings, question: str, repeats: int
) -> dict[str, Any]:
    """Wall time of a fresh process from its start to its first answer (median of runs)."""
    argv, extra = command(settings, question)
    env = {**os.environ, **extra}
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"cold start {argv[0]} failed:\n{done.stderr[-4000:]}")
        runs.append({"wall_s": wall})
    shown = [Path(argv[0]).name, *(a for a in argv[1:] if not a.startswith("{"))]
    return {**bench_load.median_of(runs), "command": " ".join(shown)}


def _child_cold_start(
    settings: RetrievalSettings, question: str
) -> tuple[list[str], dict[str, str]]:
    argv = [
        sys.executable,
        "-m",
        "retrieval.bench_child",
        "load",
        "--settings",
        settings.model_dump_json(),
        "--question",
        question,
    ]
    return argv, {}


def load_questions(path: Path | None, *, limit: int = 2000, seed: int = 13) -> list[str]:
    """Questions from a JSONL file (a seeded sample of ``limit``), or the shipped general ones."""
    if path is None:
        from retrieval.calibration import background_questions

        return list(background_questions())[:limit]
    items = [q.question for q in read_questions(path)]
    if len(items) > limit:
        items = random.Random(seed).sample(items, limit)
    if not items:
        raise ValueError(f"{path} holds no questions")
    return items


def ratios(ours: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float | None]:
    """ours / baseline for every figure both have (times: below 1 is better)."""
    pairs = {
        "build_passages_per_s": ("build", "passages_per_s"),
        "build_words_per_s": ("build", "words_per_s"),
        "build_wall_s": ("build", "wall_s"),
        "build_peak_rss_mb": ("build", "peak_rss_mb"),
        "update_s": ("update", "wall_s"),
        "cold_start_s": ("cold_start", "wall_s"),
        "core_p50_ms": ("latency", "core", "p50_ms"),
        "core_p99_ms": ("latency", "core", "p99_ms"),
        "dense_p50_ms": ("latency", "dense", "p50_ms"),
    }
    out: dict[str, float | None] = {
        name: _ratio(_dig(ours, path), _dig(baseline, path)) for name, path in pairs.items()
    }
    out["rss_after_load_mb"] = _ratio(ours["rss_after_load_mb"], baseline["rss_after_load_mb"])
    for mine, theirs in zip(ours["concurrency"], baseline["concurrency"], strict=True):
        level = mine["askers"]
        out[f"qps_{level}"] = _ratio(mine["qps"], theirs["qps"])
        out[f"p99_ms_{level}"] = _ratio(mine["p99_ms"], theirs["p99_ms"])
    return out


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import psutil

    versions = store.library_versions(_LIBRARIES)
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "libraries": versions,
    }


def _synthetic(options: BenchOptions) -> dict[str, Any]:
    from retrieval.bench_synthetic import run as run_synthetic

    return run_synthetic(options.synthetic, options.synthetic_types)


def _with_rates(build: dict[str, Any]) -> dict[str, Any]:
    wall = build["wall_s"] or 1e-9
    return {
        **build,
        "passages_per_s": round(build["passages"] / wall, 1),
        "words_per_s": round(build["words"] / wall, 1),
    }


def _settings(base: RetrievalSettings, corpus: Path, data: Path) -> RetrievalSettings:
    """``base`` over ``corpus``, with a private data directory sharing the exported model."""
    data.mkdir(parents=True, exist_ok=True)
    models = base.data_dir / "models"
    link = data / "models"
    if models.is_dir() and not link.exists():
        link.symlink_to(models.resolve(), target_is_directory=True)
    return base.model_copy(update={"corpus_dir": corpus, "data_dir": data})


def _copy_stories(paths: Sequence[Path], target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy2(path, target / path.name)
        sidecar = path.with_suffix(".toml")
        if sidecar.is_file():
            shutil.copy2(sidecar, target / sidecar.name)
    return target


def _median_story(corpus: Path) -> Path:
    paths = sorted(iter_story_paths(corpus), key=lambda p: p.stat().st_size)
    return paths[len(paths) // 2]


def _count(corpus: Path) -> int:
    return sum(1 for _ in iter_story_paths(corpus))


@contextmanager
def _work_dir(chosen: Path | None, data_dir: Path) -> Iterator[Path]:
    if chosen is not None:
        if chosen.exists():
            shutil.rmtree(chosen)
        chosen.mkdir(parents=True)
        yield chosen
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=data_dir) as tmp:
        yield Path(tmp)


def _dig(values: dict[str, Any], path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(values, dict):
            return None
        values = values.get(key)  # type: ignore[assignment]
    return values


def _ratio(ours: Any, theirs: Any) -> float | None:
    if not isinstance(ours, (int, float)) or not isinstance(theirs, (int, float)) or not theirs:
        return None
    return round(ours / theirs, 3)


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
