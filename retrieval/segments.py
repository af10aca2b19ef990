"""One story's part of the stored index: a segment, written once and shared by generations.

A segment holds one story's passages, their vectors and sentence vectors, and what is
derived from its text once (term counts, folded words), so that an update analyses only
the stories it adds or changes::

    segments/<key>/
        passages.json         the passages (text, offsets, sentence spans)
        vectors.npy           one normalised vector per passage
        sentence_vectors.npy  one per sentence of each passage, in order
        terms.npy             the passages' term counts (retrieval.postings.TermCounts),
                              int32: row offsets, then term ids, then counts
        words.json            the terms' vocabulary and the story's folded words
                              (retrieval.vocabulary.StoryWords), each joined by newlines
        sentence_terms.txt    each sentence's search terms, a line per sentence in order
                              (retrieval.lexical.sentence_lines; since session 20)
        checksums.json        sha256 of the files above

Its name (``key``) is a hash of everything its content depends on (the build spec, the
story's id and its digest), so an unchanged story keeps its segment from one generation
to the next and an update writes only the segments of new or changed stories. A segment
is written into a temporary folder and renamed into place, so it is whole or absent.
Opening an index reads only its vectors (:func:`read_vectors`: straight into the index's
arrays, checked against the manifest's checksums as they are read); passages and
what is merged from the pieces come from the generation's own files (:mod:`retrieval.pack`).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.files import fsync
from retrieval.passages import Passage
from retrieval.postings import TermCounts
from retrieval.vocabulary import StoryWords

FOLDER = "segments"
VECTORS = "vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
PASSAGES = "passages.json"
TERMS = "terms.npy"
WORDS = "words.json"
SENTENCE_TERMS = "sentence_terms.txt"
CHECKSUMS = "checksums.json"
Pieces = tuple[TermCounts, StoryWords]
# A story's passages, their vectors and sentence vectors, term counts, words and the
# terms of its sentences (retrieval.lexical.sentence_lines).
Content = tuple[Sequence[Passage], np.ndarray, np.ndarray, TermCounts, StoryWords, str]


def segment_key(spec: dict[str, Any], story_id: str, digest: str) -> str:
    """The name of a story's segment: a hash of what its content depends on."""
    payload = json.dumps([spec, story_id, digest], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def write(directory: Path, key: str, content: Callable[[], Content]) -> dict[str, str]:
    """Write a story's segment under ``directory/segments`` unless it exists; its checksums.

    ``content`` gives the story's passages, their vectors, sentence vectors, term counts,
    words and sentence terms, asked for only when the segment is written.
    """
    folder = directory / FOLDER
    target = folder / key
    try:
        return checksums(target)  # written before: segments never change
    except (OSError, ValueError):
        pass
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=folder))
    try:
        passages, vectors, sentence_vectors, terms, words, sentence_terms = content()
        for name, array in ((VECTORS, vectors), (SENTENCE_VECTORS, sentence_vectors)):
            np.save(tmp / name, np.ascontiguousarray(array, np.float32), allow_pickle=False)
        flat = np.concatenate([terms.indptr, terms.ids, terms.counts]).astype(np.int32)
        np.save(tmp / TERMS, flat, allow_pickle=False)
        (tmp / WORDS).write_text(json.dumps(_words_to_json(terms, words)), encoding="utf-8")
        (tmp / SENTENCE_TERMS).write_text(sentence_terms, encoding="utf-8")
        text = json.dumps([_passage_to_json(p) for p in passages], ensure_ascii=False)
        (tmp / PASSAGES).write_text(text, encoding="utf-8")
        sums = {p.name: file_checksum(p) for p in sorted(tmp.iterdir())}
        (tmp / CHECKSUMS).write_text(json.dumps(sums, sort_keys=True))
        for path in tmp.iterdir():
            fsync(path)
        if target.exists():  # a stale or damaged copy: this one replaces it
            shutil.rmtree(target)
        tmp.rename(target)
        fsync(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sums


def checksums(folder: Path) -> dict[str, str]:
    """The checksums a segment was written with."""
    value = json.loads((folder / CHECKSUMS).read_text())
    if not isinstance(value, dict):
        raise ValueError(f"{folder.name}: checksums unreadable")
    return {str(k): str(v) for k, v in value.items()}


def read_vectors(
    folder: Path, expected: dict[str, str], vectors: np.ndarray, sentence_vectors: np.ndarray
) -> None:
    """Read a segment's passage and sentence vectors into ``vectors`` and ``sentence_vectors``
    (rows of the index's arrays, exactly as many as the segment holds).

    Each file is read once, straight into place, and checked against ``expected`` (the
    manifest's checksums) on the way: no second copy and no second read of 200 MB.
    Raises ``ValueError`` or ``OSError`` when a file is missing, of another shape or
    differs from its checksum; the damaged segment is deleted, so that a rebuild writes it.
    """
    try:
        for name, out in ((VECTORS, vectors), (SENTENCE_VECTORS, sentence_vectors)):
            _read_array(folder / name, expected[name], out)
    except (OSError, ValueError, KeyError):
        shutil.rmtree(folder, ignore_errors=True)
        raise


def read_pieces(folder: Path, expected: dict[str, str]) -> Pieces:
    """A segment's term counts and words (checked against ``expected``, the manifest's)."""
    try:
        for name in (TERMS, WORDS):
            if file_checksum(folder / name) != expected[name]:
                raise ValueError(f"{folder.name}/{name} is damaged (checksum differs)")
        raw = json.loads((folder / WORDS).read_text(encoding="utf-8"))
        flat = np.load(folder / TERMS, allow_pickle=False)
        passages = int(raw["passages"])
        indptr = flat[: passages + 1].astype(np.int64)
        used = int(indptr[-1])
        ids, counts = flat[passages + 1 : passages + 1 + used], flat[passages + 1 + used :]
        if len(indptr) != passages + 1 or len(counts) != used:
            raise ValueError(f"{folder.name}: term counts of another size")
        terms = TermCounts(tuple(_lines(raw["vocabulary"])), indptr, ids, counts)
        words = StoryWords(frozenset(_lines(raw["tokens"])), frozenset(_lines(raw["spelling"])))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return terms, words


def read_text(path: Path, checksum: str) -> str:
    """The text file ``path`` of a segment, if it matches ``checksum``; else ``ValueError``.

    Unlike the vectors, a damaged copy is left in place: what it holds (the sentences'
    terms) is worked out again from the passages whenever it is needed.
    """
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != checksum:
        raise ValueError(f"{path.parent.name}/{path.name} is damaged (checksum differs)")
    return data.decode("utf-8")


def _read_array(path: Path, checksum: str, out: np.ndarray) -> None:
    """Read the float32 ``.npy`` file ``path`` into ``out``, checking shape and checksum."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": out.shape}
    )
    expected_header = header.getvalue()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        found = handle.read(len(expected_header))
        if found != expected_header:
            raise ValueError(f"{path.parent.name}/{path.name}: not the shape the manifest says")
        digest.update(found)
        view = out.data.cast("B")
        if handle.readinto(view) != out.nbytes or handle.read(1):
            raise ValueError(f"{path.parent.name}/{path.name}: not the size the manifest says")
        digest.update(view)
    if digest.hexdigest() != checksum:
        raise ValueError(f"{path.parent.name}/{path.name} is damaged (checksum differs)")


def _words_to_json(terms: TermCounts, words: StoryWords) -> dict[str, object]:
    # Words joined by newlines (none holds one): one string each parses far faster
    # than lists of thousands of strings.
    return {
        "passages": terms.passages,
        "vocabulary": "\n".join(terms.vocabulary),
        "tokens": "\n".join(sorted(words.tokens)),
        "spelling": "\n".join(sorted(words.spelling)),
    }


def _lines(joined: str) -> list[str]:
    return joined.split("\n") if joined else []


def remove_unused(directory: Path, used: set[str]) -> None:
    """Delete the segments no generation in ``used`` refers to, and interrupted writes."""
    folder = directory / FOLDER
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name not in used:
            shutil.rmtree(path, ignore_errors=True)


def file_checksum(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _passage_to_json(passage: Passage) -> dict[str, Any]:
    return {
        "story_id": passage.story_id,
        "index": passage.index,
        "text": passage.text,
        "start": passage.start,
        "end": passage.end,
        "sentences": [[s.start, s.end] for s in passage.sentences],
    }
