"""What the benchmark's parts share: fresh child processes, figures kept as they come."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.load import median_of
from retrieval.corpus import iter_story_paths
from retrieval.settings import RetrievalSettings

log = logging.getLogger("benchmarks")

# argv and extra environment that start a fresh process answering ``question`` over the
# index in ``settings.data_dir`` (the real ``artistbot ask``, handed in by the CLI).
ColdStart = Callable[[RetrievalSettings, str], tuple[list[str], dict[str, str]]]


DEFAULT_LEVELS = (1, 8, 64)
DEFAULT_SIZES = (0.25, 0.5, 1.0)
ADDED_STORY = "zzz-bench-added-story"
# Libraries whose versions the report records.
LIBRARIES = ("onnxruntime", "faiss-cpu", "torch", "sentence-transformers", "numpy", "bm25s")


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
    cold_start: ColdStart | None = None  # default: python -m benchmarks.child load


def keep(result: dict[str, Any], side: str, key: str, value: Any) -> None:
    """Store a figure and log it at once: a run cut short still leaves what it measured."""
    result[key] = value
    log.info("bench result %s %s: %s", side, key, json.dumps(value))


def child_argv(command: str, settings: RetrievalSettings, *args: str) -> list[str]:
    """The command line of ``python -m benchmarks.child COMMAND`` with these settings."""
    return [
        sys.executable,
        "-m",
        "benchmarks.child",
        command,
        "--settings",
        settings.model_dump_json(),
        *args,
    ]


def child(command: str, settings: RetrievalSettings, *args: str) -> dict[str, Any]:
    """Run ``python -m benchmarks.child COMMAND`` and return its JSON result."""
    argv = child_argv(command, settings, *args)
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
    """Wall time of a fresh process from its start to its first answer (median of runs).

    The answer is the first thing the command prints; the time to the process's exit
    (0.24-0.42 s later in session 14's runs, freeing what it loaded) is ``exit_s``.
    """
    argv, extra = command(settings, question)
    runs = []
    for _ in range(repeats):
        answered, exited, _ = timed_run(argv, extra)
        runs.append({"wall_s": answered, "exit_s": exited})
    shown = [Path(argv[0]).name, *(a for a in argv[1:] if not a.startswith("{"))]
    return {**median_of(runs), "command": " ".join(shown)}


def timed_run(argv: list[str], extra_env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``argv``: seconds to its first line of output, seconds to its exit, all it printed.

    The child's output is unbuffered, so its first line arrives when it is printed, not
    when the process exits; its error output goes to a file (a full pipe would stall it).
    """
    env = {**os.environ, **extra_env, "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=errors, text=True, env=env
        ) as process:
            assert process.stdout is not None
            first = process.stdout.readline()
            answered = time.perf_counter() - started
            rest = process.stdout.read()
        exited = time.perf_counter() - started  # leaving the block waited for the exit
        if process.returncode != 0 or not first:
            errors.seek(0)
            raise RuntimeError(f"{Path(argv[0]).name} failed:\n{errors.read()[-4000:]}")
    return answered, exited, first + rest


def child_cold_start(
    settings: RetrievalSettings, question: str
) -> tuple[list[str], dict[str, str]]:
    return child_argv("load", settings, "--question", question), {}


def with_rates(build: dict[str, Any]) -> dict[str, Any]:
    wall = build["wall_s"] or 1e-9
    rates = {
        **build,
        "passages_per_s": round(build["passages"] / wall, 1),
        "words_per_s": round(build["words"] / wall, 1),
    }
    if build.get("passage_only_per_s"):
        rates["of_passage_only"] = round(rates["passages_per_s"] / build["passage_only_per_s"], 3)
    return rates


def median_story(corpus: Path) -> Path:
    paths = sorted(iter_story_paths(corpus), key=lambda p: p.stat().st_size)
    return paths[len(paths) // 2]
