"""What a generation merges from its stories' segments, stored with it: one read to open.

Opening an index used to read every story's segment for its passages and term counts
and then merge them, and to fold every word of every passage for the name matcher and
the speller: 6.6 s for squad-scale's 434 stories. A generation now keeps the merged
result beside its manifest, written once when it is saved::

    gen-<id>/
        passages.json  every passage in index order, by columns
        postings.npz   the merged inverted index (retrieval.postings.Postings)
        words.json     its vocabulary and the stories' folded words, joined by newlines

:func:`derive` merges the stories' pieces (:func:`retrieval.segments.read_pieces`, or
those of stories just written); :func:`write` and :func:`read` store and load the result.
The files are checked against the manifest's checksums like the generation's others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from retrieval.passages import Passage, PassageTable, columns_of
from retrieval.postings import Postings, TermCounts, merge, rearrange
from retrieval.vocabulary import Holders, StoryWords

PASSAGES = "passages.json"
POSTINGS = "postings.npz"
WORDS = "words.json"
FILES = (PASSAGES, POSTINGS, WORDS)


@dataclass(frozen=True, slots=True)
class Derived:
    """What an index derives from its stories' texts: the lexical postings and folded words."""

    postings: Postings
    words: StoryWords
    holders: Holders  # how many stories hold each word: for updates


def derive(pieces: Sequence[tuple[TermCounts, StoryWords]]) -> Derived:
    """The merge of the stories' term counts and words (``pieces``, in index order)."""
    holders = Holders.count(words for _, words in pieces)
    return Derived(merge([terms for terms, _ in pieces]), holders.words, holders)


def update(
    old: Derived,
    row_map: np.ndarray,
    added: Sequence[tuple[int, TermCounts, StoryWords]],
    dropped: Sequence[StoryWords],
    rows: int,
) -> Derived:
    """``old`` for an updated index: its passages moved to rows ``row_map`` (-1: gone), the
    stories ``added`` (first row, term counts, words) in and those ``dropped`` out.

    The same as :func:`derive` over all the stories' pieces, without reading the pieces of
    the stories kept (:func:`retrieval.postings.rearrange`).
    """
    parts = [(first, terms) for first, terms, _ in added]
    holders = old.holders.changed(dropped, [words for _, _, words in added])
    return Derived(rearrange(old.postings, row_map, parts, rows), holders.words, holders)


def write(folder: Path, passages: Sequence[Passage], derived: Derived) -> None:
    """Write the generation's merged files into ``folder`` (a generation being built)."""
    postings = derived.postings
    np.savez(
        folder / POSTINGS,
        starts=postings.starts,
        rows=postings.rows,
        counts=postings.counts,
        lengths=postings.lengths,
    )
    (tokens, token_holders), (spelling, spelling_holders) = (
        derived.holders.tokens,
        derived.holders.spelling,
    )
    words = {
        "vocabulary": "\n".join(postings.vocabulary),
        "tokens": "\n".join(tokens),
        "token_holders": token_holders,
        "spelling": "\n".join(spelling),
        "spelling_holders": spelling_holders,
    }
    # orjson: at squad-scale the passages (15 MB) are written in 0.03 s instead of json's
    # 0.13 s, on every update, and read back in 0.055 s instead of 0.07 s.
    (folder / WORDS).write_bytes(orjson.dumps(words))
    (folder / PASSAGES).write_bytes(orjson.dumps(columns_of(passages)))


def read(folder: Path) -> tuple[PassageTable, Derived]:
    """The passages and merged files of the generation in ``folder`` (checked by the caller).

    Raises ``ValueError``, ``KeyError`` or ``OSError`` when they are unreadable.
    """
    passages = PassageTable.of_columns(orjson.loads((folder / PASSAGES).read_bytes()))
    words = orjson.loads((folder / WORDS).read_bytes())
    vocabulary = _lines(words["vocabulary"])
    with np.load(folder / POSTINGS, allow_pickle=False) as stored:
        postings = Postings(
            {term: i for i, term in enumerate(vocabulary)},
            stored["starts"],
            stored["rows"],
            stored["counts"],
            stored["lengths"],
        )
    if len(postings.starts) != len(vocabulary) + 1 or len(postings.lengths) != len(passages):
        raise ValueError("postings.npz: of another size than the index")
    holders = Holders(
        (_lines(words["tokens"]), words["token_holders"]),
        (_lines(words["spelling"]), words["spelling_holders"]),
    )
    if any(len(a) != len(b) for a, b in (holders.tokens, holders.spelling)):
        raise ValueError("words.json: words and their holders of different numbers")
    return passages, Derived(postings, holders.words, holders)


def _lines(joined: str) -> list[str]:
    return joined.split("\n") if joined else []
