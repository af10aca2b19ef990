"""The index a running bot searches: opened once, brought up to date, reloaded in place.

:class:`LiveIndex` owns the current :class:`~retrieval.snapshot.Snapshot`. A reload
re-reads only changed story files, embeds only new or changed stories, saves a new
generation and swaps the snapshot atomically; searches never wait for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypedDict, TypeVar

import numpy as np

from retrieval import relevance, store
from retrieval.corpus import Story, StoryCache
from retrieval.embedding import Encoder
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
    ) -> None:
        self.settings = settings
        self.encoder = encoder
        self.index_dir = index_dir or settings.data_dir / "index"
        self._background_vectors: np.ndarray | None = None
        self._snapshot = self._calibrated(data)
        self._reload_lock = threading.Lock()
        # Stories as last loaded, so that a reload repairs and analyses only changed files.
        self._loaded = loaded or StoryCache()

    @classmethod
    def open(
        cls,
        settings: RetrievalSettings,
        *,
        encoder: Encoder | None = None,
        index_dir: Path | None = None,
        progress: store.Progress | None = None,
    ) -> LiveIndex:
        """Load the persisted index, bringing it up to date with the corpus first."""
        encoder = encoder or open_encoder(settings)
        index_dir = index_dir or settings.data_dir / "index"
        loaded = StoryCache()
        data, report = refresh(settings, encoder, index_dir, progress=progress, cache=loaded)
        if report.touched:
            log.info("index updated: %s", report.describe())
        return cls(settings, encoder, data, index_dir=index_dir, loaded=loaded)

    @property
    def snapshot(self) -> Snapshot:
        """What searches read now (replaced as a whole by a reload)."""
        return self._snapshot

    def reload(self) -> UpdateReport:
        """Pick up added, changed and removed stories without a restart (incrementally)."""
        with self._reload_lock:
            return self._refresh()

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
            data, report = refresh(
                self.settings,
                self.encoder,
                self.index_dir,
                previous=self._snapshot.data,
                cache=self._loaded,
                overlay=overlay,
            )
            result = commit()
            if report.touched:
                self._snapshot = self._calibrated(data)
            return result, report
        finally:
            self._reload_lock.release()

    def _refresh(self) -> UpdateReport:
        data, report = refresh(
            self.settings,
            self.encoder,
            self.index_dir,
            previous=self._snapshot.data,
            cache=self._loaded,
        )
        if report.touched:
            self._snapshot = self._calibrated(data)
        return report

    def _calibrated(self, data: store.IndexData) -> Snapshot:
        snapshot = make_snapshot(data, self.encoder)
        bar = relevance.calibrate(
            snapshot, self.settings, self.encoder, self.index_dir, background=self._background
        )
        return replace(snapshot, min_dense=bar)

    def _background(self) -> np.ndarray:
        """The background questions' vectors, embedded once per process (not per reload)."""
        if self._background_vectors is None:
            self._background_vectors = relevance.background_vectors(self.encoder, self.settings)
        return self._background_vectors
