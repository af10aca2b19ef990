"""The persisted index: passages, their vectors, a FAISS index and a manifest.

Layout under the index directory::

    CURRENT            name of the live generation (replaced atomically)
    gen-<id>/          one complete build
        manifest.json  how it was built, the stories (hashes, names) and their
                       segments in order, with every file's checksum
        faiss.index    the FAISS index, for approximate types (a flat one is
                       rebuilt from the vectors at load, faster than reading it)
    segments/<key>/    one story's passages and vectors (:mod:`retrieval.segments`),
                       shared by every generation that holds the story unchanged

An update writes the segments of new or changed stories, then a new generation, and
only then points ``CURRENT`` at it, so a build killed midway leaves the previous index
loadable; unused segments are removed after the switch. Loading checks the manifest
against the expected settings and every file against its checksum; anything that does
not match is rebuilt, never served.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
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

from retrieval import lexical, segments
from retrieval import vectors as faiss_index
from retrieval.chunking import CHUNKER_VERSION, Passage, rows_by_story, sentence_offsets
from retrieval.files import fsync, write_text_atomic
from retrieval.postings import TermCounts
from retrieval.results import StoryInfo

log = logging.getLogger(__name__)

# 3: stories stored as segments shared between generations (retrieval.segments).
FORMAT_VERSION = 3
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

    Only the segments of stories not stored yet are written (see :mod:`retrieval.segments`);
    the generation itself is a manifest naming its segments. Call it under
    :func:`build_lock`: it removes older generations, unused segments and leftovers of
    interrupted builds.
    """
    directory.mkdir(parents=True, exist_ok=True)
    spec = json.loads(json.dumps(asdict(data.spec)))
    rows = rows_by_story(data.passages)
    order: list[tuple[str, str, dict[str, str]]] = []
    for info in data.stories:
        key = segments.segment_key(spec, info.story_id, data.digests[info.story_id])
        ids = rows.get(info.story_id, [])
        sums = segments.write(
            directory,
            key,
            [data.passages[i] for i in ids],
            functools.partial(_story_arrays, data, info, ids),
        )
        order.append((info.story_id, key, sums))
    generation = directory / f"gen-{uuid.uuid4().hex[:12]}"
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=directory))
    try:
        files = {}
        if data.spec.index_type != "flat":  # a flat index is rebuilt from the vectors at once
            faiss_index.write(data.faiss, str(tmp / "faiss.index"))
            files["faiss.index"] = _checksum(tmp / "faiss.index")
        manifest = {
            "spec": spec,
            "stories": data.digests,
            "story_info": [asdict(s) for s in data.stories],
            "segments": order,
            "passages": len(data.passages),
            "sentences": int(data.sentence_offsets[-1]),
            "files": files,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
        for path in tmp.iterdir():
            fsync(path)
        tmp.rename(generation)
        fsync(directory)
        write_text_atomic(directory / "CURRENT", generation.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _remove_old(directory, keep=generation.name)
    segments.remove_unused(directory, {key for _, key, _ in order})
    return generation


def load(directory: Path, spec: BuildSpec) -> IndexData:
    """Load the current generation; raise :class:`IndexMismatch` if it is absent or wrong."""
    try:
        name = (directory / "CURRENT").read_text().strip()
        if not name.startswith("gen-"):
            raise IndexMismatch(f"no index yet (CURRENT names {name!r})")
        generation = directory / name
        manifest = json.loads((generation / "manifest.json").read_text())
        stored = manifest["spec"]
        if stored != json.loads(json.dumps(asdict(spec))):
            raise IndexMismatch(f"index was built with different settings: {_diff(stored, spec)}")
        for file_name, checksum in manifest["files"].items():
            if _checksum(generation / file_name) != checksum:
                raise IndexMismatch(f"{file_name} is damaged (checksum differs)")
        stories = [_story_from_json(s) for s in manifest["story_info"]]
        by_id = {info.story_id: info for info in stories}
        # Each segment is mapped, copied into its place and unmapped: one copy in memory.
        vectors = np.empty((manifest["passages"], spec.dimension), dtype=np.float32)
        sentence_vectors = np.empty((manifest["sentences"], spec.dimension), dtype=np.float32)
        passages: list[Passage] = []
        sentences = 0
        for story_id, key, sums in manifest["segments"]:
            found, mapped, sentence_mapped, terms = segments.read(
                directory / segments.FOLDER / key, sums
            )
            if len(passages) + len(found) > len(vectors):
                raise IndexMismatch("index files disagree on the number of passages")
            if sentences + len(sentence_mapped) > len(sentence_vectors):
                raise IndexMismatch("index files disagree on the number of sentences")
            vectors[len(passages) : len(passages) + len(found)] = mapped
            sentence_vectors[sentences : sentences + len(sentence_mapped)] = sentence_mapped
            sentences += len(sentence_mapped)
            passages.extend(found)
            lexical.remember_terms(by_id[story_id], [p.text for p in found], terms)
            del mapped, sentence_mapped
        faiss = None
        if "faiss.index" in manifest["files"]:
            faiss = faiss_index.read(str(generation / "faiss.index"))
    except IndexMismatch:
        raise
    except FileNotFoundError as exc:
        raise IndexMismatch(f"no index yet ({exc.filename} missing)") from exc
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexMismatch(f"index unreadable: {exc}") from exc
    if (
        len(passages) != len(vectors)
        or sentences != len(sentence_vectors)
        or (faiss is not None and faiss.ntotal != len(passages))
    ):
        raise IndexMismatch("index files disagree on the number of passages")
    return IndexData(
        spec=spec,
        stories=stories,
        digests=dict(manifest["stories"]),
        passages=passages,
        vectors=vectors,
        sentence_vectors=sentence_vectors,
        sentence_offsets=sentence_offsets(passages),
        faiss=faiss,
    )


def _story_arrays(
    data: IndexData, info: StoryInfo, ids: list[int]
) -> tuple[np.ndarray, np.ndarray, TermCounts]:
    """The vectors, sentence vectors and term counts of the passages ``ids`` (one story's)."""
    offsets = data.sentence_offsets
    flat = [np.arange(offsets[i], offsets[i + 1]) for i in ids]
    sentence_rows = np.concatenate(flat) if flat else np.empty(0, np.int64)
    terms = lexical.story_terms(info, [data.passages[i].text for i in ids])
    return data.vectors[ids], data.sentence_vectors[sentence_rows], terms


def fingerprint(data: IndexData) -> str:
    """A short hash of what an index holds: its build spec and its stories' contents."""
    payload = json.dumps([asdict(data.spec), sorted(data.digests.items())], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _diff(stored: dict[str, Any], spec: BuildSpec) -> str:
    wanted = json.loads(json.dumps(asdict(spec)))
    keys = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
    return ", ".join(keys)


def _story_from_json(raw: dict[str, Any]) -> StoryInfo:
    return StoryInfo(**{**raw, "aliases": tuple(raw.get("aliases", ()))})


def _checksum(path: Path) -> str:
    return segments.file_checksum(path)


def _remove_old(directory: Path, *, keep: str) -> None:
    for path in directory.iterdir():
        stale = path.name.startswith("gen-") and path.name != keep
        if stale or path.name.startswith(".building-"):
            shutil.rmtree(path, ignore_errors=True)
