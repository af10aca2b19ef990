"""The persisted index: passages, their vectors, a FAISS index and a manifest.

Layout under the index directory::

    CURRENT            name of the live generation (replaced atomically)
    gen-<id>/          one complete build
        manifest.json  how it was built, the stories (hashes, names) and their
                       segments in order, with every file's checksum
        faiss.index    the FAISS index, for the types that train or link (the
                       exact ones are rebuilt from the vectors at load, faster than
                       reading them)
    segments/<key>/    one story's passages and vectors (:mod:`retrieval.segments`),
                       shared by every generation that holds the story unchanged

An update writes the segments of new or changed stories, then a new generation, and
only then points ``CURRENT`` at it, so a build killed midway leaves the previous index
loadable; unused segments are removed after the switch. Loading checks the manifest
against the expected settings and every file against its checksum; anything that does
not match is rebuilt, never served.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from retrieval import lexical, pack, segments, vocabulary
from retrieval import vectors as faiss_index
from retrieval.chunking import CHUNKER_VERSION
from retrieval.files import fsync, write_text_atomic
from retrieval.passages import PassageTable, rows_by_story, sentence_offsets
from retrieval.results import StoryInfo

log = logging.getLogger(__name__)

# 3: stories stored as segments shared between generations (retrieval.segments).
# 4: segments also hold their stories' words and term counts in the files opened anyway
# (story.json, terms.npy); an index of format 3 is rebuilt.
FORMAT_VERSION = 4
FAISS_FILE = "faiss.index"
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
    passage_vectors: str = "pooled"
    chunker_version: int = CHUNKER_VERSION
    format_version: int = FORMAT_VERSION
    libraries: dict[str, str] = field(default_factory=lambda: library_versions())

    def stored(self) -> dict[str, Any]:
        """The spec as stored and compared (JSON types). Every FAISS index type counts as
        "flat" here: the index is made from the stored vectors, so switching types keeps
        the stored index and its segments (a generation's FAISS file says its own type)."""
        spec = json.loads(json.dumps(asdict(self)))
        spec["index_type"] = "flat"
        return dict(spec)


@dataclass(slots=True)
class IndexData:
    """An index in memory: stories, passages and their vectors."""

    spec: BuildSpec
    stories: list[StoryInfo]
    digests: dict[str, str]
    passages: PassageTable
    vectors: np.ndarray
    # One vector per sentence; passage i owns rows sentence_offsets[i]:sentence_offsets[i+1].
    sentence_vectors: np.ndarray
    sentence_offsets: np.ndarray
    faiss: Any = None
    # The lexical postings and folded words merged from the stories (retrieval.pack): read
    # with the index or computed when it is saved; None until then.
    derived: pack.Derived | None = None
    # Whether the current generation on disk holds this very FAISS index.
    faiss_stored: bool = False
    # Where each story's sentence terms are stored (segments written since session 20):
    # story id -> (file, its checksum). Stories missing here have them worked out.
    sentence_terms: dict[str, tuple[Path, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.faiss is None:
            self.faiss = faiss_index.build_index(self.vectors, self.spec.index_type)

    @property
    def faiss_unsaved(self) -> bool:
        """The FAISS index is of a type kept with a generation, and not kept yet."""
        return self.spec.index_type not in faiss_index.IN_MEMORY and not self.faiss_stored


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


def save(data: IndexData, directory: Path) -> Path:
    """Write ``data`` as a new generation and make it the current one, atomically.

    Only the segments of stories not stored yet are written (see :mod:`retrieval.segments`);
    the generation itself is a manifest naming its segments, and the passages and lexical
    index merged from them (:mod:`retrieval.pack`). Call it under the folder's lock
    (:func:`~retrieval.files.folder_lock`): it removes older generations, unused segments
    and leftovers of interrupted builds.
    """
    directory.mkdir(parents=True, exist_ok=True)
    spec = data.spec.stored()
    rows = rows_by_story(data.passages)
    order: list[tuple[str, str, dict[str, str]]] = []
    written: dict[str, segments.Pieces] = {}
    for info in data.stories:
        key = segments.segment_key(spec, info.story_id, data.digests[info.story_id])
        ids = rows.get(info.story_id, [])
        content = functools.partial(_story_content, data, info, ids, written, key)
        sums = segments.write(directory, key, content)
        order.append((info.story_id, key, sums))
    data.sentence_terms = _sentence_terms_files(directory, order)
    if data.derived is None:
        data.derived = pack.derive([_pieces(data, directory, entry, written) for entry in order])
    generation = directory / f"gen-{uuid.uuid4().hex[:12]}"
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=directory))
    try:
        stores_faiss = data.spec.index_type not in faiss_index.IN_MEMORY
        if stores_faiss:  # else rebuilt at load, faster
            faiss_index.write(data.faiss, str(tmp / FAISS_FILE))
        pack.write(tmp, data.passages, data.derived)
        files = {path.name: _checksum(path) for path in sorted(tmp.iterdir())}
        manifest = {
            "spec": spec,
            "stories": data.digests,
            "story_info": [_story_to_json(s) for s in data.stories],
            "segments": order,
            "passages": len(data.passages),
            "sentences": int(data.sentence_offsets[-1]),
            "files": files,
            "faiss_type": data.spec.index_type if stores_faiss else None,
        }
        # Without indent: json's C encoder (indented, it took 0.1 s of an update at scale).
        (tmp / "manifest.json").write_text(json.dumps(manifest, sort_keys=True))
        for path in tmp.iterdir():
            fsync(path)
        tmp.rename(generation)
        fsync(directory)
        write_text_atomic(directory / "CURRENT", generation.name)
        data.faiss_stored = True
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
        if stored != spec.stored():
            raise IndexMismatch(f"index was built with different settings: {_diff(stored, spec)}")
        for file_name, checksum in manifest["files"].items():
            if _checksum(generation / file_name) != checksum:
                raise IndexMismatch(f"{file_name} is damaged (checksum differs)")
        stories = [_story_from_json(s) for s in manifest["story_info"]]
        passages, derived = pack.read(generation)
        offsets = sentence_offsets(passages)
        if len(passages) != manifest["passages"] or offsets[-1] != manifest["sentences"]:
            raise IndexMismatch("index files disagree on the number of passages")
        # Each segment's vectors are read straight into their rows: one copy in memory.
        # Ordinary pages: finding huge pages for them can mean compacting memory first.
        vectors = faiss_index.empty_rows(len(passages), spec.dimension)
        sentence_vectors = faiss_index.empty_rows(int(offsets[-1]), spec.dimension)
        rows = rows_by_story(passages)
        for story_id, key, sums in manifest["segments"]:
            ids = rows.get(story_id, [])
            first, last = (ids[0], ids[-1] + 1) if ids else (0, 0)
            if last - first != len(ids):
                raise IndexMismatch(f"the passages of {story_id} are not together")
            segments.read_vectors(
                directory / segments.FOLDER / key,
                sums,
                vectors[first:last],
                sentence_vectors[offsets[first] : offsets[last]],
            )
        faiss = None
        if FAISS_FILE in manifest["files"] and manifest.get("faiss_type") == spec.index_type:
            faiss = faiss_index.read(str(generation / FAISS_FILE))
    except IndexMismatch:
        raise
    except FileNotFoundError as exc:
        raise IndexMismatch(f"no index yet ({exc.filename} missing)") from exc
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexMismatch(f"index unreadable: {exc}") from exc
    if faiss is not None and faiss.ntotal != len(passages):
        raise IndexMismatch("index files disagree on the number of passages")
    return IndexData(
        spec=spec,
        stories=stories,
        digests=dict(manifest["stories"]),
        passages=passages,
        vectors=vectors,
        sentence_vectors=sentence_vectors,
        sentence_offsets=offsets,
        faiss=faiss,
        derived=derived,
        faiss_stored=faiss is not None,
        sentence_terms=_sentence_terms_files(directory, manifest["segments"]),
    )


def _sentence_terms_files(
    directory: Path, order: Sequence[Sequence[Any]]
) -> dict[str, tuple[Path, str]]:
    """Each story's stored sentence terms (file and checksum), from its segment entry."""
    files = {}
    for story_id, key, sums in order:
        if segments.SENTENCE_TERMS in sums:
            path = directory / segments.FOLDER / key / segments.SENTENCE_TERMS
            files[story_id] = (path, sums[segments.SENTENCE_TERMS])
    return files


def _story_content(
    data: IndexData, info: StoryInfo, ids: list[int], written: dict[str, segments.Pieces], key: str
) -> segments.Content:
    """The passages ``ids`` (one story's, in the segment ``key``), their vectors, sentence
    vectors, term counts, words and sentence terms; the term counts and words are kept in
    ``written``."""
    offsets = data.sentence_offsets
    flat = [np.arange(offsets[i], offsets[i + 1]) for i in ids]
    sentence_rows = np.concatenate(flat) if flat else np.empty(0, np.int64)
    passages = [data.passages[i] for i in ids]
    texts = [p.text for p in passages]
    terms = lexical.story_terms(info, texts)
    words = vocabulary.story_words(texts)
    written[key] = (terms, words)
    sentences = lexical.sentence_lines(s.of(p.text) for p in passages for s in p.sentences)
    vectors, sentence_vectors = data.vectors[ids], data.sentence_vectors[sentence_rows]
    return passages, vectors, sentence_vectors, terms, words, sentences


def _pieces(
    data: IndexData,
    directory: Path,
    entry: tuple[str, str, dict[str, str]],
    written: dict[str, segments.Pieces],
) -> segments.Pieces:
    """A story's term counts and words: as just computed, or read from its segment (which is
    written again if they are damaged)."""
    story_id, key, sums = entry
    if key not in written:
        try:
            return segments.read_pieces(directory / segments.FOLDER / key, sums)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            log.warning("segment %s of %s was damaged: written again", key, story_id)
            info = next(s for s in data.stories if s.story_id == story_id)
            ids = rows_by_story(data.passages).get(story_id, [])
            content = functools.partial(_story_content, data, info, ids, written, key)
            segments.write(directory, key, content)
    return written[key]


def fingerprint(data: IndexData) -> str:
    """A short hash of what an index holds: its build spec and its stories' contents."""
    payload = json.dumps([data.spec.stored(), sorted(data.digests.items())], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _diff(stored: dict[str, Any], spec: BuildSpec) -> str:
    wanted = spec.stored()
    keys = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
    return ", ".join(keys)


def _story_to_json(info: StoryInfo) -> dict[str, Any]:
    # Its fields as they stand (json writes the tuple of aliases as a list): asdict's deep
    # copy took 0.08 s of every update at squad-scale.
    return {name: getattr(info, name) for name in _STORY_FIELDS}


_STORY_FIELDS = tuple(f.name for f in fields(StoryInfo))


def _story_from_json(raw: dict[str, Any]) -> StoryInfo:
    return StoryInfo(**{**raw, "aliases": tuple(raw.get("aliases", ()))})


def _checksum(path: Path) -> str:
    return segments.file_checksum(path)


def _remove_old(directory: Path, *, keep: str) -> None:
    for path in directory.iterdir():
        stale = path.name.startswith("gen-") and path.name != keep
        if stale or path.name.startswith(".building-"):
            shutil.rmtree(path, ignore_errors=True)
