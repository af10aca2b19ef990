"""Lexical search: BM25 (bm25s) over stemmed, stopword-free terms."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import Stemmer

from retrieval.postings import Postings, TermCounts, count_terms, merge
from retrieval.results import StoryInfo
from retrieval.text import fold

_TERM = re.compile(r"\w+")
# bm25s's English stopwords (bm25s.stopwords.STOPWORDS_EN, checked equal by the tests),
# written out: importing bm25s for them pulled in scipy, 0.18 s of every start.
STOPWORDS_EN = (
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "but",
    "by",
    "for",
    "if",
    "in",
    "into",
    "is",
    "it",
    "no",
    "not",
    "of",
    "on",
    "or",
    "such",
    "that",
    "the",
    "their",
    "then",
    "there",
    "these",
    "they",
    "this",
    "to",
    "was",
    "will",
    "with",
)
# English clitics ("who's", "Talgat's", "didn't", "she'll"): left in, "s" and "t"
# would be terms matching every passage with a possessive or a negation in it.
_CLITIC = re.compile(r"(?<=\w)(?:n['’]t|['’](?:s|d|m|ll|ve|re))\b")
# Question words carry no topic; BM25 would otherwise reward passages that repeat them.
_STOPWORDS = frozenset(STOPWORDS_EN) | frozenset(
    [
        "what",
        "who",
        "whom",
        "whose",
        "which",
        "when",
        "where",
        "why",
        "how",
        "did",
        "does",
        "do",
        "was",
        "were",
        "is",
        "are",
        "tell",
        "me",
        "about",
        "anything",
        "know",
    ]
)


# Bumped when the analysis changes: what was computed from old terms is stale.
ANALYZER_VERSION = 2


# Short texts (single words, the stories' names) whose terms are kept (short_terms).
SHORT_TEXTS_CACHED = 16384


# Words whose terms an analyzer keeps, at about 160 bytes each (16 MB at most); the
# squad-scale corpus, the shipped eval sets and all their questions hold 77,708.
WORDS_CACHED = 100_000


class Analyzer:
    """Turns text into search terms: folded, stopwords dropped, Snowball-stemmed.

    Each word's term is kept once found (a stopword's as ""): a word is stemmed once, not
    at each of its occurrences, and a text whose words were all met before is read in one
    pass. The 49,974 lines of the squad-scale corpus, the shipped corpora and every eval
    question: 1.48 s instead of 2.35. Builds, updates and questions analyse text; where a
    segment does not store its sentences' terms (retrieval.snapshot), a question analyses
    those of each passage it is the first to meet: 300 such squad-scale questions, p50
    0.26-0.39 ms lower (docs/BENCHMARKS.md, session 20).
    """

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._terms: dict[str, str] = {}

    def __call__(self, text: str) -> list[str]:
        text = fold(text)
        if "'" in text or "’" in text:  # a clitic needs one
            text = _CLITIC.sub("", text)
        words = _TERM.findall(text)
        try:  # one pass when every word has been met before, as most have
            known = self._terms
            return [term for word in words if (term := known[word])]
        except KeyError:
            return self._learn(words)

    def _learn(self, words: list[str]) -> list[str]:
        """The terms of ``words``, some of them new: those are stemmed and kept."""
        known = self._terms
        new = [w for w in dict.fromkeys(words) if w not in known]
        if len(known) + len(new) > WORDS_CACHED:
            # A new table, not a cleared one: another thread may be reading this one.
            known = self._terms = {}
            new = list(dict.fromkeys(words))
        kept = [w for w in new if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]
        found = dict.fromkeys(new, "")
        found.update(zip(kept, self._stemmer.stemWords(kept), strict=True))
        known.update(found)  # each word with its term at once, for other threads
        return [term for word in words if (term := known[word])]


class LexicalIndex:
    """BM25 over passages; scores every passage for a question in one sparse pass.

    Built from per-story term counts (:mod:`retrieval.postings`), so that an update
    analyses only the stories it adds or changes; the idf is computed from the merged
    counts. Scores are bm25s's "lucene" BM25, which this index used to be built with.
    """

    def __init__(
        self,
        texts: Sequence[str] = (),
        *,
        counts: Sequence[TermCounts] | None = None,
        postings: Postings | None = None,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        """An index of ``texts``, or of the stories' term ``counts``, or of ``postings``
        already merged from them (:mod:`retrieval.pack`)."""
        self.analyze = Analyzer()
        self.k1 = k1
        if postings is None:
            postings = merge(counts if counts is not None else [count_terms(texts, self.analyze)])
        self._postings = postings
        self._vocab = self._postings.vocabulary
        lengths = self._postings.lengths
        self._size = len(lengths)
        mean = float(lengths.mean()) if self._size else 1.0
        # The length part of BM25's denominator, per passage: k1 * (1 - b + b * dl / avgdl).
        self._norm = (k1 * (1 - b + b * lengths / mean)).astype(np.float32)
        doc_freq = self._postings.doc_freq.astype(np.float64)
        # The idf of bm25s's "lucene" scoring, also for weighing terms outside BM25 itself.
        self._idf = np.log(1.0 + (self._size - doc_freq + 0.5) / (doc_freq + 0.5))
        self.max_idf = float(np.log(1.0 + (self._size + 0.5) / 0.5))

    def __len__(self) -> int:
        return self._size

    def terms(self, text: str) -> list[str]:
        """The question's terms that occur in the corpus, without repeats."""
        return [t for t in dict.fromkeys(self.analyze(text)) if t in self._vocab]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a known term (0 for unknown terms)."""
        index = self._vocab.get(term)
        return float(self._idf[index]) if index is not None else 0.0

    def weights(self, text: str) -> dict[str, float]:
        """Every distinct term of ``text`` with its idf, terms the corpus lacks included.

        A term no passage holds gets the idf of a term in none (:attr:`max_idf`): it is part
        of what was asked, and no passage can share it.
        """
        return {t: self.idf(t) if t in self._vocab else self.max_idf for t in self.analyze(text)}

    def scores(self, terms: Sequence[str], weights: Sequence[float] = ()) -> np.ndarray:
        """BM25 score of every passage for the given terms (a repeated term counts again).

        ``weights``, if given, scale each term's part (one per term; default 1).
        """
        out = np.zeros(self._size, dtype=np.float32)
        postings = self._postings
        for at, term in enumerate(terms):
            index = self._vocab.get(term)
            if index is None:
                continue
            begin, end = postings.starts[index], postings.starts[index + 1]
            rows, tf = postings.rows[begin:end], postings.counts[begin:end]
            idf = self._idf[index] * (weights[at] if weights else 1.0)
            out[rows] += np.float32(idf) * tf / (tf + self._norm[rows])
        return out


# Stories' term counts kept in memory, by content: a reload analyses only the stories it
# adds or changes (squad-scale's 434 stories take 3-4 s to analyse again). A cold start
# reads the merged postings the generation was saved with (retrieval.pack).
TERMS_CACHED = 8192
_terms: dict[str, TermCounts] = {}
_terms_lock = threading.Lock()
_analyze = Analyzer()


@lru_cache(maxsize=SHORT_TEXTS_CACHED)
def short_terms(text: str) -> tuple[str, ...]:
    """The terms of a short text analysed again and again: a question's words one by one,
    a named story's names (each 3-5 us to analyse, a lookup once kept)."""
    return tuple(_analyze(text))


def sentence_lines(sentences: Iterable[str]) -> str:
    """The search terms of each of ``sentences``, as a segment stores them: a first line
    naming the analysis, then one line per sentence, its distinct terms space-separated
    (no term holds a space; a sentence without terms is an empty line)."""
    lines = [" ".join(dict.fromkeys(_analyze(text))) for text in sentences]
    return "\n".join([_SENTENCE_LINES_HEADER, *lines])


def read_sentence_lines(text: str, count: int) -> list[str] | None:
    """The lines of :func:`sentence_lines`, if ``text`` holds ``count`` sentences analysed
    as this version analyses them; else None."""
    header, _, body = text.partition("\n")
    if header != _SENTENCE_LINES_HEADER:
        return None
    lines = body.split("\n") if count else []
    return lines if len(lines) == count and (count or not body) else None


_SENTENCE_LINES_HEADER = f"analyzer {ANALYZER_VERSION}"


def indexed_text(text: str, story: StoryInfo) -> str:
    """``text`` with its story's names: they are searchable in all of its passages."""
    return f"{story.artist} {story.band or ''} {text}"


def story_terms(story: StoryInfo, texts: Sequence[str]) -> TermCounts:
    """The term counts of one story's passages (``texts``), analysed once per content."""
    key = _terms_key(story, texts)
    with _terms_lock:
        known = _terms.get(key)
    if known is None:
        known = count_terms([indexed_text(t, story) for t in texts], _analyze)
        remember_terms(story, texts, known, key=key)
    return known


def remember_terms(
    story: StoryInfo, texts: Sequence[str], counts: TermCounts, *, key: str | None = None
) -> None:
    """Keep ``counts`` as the term counts of this story's passages (read from the store)."""
    key = key or _terms_key(story, texts)
    with _terms_lock:
        if len(_terms) >= TERMS_CACHED:
            _terms.pop(next(iter(_terms)))
        _terms[key] = counts


def _terms_key(story: StoryInfo, texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for piece in (str(ANALYZER_VERSION), story.artist, story.band or "", *texts):
        digest.update(piece.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()
