"""The persisted index: passages, their vectors, a FAISS index and a manifest.

Layout under the index directory::

    CURRENT            name of the live generation (replaced atomically)
    gen-<id>/          one complete build
        manifest.json  how it was built, per-story hashes, file checksums
        passages.json  stories and passages (text, offsets, sentence spans)
        vectors.npy    one normalised vector per passage
        sentence_vectors.npy  one per sentence of each passage, in order
        faiss.index    the FAISS index over those vectors

A build writes a new generation and only then points ``CURRENT`` at it, so a
build killed midway leaves the previous index loadable. Loading checks the
manifest against the expected settings and every file against its checksum;
anything that does not match is rebuilt, never served.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from retrieval import vectors as faiss_index
from retrieval.chunking import CHUNKER_VERSION, Passage, sentence_offsets
from retrieval.files import fsync, write_text_atomic
from retrieval.results import Span, StoryInfo

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
_LIBRARIES = ("faiss-cpu", "ftfy", "numpy", "bm25s", "onnxruntime", "sentence-transformers")
Progress = Callable[[int, int], None]


class IndexMismatch(Exception):
    """The stored index was built differently, or its files are damaged."""


@dataclass(frozen=True, slots=True)
class BuildSpec:
    """Everything an index depends on besides the stories themselves."""

    model: str
    dimension: int
    max_words: int
    max_tokens: int
    index_type: str
    sentence_vectors: str = "separate"
    chunker_version: int = CHUNKER_VERSION
    format_version: int = FORMAT_VERSION
    libraries: dict[str, str] = field(default_factory=lambda: library_versions())


@dataclass(slots=True)
class IndexData:
    """An index in memory: stories, passages and their vectors."""

    spec: BuildSpec
    stories: list[StoryInfo]
    digests: dict[str, str]
    passages: list[Passage]
    vectors: np.ndarray
    # One vector per sentence; passage i owns rows sentence_offsets[i]:sentence_offsets[i+1].
    sentence_vectors: np.ndarray
    sentence_offsets: np.ndarray
    faiss: Any = None

    def __post_init__(self) -> None:
        if self.faiss is None:
            self.faiss = faiss_index.build_index(self.vectors, self.spec.index_type)


def library_versions(names: Sequence[str] = _LIBRARIES) -> dict[str, str]:
    """Versions of ``names`` (by default the libraries the stored index depends on)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


# --- persistence ---------------------------------------------------------------------------


@contextlib.contextmanager
def build_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` so that one process builds it at a time."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "build.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save(data: IndexData, directory: Path) -> Path:
    """Write ``data`` as a new generation and make it the current one, atomically.

    Call it under :func:`build_lock`: it removes older generations and leftovers of
    interrupted builds.
    """
    directory.mkdir(parents=True, exist_ok=True)
    generation = directory / f"gen-{uuid.uuid4().hex[:12]}"
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=directory))
    try:
        np.save(tmp / "vectors.npy", data.vectors, allow_pickle=False)
        np.save(tmp / "sentence_vectors.npy", data.sentence_vectors, allow_pickle=False)
        faiss_index.write(data.faiss, str(tmp / "faiss.index"))
        payload = {
            "stories": [asdict(s) for s in data.stories],
            "passages": [_passage_to_json(c) for c in data.passages],
        }
        (tmp / "passages.json").write_text(json.dumps(payload, ensure_ascii=False))
        manifest = {
            "spec": asdict(data.spec),
            "stories": data.digests,
            "passages": len(data.passages),
            "files": {p.name: _checksum(p) for p in sorted(tmp.iterdir())},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        for path in tmp.iterdir():
            fsync(path)
        tmp.rename(generation)
        fsync(directory)
        write_text_atomic(directory / "CURRENT", generation.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _remove_old(directory, keep=generation.name)
    return generation


def load(directory: Path, spec: BuildSpec) -> IndexData:
    """Load the current generation; raise :class:`IndexMismatch` if it is absent or wrong."""
    try:
        name = (directory / "CURRENT").read_text().strip()
        generation = directory / name
        manifest = json.loads((generation / "manifest.json").read_text())
        stored = manifest["spec"]
        stored.setdefault("sentence_vectors", "separate")  # indexes made before the option
        if stored != json.loads(json.dumps(asdict(spec))):
            raise IndexMismatch(f"index was built with different settings: {_diff(stored, spec)}")
        for file_name, checksum in manifest["files"].items():
            if _checksum(generation / file_name) != checksum:
                raise IndexMismatch(f"{file_name} is damaged (checksum differs)")
        payload = json.loads((generation / "passages.json").read_text())
        vectors = np.load(generation / "vectors.npy", allow_pickle=False)
        sentence_vectors = np.load(generation / "sentence_vectors.npy", allow_pickle=False)
        faiss = faiss_index.read(str(generation / "faiss.index"))
        passages = [_passage_from_json(c) for c in payload["passages"]]
        stories = [_story_from_json(s) for s in payload["stories"]]
    except IndexMismatch:
        raise
    except FileNotFoundError as exc:
        raise IndexMismatch(f"no index yet ({exc.filename} missing)") from exc
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexMismatch(f"index unreadable: {exc}") from exc
    offsets = sentence_offsets(passages)
    if len(passages) != vectors.shape[0] or faiss.ntotal != len(passages):
        raise IndexMismatch("index files disagree on the number of passages")
    if sentence_vectors.shape[0] != offsets[-1]:
        raise IndexMismatch("index files disagree on the number of sentences")
    return IndexData(
        spec=spec,
        stories=stories,
        digests=dict(manifest["stories"]),
        passages=passages,
        vectors=vectors,
        sentence_vectors=sentence_vectors,
        sentence_offsets=offsets,
        faiss=faiss,
    )


def fingerprint(data: IndexData) -> str:
    """A short hash of what an index holds: its build spec and its stories' contents."""
    payload = json.dumps([asdict(data.spec), sorted(data.digests.items())], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _diff(stored: dict[str, Any], spec: BuildSpec) -> str:
    wanted = json.loads(json.dumps(asdict(spec)))
    keys = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
    return ", ".join(keys)


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


def _story_from_json(raw: dict[str, Any]) -> StoryInfo:
    return StoryInfo(**{**raw, "aliases": tuple(raw.get("aliases", ()))})


def _checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove_old(directory: Path, *, keep: str) -> None:
    for path in directory.iterdir():
        stale = path.name.startswith("gen-") and path.name != keep
        if stale or path.name.startswith(".building-"):
            shutil.rmtree(path, ignore_errors=True)
