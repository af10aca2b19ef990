"""Building the index: stories in, passages and their vectors out, reusing what did not change.

:func:`refresh` is what opening and reloading do: load the stored index, bring it up
to date with the corpus folder (only new or changed stories are split and embedded)
and save a new generation when anything changed. Persistence itself is
:mod:`retrieval.store`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from retrieval import pack, store, vocabulary
from retrieval import vectors as faiss_index
from retrieval.chunking import split_passages
from retrieval.corpus import Notices, Story, StoryCache, load_corpus, load_story
from retrieval.embedding import Encoder
from retrieval.files import folder_lock, write_json_atomic
from retrieval.lexical import story_terms
from retrieval.passage_vectors import embed_pooled, embed_whole
from retrieval.passages import Passage, join, rows_by_story, sentence_offsets
from retrieval.results import StoryInfo
from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)

# The corpus warnings already given, so each is said once per change of its file.
NOTICES_FILE = "corpus_warnings.json"


@dataclass(frozen=True, slots=True)
class UpdateReport:
    """What an index update did."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    embedded_passages: int = 0
    rebuilt: bool = False

    @property
    def touched(self) -> bool:
        """True when the index changed at all."""
        return bool(self.added or self.changed or self.removed or self.rebuilt)

    def describe(self) -> str:
        """One line for a log or a reply."""
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} "
            f"removed, {self.embedded_passages} passages embedded"
        )


def build_spec(settings: RetrievalSettings, encoder: Encoder) -> store.BuildSpec:
    """What an index built now with these settings and this encoder depends on."""
    return store.BuildSpec(
        model=settings.model,
        dimension=encoder.dimension,
        max_words=settings.max_words,
        max_tokens=encoder.max_tokens,
        index_type=settings.index_type,
        passage_vectors=settings.passage_vectors,
    )


def split_story(story: Story, spec: store.BuildSpec, encoder: Encoder) -> list[Passage]:
    """A story's passages, as a build with ``spec`` splits it."""
    return split_passages(
        story.story_id,
        story.text,
        max_words=spec.max_words,
        max_tokens=spec.max_tokens,
        count_tokens=encoder.count_tokens,
    )


def refresh(
    settings: RetrievalSettings,
    encoder: Encoder,
    index_dir: Path,
    *,
    previous: store.IndexData | None = None,
    progress: store.Progress | None = None,
    cache: StoryCache | None = None,
    overlay: Callable[[list[Story]], list[Story]] | None = None,
) -> tuple[store.IndexData, UpdateReport]:
    """Load the index in ``index_dir`` and update it to the corpus; save it if it changed.

    ``cache`` keeps the loaded stories between calls (see :class:`~retrieval.corpus.StoryCache`).
    ``overlay`` changes the stories read from the corpus before they are indexed: a story
    added or removed is indexed before its file moves (see :meth:`LiveIndex.edit`).
    """
    spec = build_spec(settings, encoder)
    with folder_lock(index_dir):
        if previous is None:
            try:
                previous = store.load(index_dir, spec)
            except store.IndexMismatch as exc:
                log.info("building the index: %s", exc)
        if previous is not None and previous.spec == spec:
            cache = cache if cache is not None else StoryCache()
            cache.learn(previous.stories, previous.digests)
        notices = Notices(_read_notices(index_dir / NOTICES_FILE))
        stories = load_corpus(settings.corpus_dir, cache=cache, notices=notices)
        if overlay is not None:
            stories = overlay(stories)
        if notices.said != notices.seen:
            write_json_atomic(index_dir / NOTICES_FILE, sorted(notices.said))
        data, report = build(
            stories,
            encoder,
            spec,
            previous=previous,
            batch_size=settings.encode_batch_size,
            progress=progress,
        )
        if report.touched or data.faiss_unsaved:
            store.save(data, index_dir)
    return data, report


def _read_notices(path: Path) -> list[str]:
    try:
        seen = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [str(key) for key in seen] if isinstance(seen, list) else []


def build(
    stories: Sequence[Story],
    encoder: Encoder,
    spec: store.BuildSpec,
    *,
    previous: store.IndexData | None = None,
    batch_size: int = 32,
    progress: store.Progress | None = None,
) -> tuple[store.IndexData, UpdateReport]:
    """Index ``stories``, reusing the vectors of stories unchanged since ``previous``."""
    reusable = previous if previous is not None and previous.spec == spec else None
    old_digests = reusable.digests if reusable else {}
    # The rows of unchanged stories in ``previous``; copied only if anything changed.
    kept: dict[str, list[int]] = {}
    if reusable is not None:
        old_rows = rows_by_story(reusable.passages)
        for story in stories:
            if old_digests.get(story.story_id) == story.digest and story.story_id in old_rows:
                kept[story.story_id] = old_rows[story.story_id]
    # A story the cache knew only from an index (no text; see StoryCache.learn) that must
    # be split after all (it was removed, then came back unchanged) is read again.
    stories = [
        s if s.text or s.story_id in kept else load_story(Path(s.info.path)) or s for s in stories
    ]
    fresh = [s for s in stories if s.story_id not in kept]
    same_rows = (
        reusable is not None
        and not fresh
        and [s.story_id for s in stories] == [info.story_id for info in reusable.stories]
    )
    if reusable is not None and same_rows:
        stored = {info.story_id: info for info in reusable.stories}
        same = [_with_count(s.info, stored[s.story_id].passages) for s in stories]
        if same == reusable.stories:
            return reusable, UpdateReport()  # nothing changed: no copy of the vectors
    new_passages = [passage for story in fresh for passage in split_story(story, spec, encoder)]
    if progress is not None and new_passages:
        progress(0, len(new_passages))  # the total, as soon as the stories are split
    embed = embed_whole if spec.passage_vectors == "whole" else embed_pooled
    new_vectors, new_sentence_vectors = embed(new_passages, encoder, batch_size, progress)
    new_offsets = sentence_offsets(new_passages)
    new_rows = rows_by_story(new_passages)

    new = _Source(new_passages, new_vectors, new_sentence_vectors, new_offsets)
    old = _Source.of(reusable) if reusable is not None else new
    parts = [
        (old, kept[s.story_id]) if s.story_id in kept else (new, new_rows.get(s.story_id, []))
        for s in stories
    ]
    passages = join((source.passages, rows) for source, rows in parts)
    offsets = sentence_offsets(passages)
    target = _Source(
        passages,
        faiss_index.empty_rows(len(passages), spec.dimension),
        faiss_index.empty_rows(int(offsets[-1]), spec.dimension),
        offsets,
    )
    first = 0
    for source, rows in parts:  # each story's rows copied into place: one copy of the arrays
        source.copy_into(target, rows, first)
        first += len(rows)
    if reusable is not None and same_rows:  # only the stories' details changed
        faiss, faiss_stored = reusable.faiss, reusable.faiss_stored
    else:
        like = reusable.faiss if reusable is not None else None
        faiss = faiss_index.build_index(target.vectors, spec.index_type, like=like)
        faiss_stored = False
    data = store.IndexData(
        spec=spec,
        stories=[
            _with_count(s.info, len(rows)) for s, (_, rows) in zip(stories, parts, strict=True)
        ],
        digests={s.story_id: s.digest for s in stories},
        passages=passages,
        vectors=target.vectors,
        sentence_vectors=target.sentence_vectors,
        sentence_offsets=target.sentence_offsets,
        faiss=faiss,
        faiss_stored=faiss_stored,
    )
    if reusable is not None and reusable.derived is not None:
        data.derived = _derived(reusable, reusable.derived, data, parts, old)
    current = {s.story_id for s in stories}
    report = UpdateReport(
        added=tuple(s.story_id for s in fresh if s.story_id not in old_digests),
        changed=tuple(s.story_id for s in fresh if s.story_id in old_digests),
        removed=tuple(sorted(set(old_digests) - current)),
        embedded_passages=len(new_passages),
        rebuilt=reusable is None,
    )
    return data, report


def _derived(
    previous: store.IndexData,
    derived: pack.Derived,
    data: store.IndexData,
    parts: Sequence[tuple[_Source, Sequence[int]]],
    old: _Source,
) -> pack.Derived:
    """The lexical postings and words of ``data`` from those of ``previous``: only the
    stories added and dropped are analysed (see :func:`retrieval.pack.update`)."""
    row_map = np.full(len(previous.passages), -1, dtype=np.int64)
    added, first, kept = [], 0, set()
    for info, (source, rows) in zip(data.stories, parts, strict=True):
        if source is old:
            row_map[rows] = np.arange(first, first + len(rows))
            kept.add(info.story_id)
        else:
            texts = [source.passages[i].text for i in rows]
            added.append((first, story_terms(info, texts), vocabulary.story_words(texts)))
        first += len(rows)
    dropped = [
        vocabulary.story_words([previous.passages[i].text for i in rows])
        for story_id, rows in rows_by_story(previous.passages).items()
        if story_id not in kept
    ]
    return pack.update(derived, row_map, added, dropped, len(data.passages))


@dataclass(frozen=True, slots=True)
class _Source:
    """Passages with their vectors, from which stories are copied into a new index."""

    passages: Sequence[Passage]
    vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_offsets: np.ndarray

    @classmethod
    def of(cls, data: store.IndexData) -> _Source:
        """The passages and vectors of ``data``."""
        return cls(data.passages, data.vectors, data.sentence_vectors, data.sentence_offsets)

    def copy_into(self, target: _Source, rows: Sequence[int], first: int) -> None:
        """Copy passages ``rows``' vectors (one story's) to ``target``'s rows from ``first``."""
        if not rows:
            return
        last = first + len(rows)
        begin, end = target.sentence_offsets[first], target.sentence_offsets[last]
        if rows[-1] - rows[0] + 1 == len(rows):  # together, as a story's passages are: slices
            a, b = rows[0], rows[-1] + 1
            target.vectors[first:last] = self.vectors[a:b]
            s, e = self.sentence_offsets[a], self.sentence_offsets[b]
            target.sentence_vectors[begin:end] = self.sentence_vectors[s:e]
            return
        target.vectors[first:last] = self.vectors[list(rows)]
        spans = [np.arange(self.sentence_offsets[i], self.sentence_offsets[i + 1]) for i in rows]
        target.sentence_vectors[begin:end] = self.sentence_vectors[np.concatenate(spans)]


def _with_count(info: StoryInfo, count: int) -> StoryInfo:
    return info if info.passages == count else replace(info, passages=count)
