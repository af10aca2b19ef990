"""The retrieval facade: one question in, an :class:`~retrieval.results.Answer` out.

Ranking is hybrid. Dense candidates come from FAISS (cosine of normalised
MiniLM vectors), lexical candidates from BM25; for their union both scores are
computed exactly and fused as a convex combination of the cosine and the BM25
score scaled by the best BM25 score. Passages from a story the question names
(artist, band or alias, typo-tolerant) get a boost. When even the best few passages
are weak, the answer is an honest "no answer".
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from retrieval import calibration, store
from retrieval import vectors as faiss_index
from retrieval.artists import ArtistMatcher
from retrieval.batching import QueryBatcher
from retrieval.corpus import StoryCache, load_corpus
from retrieval.embedding import Encoder, load_encoder
from retrieval.files import write_json_atomic
from retrieval.lexical import ANALYZER_VERSION, LexicalIndex
from retrieval.results import Answer, Hit, Span, StoryInfo
from retrieval.settings import RetrievalSettings
from retrieval.spelling import Speller
from retrieval.text import fold

log = logging.getLogger(__name__)

NO_MATCH = "nothing in the stories matches this question closely enough"
UNKNOWN_STORY = "that story is not in the index (any more)"
EMPTY_QUESTION = "the question has no words to search for"
# Weight of the passage's cosine against its best sentence's when judging relevance.
RELEVANCE_PASSAGE_WEIGHT = 0.5
# Weight of shared words (share of the question's idf) against cosine, choosing the best sentence.
SENTENCE_TERM_WEIGHT = 0.3
# An answer is given when one of this many best passages is relevant enough (one page).
RELEVANCE_DEPTH = 3
# Passages considered for one answer (enough for several pages of "more").
MAX_RESULTS = 30
# Passages whose sentences' search terms are kept, for choosing the best sentence quickly.
SENTENCE_TERMS_CACHED = 4096


@dataclass(frozen=True, slots=True)
class _State:
    """Everything one search reads; replaced as a whole on reload."""

    data: store.IndexData
    lexical: LexicalIndex
    matcher: ArtistMatcher
    speller: Speller
    stories: dict[str, StoryInfo]
    rows_by_story: dict[str, np.ndarray]
    # The search terms of each sentence of a passage (by row), computed once per passage.
    sentence_terms: Callable[[int], tuple[frozenset[str], ...]]
    # Dense score an answer must reach (see retrieval.calibration).
    min_dense: float = 1.0


@dataclass(frozen=True, slots=True)
class _Query:
    """What a question is searched as: spelling corrected, names found, names removed.

    A question that names a story is ranked by the rest of its words (``rest``): the
    names already chose the story (boost), and would make all its passages look alike.
    """

    searched: str
    mentioned: list[tuple[StoryInfo, float]]
    rest: str | None

    @property
    def texts(self) -> tuple[str, ...]:
        """The texts to embed: the question as searched, and its rest if any."""
        return (self.searched, self.rest) if self.rest else (self.searched,)


class Retriever:
    """Answers questions from the indexed stories. Thread-safe; reload swaps state atomically."""

    def __init__(
        self,
        settings: RetrievalSettings,
        encoder: Encoder,
        data: store.IndexData,
        *,
        index_dir: Path | None = None,
        loaded: StoryCache | None = None,
    ):
        self.settings = settings
        self.encoder = encoder
        self._index_dir = index_dir or settings.data_dir / "index"
        self._state = self._calibrated(_make_state(data, encoder))
        self._reload_lock = threading.Lock()
        # Stories as last loaded, so that a reload repairs and analyses only changed files.
        self._loaded = loaded or StoryCache()
        # Embeds concurrent asearch questions in batches; its worker thread starts on first use.
        self._batcher = QueryBatcher(self)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        settings: RetrievalSettings,
        *,
        encoder: Encoder | None = None,
        index_dir: Path | None = None,
        progress: store.Progress | None = None,
    ) -> Retriever:
        """Load the persisted index, bringing it up to date with the corpus first."""
        encoder = encoder or open_encoder(settings)
        index_dir = index_dir or settings.data_dir / "index"
        loaded = StoryCache()
        data, report = refresh(settings, encoder, index_dir, progress=progress, cache=loaded)
        if report.touched:
            log.info("index updated: %s", _describe(report))
        return cls(settings, encoder, data, index_dir=index_dir, loaded=loaded)

    def reload(self) -> store.UpdateReport:
        """Pick up added, changed and removed stories without a restart (incrementally)."""
        with self._reload_lock:
            data, report = refresh(
                self.settings,
                self.encoder,
                self._index_dir,
                previous=self._state.data,
                cache=self._loaded,
            )
            if report.touched:
                self._state = self._calibrated(_make_state(data, self.encoder))
            return report

    def _calibrated(self, state: _State) -> _State:
        """``state`` with its no-answer threshold, from the cache next to the index or computed."""
        settings = self.settings
        if settings.min_dense is not None:
            return state  # a fixed threshold needs no calibration
        key = json.dumps(
            {
                "index": store.fingerprint(state.data),
                "background": calibration.background_digest(),
                "quantile": settings.null_quantile,
                "queries": [settings.backend, settings.query_precision],
                "relevance_weight": RELEVANCE_PASSAGE_WEIGHT,
                "cap": calibration.MAX_THRESHOLD,
                "candidates": settings.candidates,
                "analyzer": ANALYZER_VERSION,
            },
            sort_keys=True,
        )
        cache = self._index_dir / "calibration.json"
        try:
            cached = json.loads(cache.read_text())
            if cached.get("key") == key:
                return replace(state, min_dense=float(cached["min_dense"]))
        except (OSError, ValueError, KeyError, TypeError):
            pass

        def top_scores(questions: list[str], vectors: np.ndarray) -> np.ndarray:
            return np.array(
                [self._null_score(state, q, v) for q, v in zip(questions, vectors, strict=True)],
                dtype=np.float32,
            )

        def encode(texts: list[str]) -> np.ndarray:
            return self.encoder.encode_queries(texts, batch_size=settings.encode_batch_size)

        threshold = calibration.null_threshold(top_scores, encode, settings.null_quantile)
        if self._index_dir.is_dir():
            write_json_atomic(cache, {"key": key, "min_dense": threshold})
        log.info("no-answer threshold calibrated: dense %.3f", threshold)
        return replace(state, min_dense=threshold)

    def _null_score(self, state: _State, question: str, vector: np.ndarray) -> float:
        """Best relevance of a background question; NaN when the index answers it by terms."""
        _, ids = faiss_index.search(state.data.faiss, vector, self.settings.candidates)
        if len(ids) == 0:
            return float("nan")
        relevance = self._dense(state, ids, vector, RELEVANCE_PASSAGE_WEIGHT)
        best = int(np.argmax(relevance))
        passage = state.data.passages[int(ids[best])]
        text = _indexed_text(passage.text, state.stories[passage.story_id])
        if self.coverage(question, text, state) >= self.settings.min_coverage:
            return float("nan")
        return float(relevance[best])

    # -- queries ----------------------------------------------------------------------------

    @property
    def stories(self) -> tuple[StoryInfo, ...]:
        """Every indexed story, in corpus order."""
        return tuple(self._state.stories.values())

    def story(self, story_id: str) -> StoryInfo | None:
        """The story with this id, if indexed."""
        return self._state.stories.get(story_id)

    def find_stories(self, text: str) -> list[StoryInfo]:
        """Stories that ``text`` names by artist, band or alias, best match first."""
        state = self._state
        return [state.stories[sid] for sid, _ in state.matcher.find(text)]

    def search(
        self,
        question: str,
        *,
        k: int | None = None,
        offset: int = 0,
        story_id: str | None = None,
        vectors: Mapping[str, np.ndarray] | None = None,
    ) -> Answer:
        """Answer ``question`` with up to ``k`` passages, skipping the first ``offset``.

        ``story_id`` restricts the search to one story (follow-up questions).
        ``vectors`` lets a caller that embeds questions in batches pass in the vectors of
        :meth:`query_texts`; any text missing from it is embedded here.
        """
        started = time.perf_counter()
        state = self._state
        k = k or self.settings.top_k
        question = question.strip()
        if not any(c.isalnum() for c in question):
            return Answer(question=question, reason=EMPTY_QUESTION)
        if story_id is not None and story_id not in state.rows_by_story:
            return Answer(question=question, reason=UNKNOWN_STORY)
        query = self._query(state, question)
        searched, mentioned, rest = query.searched, query.mentioned, query.rest
        corrected = searched if searched != question else None
        terms = state.lexical.terms(searched)
        t0 = time.perf_counter()
        known = dict(vectors or {})
        missing = [t for t in query.texts if t not in known]
        if missing:
            known.update(zip(missing, self.encoder.encode_queries(missing), strict=True))
        vector = known[searched]
        # A question that names a story is ranked by the rest of its words (see _Query).
        ranking_vector = known[rest] if rest else vector
        t1 = time.perf_counter()
        ranked = self._rank(
            state, ranking_vector, terms, mentioned, story_id, whole=vector if rest else None
        )
        t2 = time.perf_counter()
        timings = {"embed": (t1 - t0) * 1e3, "rank": (t2 - t1) * 1e3}
        mentions = tuple(info for info, _ in mentioned)
        named = bool(mentioned) and story_id is None
        if not any(
            self._relevant(row, searched, vector, state, named=named)
            for row, *_ in ranked[:RELEVANCE_DEPTH]
        ):
            timings["total"] = (time.perf_counter() - started) * 1e3
            return Answer(
                question=question,
                mentioned=mentions,
                reason=NO_MATCH,
                corrected=corrected,
                timings_ms=timings,
            )
        page = ranked[offset : offset + k]
        hits = tuple(
            self._hit(state, row, (fused, dense, lex), terms, ranking_vector)
            for row, fused, dense, lex in page
        )
        timings["total"] = (time.perf_counter() - started) * 1e3
        return Answer(
            question=question,
            hits=hits,
            mentioned=mentions,
            remaining=max(0, len(ranked) - offset - len(page)),
            corrected=corrected,
            timings_ms=timings,
        )

    def query_texts(self, question: str) -> tuple[str, ...]:
        """The texts :meth:`search` embeds for ``question`` (for callers that batch them)."""
        return self._query(self._state, question.strip()).texts

    def _query(self, state: _State, question: str) -> _Query:
        searched = state.speller.correct(question)
        mentioned = [(state.stories[s], q) for s, q in state.matcher.find(searched)]
        rest = (
            _without_names(searched, [info for info, _ in mentioned])
            if mentioned and self.settings.rank_without_names
            else None
        )
        return _Query(searched, mentioned, rest)

    async def asearch(self, question: str, **options: object) -> Answer:
        """:meth:`search` off the event loop; concurrent questions are embedded in batches.

        The question joins a queue; one worker thread embeds up to 32 queued questions in
        one encoder call and ranks each (see :mod:`retrieval.batching`).
        """
        return await self._batcher.search(question, **options)

    def encode_question(self, question: str) -> np.ndarray:
        """The question's normalised vector."""
        return np.asarray(
            self.encoder.encode_queries([question], batch_size=1)[0], dtype=np.float32
        )

    # -- ranking ---------------------------------------------------------------------------

    def _rank(
        self,
        state: _State,
        vector: np.ndarray,
        terms: list[str],
        mentioned: Sequence[tuple[StoryInfo, float]],
        story_id: str | None,
        *,
        whole: np.ndarray | None = None,
    ) -> list[tuple[int, float, float, float]]:
        """Candidates by fused score: ``(row, fused, dense, lexical)``, best first.

        ``vector`` ranks; when it is the question without the names it mentions, ``whole``
        (the question as asked) keeps ``settings.named_question_weight`` of the dense score.
        """
        settings = self.settings
        if mentioned:
            # The names chose the story (see the boost below); the other words choose the passage.
            names = {
                t for info, _ in mentioned for n in info.names for t in state.lexical.analyze(n)
            }
            terms = [t for t in terms if t not in names]
        lexical = state.lexical.scores(terms)
        if story_id is not None and story_id in state.rows_by_story:
            candidates = state.rows_by_story[story_id]
        else:
            _, dense_ids = faiss_index.search(state.data.faiss, vector, settings.candidates)
            lexical_ids = (
                np.argpartition(-lexical, min(settings.candidates, len(lexical) - 1))[
                    : settings.candidates
                ]
                if len(lexical)
                else np.empty(0, dtype=np.int64)
            )
            lexical_ids = lexical_ids[lexical[lexical_ids] > 0]
            boosted = [state.rows_by_story[info.story_id] for info, _ in mentioned[:1]]
            candidates = np.unique(np.concatenate([dense_ids, lexical_ids, *boosted]))
        if len(candidates) == 0:
            return []
        dense = self._dense(state, candidates, vector)
        if whole is not None and settings.named_question_weight > 0:
            weight = settings.named_question_weight
            dense = (1 - weight) * dense + weight * self._dense(state, candidates, whole)
        lex = lexical[candidates]
        if settings.lexical_scale == "query":
            # Share of the most this question could score: one common word counts for little.
            top = sum(state.lexical.idf(t) for t in terms) * (state.lexical.k1 + 1)
        else:
            top = float(lex.max()) if len(lex) else 0.0
        lex_scaled = lex / top if top > 0 else np.zeros_like(lex)
        fused = settings.dense_weight * dense + (1 - settings.dense_weight) * lex_scaled
        if mentioned and story_id is None:
            best = mentioned[0][1]
            named = {
                info.story_id: quality for info, quality in mentioned if quality >= best - 0.05
            }
            owners = [state.data.passages[row].story_id for row in candidates]
            fused = fused + np.array(
                [settings.artist_boost * named.get(o, 0.0) for o in owners], dtype=np.float32
            )
        order = np.argsort(-fused, kind="stable")[:MAX_RESULTS]
        return [
            (int(candidates[i]), float(fused[i]), float(dense[i]), float(lex[i])) for i in order
        ]

    def _dense(
        self,
        state: _State,
        candidates: np.ndarray,
        vector: np.ndarray,
        passage_weight: float | None = None,
    ) -> np.ndarray:
        """Cosine of each candidate passage blended with that of its best sentence.

        Ranking leans on the best sentence (``settings.passage_weight``); deciding whether
        anything is relevant at all weighs both equally (:data:`RELEVANCE_PASSAGE_WEIGHT`),
        because the best of many sentences flatters unrelated questions too.
        """
        data = state.data
        passage = data.vectors[candidates] @ vector
        starts, ends = data.sentence_offsets[candidates], data.sentence_offsets[candidates + 1]
        rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)])
        sims = data.sentence_vectors[rows] @ vector
        segment = np.concatenate([[0], np.cumsum(ends - starts)[:-1]])
        best_sentence = np.maximum.reduceat(sims, segment)
        weight = self.settings.passage_weight if passage_weight is None else passage_weight
        return np.asarray(weight * passage + (1 - weight) * best_sentence, dtype=np.float32)

    def coverage(self, question: str, text: str, state: _State | None = None) -> float:
        """Share of the question's term weight (idf) that ``text`` contains.

        Terms the corpus has never seen count with the highest idf, so a question
        about things the stories never mention covers little.
        """
        state = state or self._state
        terms = list(dict.fromkeys(state.lexical.analyze(question)))
        if not terms:
            return 0.0
        present = set(state.lexical.analyze(text))
        weights = [state.lexical.idf(t) or state.lexical.max_idf for t in terms]
        found = sum(w for t, w in zip(terms, weights, strict=True) if t in present)
        return found / sum(weights)

    def _relevant(
        self, row: int, question: str, vector: np.ndarray, state: _State, *, named: bool
    ) -> bool:
        """Whether the best passage is worth showing, or the answer is "no answer"."""
        settings = self.settings
        relevance = float(self._dense(state, np.array([row]), vector, RELEVANCE_PASSAGE_WEIGHT)[0])
        if named and relevance >= settings.min_dense_floor:
            return True  # it names one of our artists or bands: in scope by definition
        threshold = settings.min_dense if settings.min_dense is not None else state.min_dense
        if relevance >= max(threshold, settings.min_dense_floor):
            return True
        passage = state.data.passages[row]
        text = _indexed_text(passage.text, state.stories[passage.story_id])
        return relevance >= settings.min_dense_with_terms and (
            self.coverage(question, text, state) >= settings.min_coverage
        )

    def _hit(
        self,
        state: _State,
        row: int,
        scores: tuple[float, float, float],
        terms: list[str],
        vector: np.ndarray,
    ) -> Hit:
        chunk = state.data.passages[row]
        fused, dense, lexical = scores
        return Hit(
            text=chunk.text,
            story=state.stories[chunk.story_id],
            score=fused,
            best_sentence=self._best_sentence(state, row, terms, vector),
            dense_score=dense,
            lexical_score=lexical,
            passage_id=row,
            start=chunk.start,
            end=chunk.end,
        )

    def _best_sentence(self, state: _State, row: int, terms: list[str], vector: np.ndarray) -> Span:
        """The sentence closest in meaning to the question, helped by the words it shares."""
        chunk = state.data.passages[row]
        if not chunk.sentences:
            return Span(0, len(chunk.text))
        offsets = state.data.sentence_offsets
        similarity = state.data.sentence_vectors[offsets[row] : offsets[row + 1]] @ vector
        weights = {t: state.lexical.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        overlap = np.array(
            [
                sum(weights[t] for t in present.intersection(weights)) / total
                for present in state.sentence_terms(row)
            ]
        )
        score = similarity + SENTENCE_TERM_WEIGHT * overlap
        return chunk.sentences[int(np.argmax(score))]


def open_encoder(settings: RetrievalSettings) -> Encoder:
    """The encoder the settings ask for."""
    return load_encoder(
        settings.model,
        backend=settings.backend,
        data_dir=settings.data_dir,
        threads=settings.threads,
        query_precision=settings.query_precision,
    )


def build_spec(settings: RetrievalSettings, encoder: Encoder) -> store.BuildSpec:
    """What an index built now with these settings and this encoder depends on."""
    return store.BuildSpec(
        model=settings.model,
        dimension=encoder.dimension,
        max_words=settings.max_words,
        max_tokens=encoder.max_tokens,
        index_type=settings.index_type,
    )


def refresh(
    settings: RetrievalSettings,
    encoder: Encoder,
    index_dir: Path,
    *,
    previous: store.IndexData | None = None,
    progress: store.Progress | None = None,
    cache: StoryCache | None = None,
) -> tuple[store.IndexData, store.UpdateReport]:
    """Load the index in ``index_dir`` and update it to the corpus; save it if it changed.

    ``cache`` keeps the loaded stories between calls (see :class:`~retrieval.corpus.StoryCache`).
    """
    spec = build_spec(settings, encoder)
    with store.build_lock(index_dir):
        return _refresh_locked(settings, encoder, index_dir, spec, previous, progress, cache)


def _refresh_locked(
    settings: RetrievalSettings,
    encoder: Encoder,
    index_dir: Path,
    spec: store.BuildSpec,
    previous: store.IndexData | None,
    progress: store.Progress | None,
    cache: StoryCache | None,
) -> tuple[store.IndexData, store.UpdateReport]:
    if previous is None:
        try:
            previous = store.load(index_dir, spec)
        except store.IndexMismatch as exc:
            log.info("building the index: %s", exc)
    stories = load_corpus(settings.corpus_dir, cache=cache)
    data, report = store.build(
        stories,
        encoder,
        spec,
        previous=previous,
        batch_size=settings.encode_batch_size,
        progress=progress,
    )
    if report.touched:
        store.save(data, index_dir)
    return data, report


def _make_state(data: store.IndexData, encoder: Encoder) -> _State:
    stories = {info.story_id: info for info in data.stories}
    lexical = LexicalIndex([_indexed_text(p.text, stories[p.story_id]) for p in data.passages])
    rows: dict[str, list[int]] = {}
    for row, passage in enumerate(data.passages):
        rows.setdefault(passage.story_id, []).append(row)

    @lru_cache(maxsize=SENTENCE_TERMS_CACHED)
    def sentence_terms(row: int) -> tuple[frozenset[str], ...]:
        chunk = data.passages[row]
        return tuple(frozenset(lexical.analyze(span.of(chunk.text))) for span in chunk.sentences)

    vocabulary = {w for p in data.passages for w in p.text.lower().split()}
    lexicon = encoder.lexicon()
    words = {w for p in data.passages for w in re.findall(r"[^\W\d_]+", p.text.lower())}
    words |= {w for s in data.stories for n in s.names for w in re.findall(r"[^\W\d_]+", n.lower())}
    return _State(
        data=data,
        lexical=lexical,
        matcher=ArtistMatcher(data.stories, vocabulary=vocabulary, lexicon=lexicon),
        speller=Speller(words, lexicon),
        stories=stories,
        rows_by_story={k: np.array(v, dtype=np.int64) for k, v in rows.items()},
        sentence_terms=sentence_terms,
    )


def _without_names(question: str, stories: Sequence[StoryInfo]) -> str | None:
    """The question without the words of the stories' names, if at least two words remain."""
    names = {w for story in stories for n in story.names for w in re.findall(r"\w+", fold(n))}
    rest = [w for w in re.findall(r"[\w'’]+", question) if _bare(w) not in names]
    return " ".join(rest) if len(rest) >= 2 and len(rest) < len(question.split()) else None


def _bare(word: str) -> str:
    return re.sub(r"['’]s$", "", fold(word))


def _indexed_text(text: str, story: StoryInfo) -> str:
    # The story's names are searchable in all of its passages, not only where they occur.
    return f"{story.artist} {story.band or ''} {text}"


def _describe(report: store.UpdateReport) -> str:
    return (
        f"{len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} "
        f"removed, {report.embedded_passages} passages embedded"
    )
