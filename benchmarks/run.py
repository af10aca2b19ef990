"""``artistbot bench``: how fast the core builds, starts, answers and scales, against a baseline.

One run measures, for our core and for a plain baseline (whole paragraphs,
sentence-transformers on torch, a flat FAISS index, one question at a time; see
:mod:`benchmarks.baseline`):

* a full index build (in a fresh process): passages and words per second, wall time,
  peak memory; and builds of parts of the corpus, for build time against corpus size;
* an incremental update: one story added to the built index (what ``/reload`` does);
* a cold start: a fresh process to its first answer (and to its exit), from the
  persisted index, and its memory after loading;
* warm single-question latency (p50, p99) of the dense path, the lexical path and
  the whole core call;
* throughput and latency with 1, 8 and 64 concurrent chats through the chat service
  the adapters call (``ChatService.handle``, see :mod:`benchmarks.ours`), with the
  event loop's worst lateness; and the core's ``asearch`` and unbatched ``search`` beside it;
* optionally, a synthetic index of a million vectors, flat against HNSW and IVF.

Everything happens in a private work directory; the configured index is never
touched. Numbers are medians of ``repeats`` runs. The machine may be shared: the
report records its load average before and after.
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.baseline import measure_baseline
from benchmarks.common import LIBRARIES, BenchOptions, child, log, with_rates
from benchmarks.ours import measure_ours
from benchmarks.report import dig
from retrieval import store
from retrieval.corpus import iter_story_paths
from retrieval.evaluation import read_questions
from retrieval.models import open_encoder
from retrieval.settings import RetrievalSettings


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


# -- the baseline -----------------------------------------------------------------------------


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
        row = {"stories": count, "ours": with_rates(child("build", ours))}
        if options.baseline:
            row["baseline"] = with_rates(
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


def load_questions(path: Path | None, *, limit: int = 2000, seed: int = 13) -> list[str]:
    """Questions from a JSONL file (a seeded sample of ``limit``), or the shipped general ones."""
    if path is None:
        from retrieval.relevance import background_questions

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
        name: _ratio(dig(ours, path), dig(baseline, path)) for name, path in pairs.items()
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

    versions = store.library_versions(LIBRARIES)
    return {
        "cpu": _cpu_model(),
        **_cpu_kind(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "libraries": versions,
    }


def _synthetic(options: BenchOptions) -> dict[str, Any]:
    from benchmarks.synthetic import run as run_synthetic

    return run_synthetic(options.synthetic, options.synthetic_types)


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


def _ratio(ours: Any, theirs: Any) -> float | None:
    if not isinstance(ours, (int, float)) or not isinstance(theirs, (int, float)) or not theirs:
        return None
    return round(ours / theirs, 3)


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# The CPU's vector extensions, which ONNX Runtime chooses its int8 kernels by. Two VMs here
# named only "AMD EPYC" gave the int8 question model different speeds and the eval figures
# of the same code and libraries 1-2 questions apart (docs/BENCHMARKS.md, session 17).
VECTOR_EXTENSIONS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def _cpu_kind() -> dict[str, Any]:
    """The CPU's family and model numbers and its vector extensions (Linux only)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        return {}
    flags = set(fields.get("flags", "").split())
    return {
        "cpu_family_model": f"{fields.get('cpu family', '?')}/{fields.get('model', '?')}",
        "vector_extensions": [x for x in VECTOR_EXTENSIONS if x in flags],
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
