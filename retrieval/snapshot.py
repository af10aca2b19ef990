"""The immutable view of the index that one search reads.

A :class:`Snapshot` is made once per index generation (at start and after a
reload that changed something) and replaced as a whole, so a search that started
on the old one finishes on it while new searches see the new one.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from retrieval import pack, segments, store, vocabulary
from retrieval.artists import ArtistMatcher
from retrieval.embedding import Encoder
from retrieval.lexical import LexicalIndex, indexed_text, read_sentence_lines, story_terms
from retrieval.passages import rows_by_story
from retrieval.related import WordNeighbours
from retrieval.results import StoryInfo
from retrieval.spelling import Speller
from retrieval.text import fold

# Passages whose sentences' search terms are kept, for choosing the best sentence quickly.
SENTENCE_TERMS_CACHED = 4096
# Stories whose stored sentence terms are kept read (squad-scale's: 17 KB of text each).
STORIES_TERMS_CACHED = 256
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one search reads: passages, vectors, lexical index, names, the no-answer bar."""

    data: store.IndexData
    lexical: LexicalIndex
    matcher: ArtistMatcher
    speller: Speller
    stories: dict[str, StoryInfo]
    # Passage ids of each story, in story order.
    passages_of: dict[str, np.ndarray]
    # The search terms of each sentence of a passage (by passage id), computed once per passage.
    sentence_terms: Callable[[int], tuple[frozenset[str], ...]]
    # Relevance an answer must reach (see retrieval.relevance); 1.0 until calibrated.
    min_dense: float = 1.0
    # The folded words of the stories' names, for reading Cyrillic names in Latin.
    name_words: frozenset[str] = frozenset()
    # The multilingual view, once its vectors are built (see retrieval.multilingual).
    multilingual: CrossLingual | None = None
    # Where the background questions' candidates are (retrieval.calibration.NullState), so
    # that an edit updates the bar instead of searching them all again; None: not known.
    null_state: object | None = None
    # The model's nearest words, for question words the stories never use (retrieval.related).
    neighbours: WordNeighbours | None = None

    def indexed_text(self, passage_id: int) -> str:
        """A passage's text as the lexical index sees it: with its story's names."""
        passage = self.data.passages[passage_id]
        return indexed_text(passage.text, self.stories[passage.story_id])

    def passage_terms(self, passage_id: int) -> frozenset[str]:
        """The search terms of :meth:`indexed_text`, from its sentences' (analysed once).

        Words never cross a sentence's bounds, so they are the terms of the whole text
        (checked on every seventh squad-scale passage, and by a test on the public slice),
        and a question's coverage check analyses no passage again.
        """
        passage = self.data.passages[passage_id]
        if not passage.sentences:
            return frozenset(self.lexical.analyze(self.indexed_text(passage_id)))
        story = self.stories[passage.story_id]
        names = self.lexical.analyze(indexed_text("", story))
        return frozenset(names).union(*self.sentence_terms(passage_id))


@dataclass(frozen=True, slots=True)
class CrossLingual:
    """What a non-English question is searched with: the e5 view of a snapshot and e5
    (built by :mod:`retrieval.multilingual`)."""

    view: Snapshot  # the snapshot with e5 vectors and the e5 no-answer bar
    encoder: Encoder
    seconds: float  # time spent embedding passages for it (0 when all were stored)


def make_snapshot(
    data: store.IndexData,
    encoder: Encoder,
    previous: Snapshot | None = None,
    neighbours: WordNeighbours | None = None,
) -> Snapshot:
    """The searchable view of ``data`` (lexical index, name matcher, speller), uncalibrated.

    The lexical index and the stories' words are those merged when ``data`` was saved
    (:mod:`retrieval.pack`); only data never saved has them computed from its passages.
    The speller is updated from ``previous``'s, if given (the snapshot this one replaces).
    ``neighbours`` are the model's nearest words (:mod:`retrieval.related`), if at hand.
    """
    stories = {info.story_id: info for info in data.stories}
    rows = rows_by_story(data.passages)
    derived = data.derived or _derive(data, rows)
    lexical = LexicalIndex(postings=derived.postings)

    stored = _StoredSentenceTerms(data, rows)

    @lru_cache(maxsize=SENTENCE_TERMS_CACHED)
    def sentence_terms(passage_id: int) -> tuple[frozenset[str], ...]:
        passage = data.passages[passage_id]
        lines = stored.lines(passage_id, passage.story_id)
        if lines is not None:
            return tuple(frozenset(line.split()) for line in lines)
        return tuple(frozenset(lexical.analyze(s.of(passage.text))) for s in passage.sentences)

    lexicon = vocabulary.folded(encoder.lexicon())
    name_words = {
        w for s in data.stories for n in s.names for w in re.findall(r"[^\W\d_]+", n.lower())
    }
    spelling = derived.words.spelling | vocabulary.spelling_words(name_words)
    return Snapshot(
        data=data,
        lexical=lexical,
        matcher=ArtistMatcher.folded(data.stories, derived.words.tokens, lexicon),
        speller=(
            previous.speller.updated(spelling, lexicon)
            if previous is not None
            else Speller.folded(spelling, lexicon)
        ),
        stories=stories,
        passages_of={k: np.array(v, dtype=np.int64) for k, v in rows.items()},
        sentence_terms=sentence_terms,
        name_words=frozenset(
            w for s in data.stories for n in s.names for w in re.findall(r"\w+", fold(n))
        ),
        neighbours=neighbours,
    )


class _StoredSentenceTerms:
    """The sentence terms a story's segment stores (:func:`retrieval.lexical.sentence_lines`),
    read on a question's first meeting with one of the story's passages.

    They are what analysing the sentences again would give, read instead of worked out:
    on squad-scale, a question new to the process spent 1.3 ms analysing the 44 sentences
    of the 7.8 passages it met first; read, such a question took 0.82 ms less at the
    median (docs/BENCHMARKS.md, session 20). A story whose file is missing, damaged or
    from another analysis (segments written before session 20) has them analysed.
    """

    def __init__(self, data: store.IndexData, rows: dict[str, list[int]]) -> None:
        self._data = data
        self._spans = {story_id: (ids[0], ids[-1] + 1) for story_id, ids in rows.items() if ids}
        # Not a bound method: a cycle would keep the data of a replaced snapshot, which
        # is frozen out of the collector's reach, alive (test_index).
        read = functools.partial(_read_story_lines, data, self._spans)
        self._story_lines = lru_cache(maxsize=STORIES_TERMS_CACHED)(read)

    def lines(self, passage_id: int, story_id: str) -> list[str] | None:
        """The lines of the sentences of ``passage_id`` (a passage of ``story_id``), if its
        story's are stored; else None."""
        lines = self._story_lines(story_id)
        if lines is None:
            return None
        offsets = self._data.sentence_offsets
        begin = int(offsets[passage_id] - offsets[self._spans[story_id][0]])
        return lines[begin : begin + int(offsets[passage_id + 1] - offsets[passage_id])]


def _read_story_lines(
    data: store.IndexData, spans: dict[str, tuple[int, int]], story_id: str
) -> list[str] | None:
    """The stored sentence lines of ``story_id``, if whole and of this analysis."""
    place = data.sentence_terms.get(story_id)
    span = spans.get(story_id)
    if place is None or span is None:
        return None
    count = int(data.sentence_offsets[span[1]] - data.sentence_offsets[span[0]])
    try:
        lines = read_sentence_lines(segments.read_text(*place), count)
    except (OSError, ValueError) as exc:  # a story removed since, or a damaged file
        log.info("sentence terms of %s not read (%s): analysed instead", story_id, exc)
        return None
    if lines is None:
        log.info("sentence terms of %s from another analysis: analysed instead", story_id)
    return lines


def _derive(data: store.IndexData, rows: dict[str, list[int]]) -> pack.Derived:
    """The lexical postings and words of ``data``'s stories, computed from their passages."""
    pieces = []
    for info in data.stories:
        texts = [data.passages[i].text for i in rows.get(info.story_id, [])]
        pieces.append((story_terms(info, texts), vocabulary.story_words(texts)))
    return pack.derive(pieces)
