"""The retrieval facade: one question in, an :class:`~retrieval.results.Answer` out.

:class:`Retriever` ties together the live index (:mod:`retrieval.live`), the search
engine (:mod:`retrieval.engine`: analysis, hybrid ranking, the no-answer decision and
best sentences) and the batcher that embeds concurrent questions together
(:mod:`retrieval.batching`). The chat layer calls :meth:`Retriever.asearch`; the
command line and the evaluation call :meth:`Retriever.search`. Both run the same
engine.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Unpack

from retrieval.batching import QueryBatcher
from retrieval.corpus import Story
from retrieval.embedding import Encoder
from retrieval.engine import Engine, SearchArgs, SearchOptions
from retrieval.indexing import UpdateReport
from retrieval.library import REMOVED_DIR, StoryExists, StoryLibrary, StoryRejected
from retrieval.live import LiveIndex, OpenArgs
from retrieval.results import Answer, StoryChange, StoryInfo
from retrieval.settings import RetrievalSettings
from retrieval.transliteration import latinise


class Retriever:
    """Answers questions from the indexed stories. Thread-safe; a reload swaps the index."""

    def __init__(self, index: LiveIndex) -> None:
        self.index = index
        self.engine = Engine(index.settings, lambda: index.snapshot)
        # Embeds concurrent asearch questions in batches; its worker thread starts on first use.
        self.batcher = QueryBatcher(self.engine, index.encoder)
        self.library = StoryLibrary(
            index.settings.corpus_dir, index.settings.data_dir / REMOVED_DIR
        )

    @classmethod
    def open(cls, settings: RetrievalSettings, **options: Unpack[OpenArgs]) -> Retriever:
        """Load the persisted index, bringing it up to date with the corpus first.

        ``encoder``, ``index_dir`` and ``progress`` are those of :meth:`LiveIndex.open`.
        """
        return cls(LiveIndex.open(settings, **options))

    @property
    def settings(self) -> RetrievalSettings:
        """The retrieval settings."""
        return self.index.settings

    @property
    def encoder(self) -> Encoder:
        """The model questions and passages are embedded with."""
        return self.index.encoder

    def reload(self) -> UpdateReport:
        """Pick up added, changed and removed stories without a restart (incrementally)."""
        return self.index.reload()

    def add_story(self, data: bytes, name: str, *, replace: bool = False) -> StoryChange:
        """Add the story ``data`` tells as the file ``name`` (made safe), indexed on return.

        A story of the same file name is replaced only with ``replace`` (else
        :class:`~retrieval.library.StoryExists`), its old version kept aside. Raises
        :class:`~retrieval.library.StoryRejected` when ``data`` is no story, and
        :class:`~retrieval.library.IndexBusy` while another change is being indexed.
        """
        staged = self.library.stage(data, name)
        story_id = staged.story.story_id
        old = self.story(story_id)
        if old is not None and not replace:
            raise StoryExists(old)

        def overlay(stories: list[Story]) -> list[Story]:
            others = [s for s in stories if s.story_id != story_id]
            return sorted([*others, staged.story], key=lambda s: Path(s.info.path))

        kept, _ = self.index.edit(overlay, lambda: self.library.write(staged))
        story = self.story(story_id)
        assert story is not None  # indexed by the overlay
        return StoryChange(
            story=story,
            replaced=old,
            set_aside=tuple(str(path) for path in kept),
            stories=len(self.stories),
            digest=hashlib.sha256(data).hexdigest(),
            notes=staged.notes,
        )

    def remove_story(self, story_id: str) -> StoryChange:
        """Take the story ``story_id`` out of the index and the corpus (its files kept aside).

        Raises :class:`~retrieval.library.StoryRejected` when there is no such story.
        """
        story = self.story(story_id)
        if story is None:
            raise StoryRejected(f"there is no story {story_id}")

        def overlay(stories: list[Story]) -> list[Story]:
            return [s for s in stories if s.story_id != story_id]

        kept, _ = self.index.edit(overlay, lambda: self.library.remove(story_id))
        return StoryChange(
            story=story,
            set_aside=tuple(str(path) for path in kept),
            stories=len(self.stories),
            digest=hashlib.sha256(kept[0].read_bytes()).hexdigest(),
        )

    def rename_story(self, story_id: str, names: dict[str, object]) -> StoryChange:
        """Set who the story ``story_id`` is about: ``names`` has any of artist, band,
        aliases (a list) and title; they go to its metadata sidecar, the text stays."""
        old = self.story(story_id)
        if old is None:
            raise StoryRejected(f"there is no story {story_id}")
        staged = self.library.stage_names(old, names)

        def overlay(stories: list[Story]) -> list[Story]:
            return [staged.story if s.story_id == story_id else s for s in stories]

        self.index.edit(overlay, lambda: self.library.write_names(staged))
        story = self.story(story_id)
        assert story is not None
        return StoryChange(
            story=story,
            replaced=old,
            stories=len(self.stories),
            digest=hashlib.sha256(staged.data).hexdigest(),
        )

    def restore_story(self, name: str, *, replace: bool = False) -> StoryChange:
        """Add back the removed story file ``name`` (the newest kept version of it)."""
        original, data = self.library.kept(name)
        return self.add_story(data, original, replace=replace)

    @property
    def stories(self) -> tuple[StoryInfo, ...]:
        """Every indexed story, in corpus order."""
        return tuple(self.index.snapshot.stories.values())

    def story(self, story_id: str) -> StoryInfo | None:
        """The story with this id, if indexed."""
        return self.index.snapshot.stories.get(story_id)

    def find_stories(self, text: str) -> list[StoryInfo]:
        """Stories that ``text`` names by artist, band or alias, best match first."""
        snapshot = self.index.snapshot
        named = latinise(text, snapshot.name_words)  # Cyrillic names read in Latin letters
        return [snapshot.stories[sid] for sid, _ in snapshot.matcher.find(named)]

    def search(self, question: str, **options: Unpack[SearchArgs]) -> Answer:
        """Answer ``question`` with up to ``k`` passages, skipping the first ``offset``.

        ``story_id`` searches that story only ("more" for a follow-up's answer);
        ``prefer_story`` answers a question that names no story from that story when it
        holds something relevant, and from all stories otherwise (follow-up questions).
        """
        return self.engine.search(question, self.encoder, SearchOptions(**options))

    async def asearch(self, question: str, **options: Unpack[SearchArgs]) -> Answer:
        """:meth:`search` off the event loop; concurrent questions are embedded together.

        The question joins a queue; one worker thread embeds up to 32 queued questions in
        one encoder call and completes each (see :mod:`retrieval.batching`).
        """
        return await self.batcher.search(question, SearchOptions(**options))

    def close(self) -> None:
        """Stop the batcher's worker thread (questions already queued are answered)."""
        self.batcher.close()
