"""One story's part of the stored index: a segment, written once and shared by generations.

A segment holds one story's passages, their vectors and their sentence vectors::

    segments/<key>/
        passages.json         the passages (text, offsets, sentence spans)
        vectors.npy           one normalised vector per passage
        sentence_vectors.npy  one per sentence of each passage, in order
        terms.npz             the passages' term counts (retrieval.postings.TermCounts)
        checksums.json        sha256 of the files above

Its name (``key``) is a hash of everything its content depends on (the build spec, the
story's id and its digest), so an unchanged story keeps its segment from one generation
to the next and an update writes only the segments of new or changed stories. A segment
is written into a temporary folder and renamed into place, so it is whole or absent.
Loading maps the arrays (``mmap_mode="r"``) instead of reading them into buffers.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.chunking import Passage
from retrieval.files import fsync
from retrieval.postings import TermCounts
from retrieval.results import Span

FOLDER = "segments"
_ARRAYS = ("vectors.npy", "sentence_vectors.npy")
CHECKSUMS = "checksums.json"
TERMS = "terms.npz"


def segment_key(spec: dict[str, Any], story_id: str, digest: str) -> str:
    """The name of a story's segment: a hash of what its content depends on."""
    payload = json.dumps([spec, story_id, digest], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def write(
    directory: Path,
    key: str,
    passages: Sequence[Passage],
    arrays: Callable[[], tuple[np.ndarray, np.ndarray, TermCounts]],
) -> dict[str, str]:
    """Write a story's segment under ``directory/segments`` unless it exists; its checksums.

    ``arrays`` gives the passages' vectors, sentence vectors and term counts, asked for
    only when the segment is written.
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
        vectors, sentence_vectors, terms = arrays()
        for name, array in zip(_ARRAYS, (vectors, sentence_vectors), strict=True):
            np.save(tmp / name, np.ascontiguousarray(array, np.float32), allow_pickle=False)
        np.savez(
            tmp / TERMS,
            vocabulary=np.array(terms.vocabulary, dtype=str),
            indptr=terms.indptr,
            ids=terms.ids,
            counts=terms.counts,
        )
        text = json.dumps([_passage_to_json(p) for p in passages], ensure_ascii=False)
        (tmp / "passages.json").write_text(text, encoding="utf-8")
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


def read(
    folder: Path, expected: dict[str, str]
) -> tuple[list[Passage], np.ndarray, np.ndarray, TermCounts]:
    """A segment's passages, its two arrays (mapped from disk) and its term counts.

    Every file is checked against ``expected`` (the manifest's checksums).

    Raises ``ValueError`` or ``OSError`` when a file is missing, differs from its checksum
    or the files disagree; the damaged segment is deleted, so that a rebuild writes it again.
    """
    try:
        if checksums(folder) != expected:
            raise ValueError(f"{folder.name}: checksums differ from the manifest's")
        for name, checksum in expected.items():
            if file_checksum(folder / name) != checksum:
                raise ValueError(f"{folder.name}/{name} is damaged (checksum differs)")
        raw = json.loads((folder / "passages.json").read_text(encoding="utf-8"))
        passages = [_passage_from_json(item) for item in raw]
        vectors, sentence_vectors = (
            np.load(folder / name, mmap_mode="r", allow_pickle=False) for name in _ARRAYS
        )
        with np.load(folder / TERMS, allow_pickle=False) as stored:
            terms = TermCounts(
                tuple(stored["vocabulary"].tolist()),
                stored["indptr"],
                stored["ids"],
                stored["counts"],
            )
        sentences = sum(len(p.sentences) for p in passages)
        if (
            len(vectors) != len(passages)
            or len(sentence_vectors) != sentences
            or (terms.passages != len(passages))
        ):
            raise ValueError(f"{folder.name}: files disagree on the number of passages")
    except (OSError, ValueError, KeyError, TypeError):
        shutil.rmtree(folder, ignore_errors=True)  # so that the rebuild writes it again
        raise
    return passages, vectors, sentence_vectors, terms


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


def _passage_from_json(raw: dict[str, Any]) -> Passage:
    return Passage(
        story_id=raw["story_id"],
        index=raw["index"],
        text=raw["text"],
        start=raw["start"],
        end=raw["end"],
        sentences=tuple(Span(a, b) for a, b in raw["sentences"]),
    )
