"""Progress a person sees while the index builds: tqdm bars on the terminal.

The English (MiniLM) index is built first, with a bar counting passages. The
multilingual (e5) vectors for Russian and Kazakh questions follow in the index's
background thread (:mod:`retrieval.live`); ``artistbot index`` waits for them with a
second bar and says how long they took, so the bots start with them stored.
Log lines are printed above the bars, never through them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import click

from bot.settings import Settings

if TYPE_CHECKING:
    from retrieval import Retriever

# How often the waiting main thread redraws the multilingual bar, in seconds.
REDRAW_SECONDS = 0.2


class Counter:
    """Passages done out of a total, reported by a worker thread, read by the main one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done = self.total = 0

    def __call__(self, done: int, total: int) -> None:
        """Record progress (the index's ``Progress`` callback)."""
        with self._lock:
            self.done, self.total = done, total

    def read(self) -> tuple[int, int]:
        """Passages done and the total, as last reported."""
        with self._lock:
            return self.done, self.total


def open_with_progress(
    settings: Settings,
    multilingual: Counter | None = None,
    *,
    questions: bool = True,
    serving: bool = False,
) -> Retriever:
    """Open the index with a bar counting the passages embedded, with the time left.

    ``multilingual``, when given, counts the multilingual vectors built afterwards;
    ``questions``: whether questions follow (the query model opens while the index loads);
    ``serving``: see :func:`bot.opening.open_retriever`.
    """
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from retrieval import Retriever
    from retrieval.models import export_needed

    if export_needed(settings.retrieval):
        click.echo("Preparing the model for this machine (once; about half a minute)…", err=True)
    with (
        logging_redirect_tqdm(),
        tqdm(unit=" passages", desc="reading stories", disable=None, leave=False) as bar,
    ):

        def report(done: int, total: int) -> None:
            if bar.total != total:  # embedding starts: time the rate (and the estimate) from here
                bar.set_description("indexing", refresh=False)
                bar.reset(total=total)
            bar.update(done - bar.n)

        return Retriever.open(
            settings.retrieval,
            progress=report,
            multilingual_progress=multilingual,
            warm_queries=questions,
            freeze=serving,
        )


def wait_for_multilingual(retriever: Retriever, counter: Counter) -> str:
    """Wait, with a bar, for the multilingual vectors; the line that says what they cost."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    index = retriever.index
    if not index.settings.multilingual_for(len(index.snapshot.data.passages)):
        return "multilingual vectors: off (retrieval.multilingual); questions in English only"
    description = "multilingual vectors (Russian, Kazakh; English is answered meanwhile)"
    with (
        logging_redirect_tqdm(),
        tqdm(unit=" passages", desc=description, disable=None, leave=False) as bar,
    ):
        while not index.wait_multilingual(REDRAW_SECONDS) and index.multilingual_building:
            done, total = counter.read()
            bar.total = total or None
            bar.update(done - bar.n)
    built = index.multilingual_result
    if built is None or index.snapshot.multilingual is None:
        return "multilingual vectors: not built (see above); non-English questions use English"
    if not built.embedded_passages:
        return f"multilingual vectors: up to date ({built.seconds:.1f} s)"
    return (
        f"multilingual vectors: {built.embedded_passages} passages and their sentences "
        f"embedded in {built.seconds:.1f} s"
    )
