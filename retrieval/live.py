"""The index a running bot searches: opened once, brought up to date, reloaded in place.

:class:`LiveIndex` owns the current :class:`~retrieval.snapshot.Snapshot`. A reload
re-reads only changed story files, embeds only new or changed stories, saves a new
generation and swaps the snapshot atomically; searches never wait for it.

The multilingual vectors (:mod:`retrieval.multilingual`) are built after that, in a
background thread: English answers never wait for them, and a non-English question is
searched in English until they are in (:meth:`LiveIndex.wait_multilingual`).

A long-running bot opens the index with ``freeze=True``: each snapshot, once swapped in,
is moved out of the cyclic garbage collector's reach (:func:`gc.freeze`). A full
collection otherwise walks all of its objects, holding the GIL while it does: at
squad-scale 74-95 ms in the batcher's thread, the event loop stalled meanwhile; 16-32 ms
frozen. An old snapshot is still freed when its last search ends (by reference counts:
it holds no reference cycles).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypedDict, TypeVar

from retrieval import calibration, multilingual, related, store, threads
from retrieval.corpus import Story, StoryCache
from retrieval.embedding import Encoder, QueryWarming
from retrieval.indexing import UpdateReport, refresh
from retrieval.library import IndexBusy
from retrieval.models import open_encoder
from retrieval.settings import RetrievalSettings
from retrieval.snapshot import Snapshot, make_snapshot

log = logging.getLogger(__name__)

T = TypeVar("T")


class OpenArgs(TypedDict, total=False):
    """The optional keyword arguments of :meth:`LiveIndex.open`."""

    encoder: Encoder | None
    index_dir: Path | None
    progress: store.Progress | None
    multilingual_progress: store.Progress | None
    warm_queries: bool
    freeze: bool


class LiveIndex:
    """The current snapshot of one index folder, with its no-answer bar calibrated."""

    def __init__(
        self,
        settings: RetrievalSettings,
        encoder: Encoder,
        data: store.IndexData,
        *,
        index_dir: Path | None = None,
        loaded: StoryCache | None = None,
        multilingual_progress: store.Progress | None = None,
        freeze: bool = False,
    ) -> None:
        self.settings = settings
        self.encoder = encoder
        self.index_dir = index_dir or settings.data_dir / "index"
        self._freeze = freeze
        self._neighbours = related.for_model(encoder.name)
        self._snapshot = self._calibrated(data)
        self._settle()
        self._reload_lock = threading.Lock()
        # Stories as last loaded, so that a reload repairs and analyses only changed files.
        self._loaded = loaded or StoryCache()
        self._e5: Encoder | None = None
        self._ml_progress = multilingual_progress
        self._ml_thread: threading.Thread | None = None
        self._ml_lock = threading.Lock()
        # What the last multilingual build did (passages embedded, seconds), once it is done.
        self.multilingual_result: multilingual.BuildResult | None = None
        self._start_multilingual()

    @classmethod
    def open(
        cls,
        settings: RetrievalSettings,
        *,
        encoder: Encoder | None = None,
        index_dir: Path | None = None,
        progress: store.Progress | None = None,
        multilingual_progress: store.Progress | None = None,
        warm_queries: bool = True,
        freeze: bool = False,
    ) -> LiveIndex:
        """Load the persisted index, bringing it up to date with the corpus first.

        The multilingual vectors follow in a background thread (``multilingual_progress``
        counts their passages); the index answers English questions meanwhile. With
        ``warm_queries`` (questions follow) the query model opens in a thread while the
        index loads, and numpy's BLAS and the GIL are set for questions once it is loaded
        (see :mod:`retrieval.threads`). With ``freeze`` every snapshot swapped in is kept out of
        garbage collections (see the module's docstring): for a process that serves, not
        for tests or scripts that open many indexes.
        """
        encoder = encoder or open_encoder(settings)
        if warm_queries:
            # Not a daemon: a process ending while ONNX Runtime opens a session aborts.
            threading.Thread(target=_warm_queries, args=(encoder,), name="open-query-model").start()
        index_dir = index_dir or settings.data_dir / "index"
        loaded = StoryCache()
        data, report = refresh(settings, encoder, index_dir, progress=progress, cache=loaded)
        if report.touched:
            log.info("index updated: %s", report.describe())
        live = cls(
            settings,
            encoder,
            data,
            index_dir=index_dir,
            loaded=loaded,
            multilingual_progress=multilingual_progress,
            freeze=freeze,
        )
        if warm_queries:
            threads.for_questions()
        return live

    @property
    def snapshot(self) -> Snapshot:
        """What searches read now (replaced as a whole by a reload)."""
        return self._snapshot

    def reload(self) -> UpdateReport:
        """Pick up added, changed and removed stories without a restart (incrementally)."""
        with self._reload_lock:
            data, report = self._update()
            self._serve(data, report)
            return report

    def edit(
        self, overlay: Callable[[list[Story]], list[Story]], commit: Callable[[], T]
    ) -> tuple[T, UpdateReport]:
        """Index the corpus as ``overlay`` changes it, then ``commit`` the change to the folder.

        The new index generation is saved before ``commit`` moves any file, and searched
        only after: a build that fails (or is killed) leaves the corpus folder and the index
        as they were. Raises :class:`~retrieval.library.IndexBusy` rather than wait while
        another edit or reload runs.
        """
        if not self._reload_lock.acquire(blocking=False):
            raise IndexBusy()
        try:
            data, report = self._update(overlay)
            result = commit()
            self._serve(data, report)
            return result, report
        finally:
            self._reload_lock.release()

    def _update(
        self, overlay: Callable[[list[Story]], list[Story]] | None = None
    ) -> tuple[store.IndexData, UpdateReport]:
        """The index brought up to the corpus (as ``overlay`` changes it) and saved."""
        return refresh(
            self.settings,
            self.encoder,
            self.index_dir,
            previous=self._snapshot.data,
            cache=self._loaded,
            overlay=overlay,
        )

    def _serve(self, data: store.IndexData, report: UpdateReport) -> None:
        """Searches read ``data`` from now on, if the update changed anything."""
        if report.touched:
            self._snapshot = self._calibrated(data, self._snapshot)
            self._settle()
            self._start_multilingual()

    def _settle(self) -> None:
        """Keep what is alive now (the snapshot just swapped in) out of collections."""
        if self._freeze:
            gc.collect(1)  # young garbage first: what is frozen is never collected
            gc.freeze()

    @property
    def multilingual_building(self) -> bool:
        """Whether the multilingual vectors are being built (non-English is searched in English)."""
        thread = self._ml_thread
        return thread is not None and thread.is_alive()

    def wait_multilingual(self, timeout: float | None = None) -> bool:
        """Wait for the multilingual vectors; whether the multilingual path is ready."""
        thread = self._ml_thread
        if thread is not None:
            thread.join(timeout)
        return self._snapshot.multilingual is not None

    def _start_multilingual(self) -> None:
        if not self.settings.multilingual_for(len(self._snapshot.data.passages)):
            return
        thread = threading.Thread(
            target=self._build_multilingual,
            args=(self._snapshot.data,),
            name="multilingual-vectors",
            daemon=True,
        )
        self._ml_thread = thread
        thread.start()

    def _build_multilingual(self, data: store.IndexData) -> None:
        """Embed the passages with e5 and swap in the multilingual view (a worker thread)."""
        try:
            with self._ml_lock:
                if self._e5 is None:
                    from retrieval.e5_encoder import shared_encoder

                    self._e5 = shared_encoder()
                built = multilingual.build_vectors(
                    data,
                    self._e5,
                    self.index_dir,
                    progress=self._ml_progress,
                )
                self.multilingual_result = built
                snapshot = self._snapshot
                if snapshot.data is not data:
                    return  # a reload replaced the index; its own build follows
                cross = multilingual.cross_lingual(
                    snapshot,
                    built,
                    self._e5,
                    self.index_dir,
                    null_quantile=self.settings.null_quantile,
                    candidates=self.settings.candidates,
                    min_coverage=self.settings.min_coverage,
                )
                if self._snapshot is snapshot:
                    self._snapshot = replace(snapshot, multilingual=cross)
                    self._settle()
            log.info(
                "multilingual vectors ready: %d passages embedded in %.1f s",
                built.embedded_passages,
                built.seconds,
            )
        except Exception:
            log.exception("multilingual vectors failed; non-English questions stay in English")

    def _calibrated(self, data: store.IndexData, previous: Snapshot | None = None) -> Snapshot:
        """The snapshot of ``data`` with its no-answer bar (updated from ``previous``'s)."""
        snapshot = make_snapshot(data, self.encoder, previous, self._neighbours)
        return calibration.calibrated(
            snapshot, self.settings, self.encoder, self.index_dir, previous=previous
        )


def _warm_queries(encoder: Encoder) -> None:
    """Open what the first question needs: the query model and the model's word table."""
    if isinstance(encoder, QueryWarming):
        encoder.open_query_model()
    neighbours = related.for_model(encoder.name)
    if neighbours is not None:
        neighbours.warm()  # logs, never raises: without it questions are searched as asked
