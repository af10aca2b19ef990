"""One long story file: its progress, how honest the time left is, and answers meanwhile.

``python -m benchmarks.large_story --corpus DIR [--megabytes 5]`` joins the stories of
``DIR`` (sorted by name) into one file of at least that size, next to a copy of the
configured corpus in a temporary folder (sharing the configured data directory's exported
model, read only), and measures two things:

1. **The build with its bar**, as ``artistbot index`` runs it (:func:`Retriever.open`
   with a progress callback): each report drives a tqdm bar set up as the CLI's
   (:mod:`bot.progress`), writing nowhere, and the time left it would show is kept
   beside the time that was actually left.
2. **The running bot meanwhile**: the file taken out and put back, and
   :meth:`Retriever.reload` run in a worker thread (what ``/reload`` does) while a
   question goes through :meth:`Retriever.asearch`, the bots' path, every 0.2 s.

It prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT, load_settings
from retrieval import RetrievalSettings, Retriever
from retrieval.corpus import iter_story_paths

STORY_NAME = "long_biography.txt"
QUESTION = "What did Bakhyt Camara wear on stage?"  # the seed corpus answers it
ASK_EVERY_S = 0.2
# Points of the build at which the bar's estimate is reported (shares of its passages).
CHECKPOINTS = (0.02, 0.1, 0.25, 0.5, 0.75, 0.9)


def long_story(corpus: Path, megabytes: float) -> str:
    """The stories of ``corpus``, in name order, joined until ``megabytes`` are reached."""
    parts, size = [], 0
    for path in sorted(iter_story_paths(corpus)):
        text = path.read_text(encoding="utf-8").strip()
        parts.append(text)
        size += len(text.encode())
        if size >= megabytes * 1e6:
            break
    return "\n\n".join(parts) + "\n"


class EstimateLog:
    """A progress callback that keeps the time left a CLI bar would show at each report."""

    def __init__(self) -> None:
        from tqdm import tqdm

        # As bot.progress sets it up (unit, smoothing, refresh interval), drawn into a buffer.
        self._bar = tqdm(unit=" passages", file=io.StringIO())
        self._lock = threading.Lock()
        self.reports: list[tuple[float, int, int, float | None]] = []

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            bar = self._bar
            if bar.total != total:  # embedding starts: the CLI times the rate from here
                bar.reset(total=total)
            bar.update(done - bar.n)
            rate = bar.format_dict["rate"]
            left = (total - done) / rate if rate else None
            self.reports.append((time.perf_counter(), done, total, left))

    def close(self) -> None:
        self._bar.close()

    def summary(self, finished: float) -> list[dict[str, Any]]:
        """The estimate against what was left, at each of :data:`CHECKPOINTS`."""
        out = []
        for share in CHECKPOINTS:
            at = next(
                (r for r in self.reports if r[2] and r[1] >= share * r[2] and r[3] is not None),
                None,
            )
            if at is not None:
                moment, done, total, left = at
                out.append(
                    {
                        "done": round(done / total, 3),
                        "estimate_s": round(left or 0.0, 1),
                        "actual_s": round(finished - moment, 1),
                    }
                )
        return out


def measure_build(settings: RetrievalSettings, story: Path, text: str) -> dict[str, Any]:
    """Index the corpus with the long story in it as ``artistbot index`` does."""
    story.write_text(text, encoding="utf-8")
    log = EstimateLog()
    started = time.perf_counter()
    retriever = Retriever.open(settings, progress=log, warm_queries=False)
    finished = time.perf_counter()
    log.close()
    try:
        passages = len(retriever.index.snapshot.data.passages)
    finally:
        retriever.close()
    embedding_started = next((r[0] for r in log.reports if r[1] > 0), finished)
    return {
        "wall_s": round(finished - started, 1),
        "embedding_s": round(finished - embedding_started, 1),
        "index_passages": passages,
        "progress_reports": len(log.reports),
        "estimates": log.summary(finished),
    }


async def _ask_while(retriever: Retriever, reloading: asyncio.Task[Any]) -> dict[str, Any]:
    latencies, answered = [], 0
    while not reloading.done():
        started = time.perf_counter()
        answer = await retriever.asearch(QUESTION)
        latencies.append((time.perf_counter() - started) * 1e3)
        answered += answer.found
        await asyncio.sleep(ASK_EVERY_S)
    await reloading
    return {
        "asked": len(latencies),
        "answered": answered,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
    }


def measure_reload(settings: RetrievalSettings, story: Path, text: str) -> dict[str, Any]:
    """Put the long story back while the bot answers from the index without it."""
    story.unlink()
    # As the bots open it; opening brings the index up to the corpus without the story.
    retriever = Retriever.open(settings, freeze=True)
    try:
        before = len(retriever.index.snapshot.data.passages)
        story.write_text(text, encoding="utf-8")

        async def run() -> dict[str, Any]:
            started = time.perf_counter()
            reloading = asyncio.create_task(asyncio.to_thread(retriever.reload))
            meanwhile = await _ask_while(retriever, reloading)
            return {"wall_s": round(time.perf_counter() - started, 1), **meanwhile}

        result = asyncio.run(run())
        result["passages_before"] = before
        result["passages_after"] = len(retriever.index.snapshot.data.passages)
        return result
    finally:
        retriever.close()


def measure(
    configured: RetrievalSettings, corpus: Path, megabytes: float, work: Path
) -> dict[str, Any]:
    """Both measurements in ``work``, over a copy of the seed corpus (``configured``'s
    exported model shared, read only)."""
    shutil.copytree(PROJECT_ROOT / "corpus", work / "corpus")
    (work / "data").mkdir()
    models = configured.data_dir / "models"
    if models.is_dir():
        (work / "data" / "models").symlink_to(models.resolve(), target_is_directory=True)
    settings = configured.model_copy(
        update={"corpus_dir": work / "corpus", "data_dir": work / "data"}
    )
    before = Retriever.open(settings)  # the index a running bot had before the file came
    before.index.wait_multilingual()
    before.close()
    text = long_story(corpus, megabytes)
    story = settings.corpus_dir / STORY_NAME
    return {
        "story_bytes": len(text.encode()),
        "build": measure_build(settings, story, text),
        "reload_while_answering": measure_reload(settings, story, text),
    }


def main() -> None:
    """Parse the arguments, measure, print the JSON report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.large_story")
    parser.add_argument("--corpus", type=Path, required=True, help="stories to join")
    parser.add_argument("--megabytes", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="large-story-") as folder:
        report = measure(load_settings().retrieval, args.corpus, args.megabytes, Path(folder))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
