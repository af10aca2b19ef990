"""FAISS indexes over normalised vectors (inner product = cosine).

The index only finds a question's candidate passages; ranking scores them again from
the float32 vectors (:func:`retrieval.ranking.dense_scores`), so float16 codes cost no
accuracy that matters there.
"""

from __future__ import annotations

import math
import mmap
import os
from typing import Any

import faiss
import numpy as np

HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 96
# IVF probes an eighth of its lists (at least 16). It suits clustered data such as real
# text embeddings; on structureless uniform vectors use HNSW. On squad-scale's 10,000
# questions an eighth found what a quarter did (session 16: hit@1 0.7793 against 0.7795,
# hit@5 0.9241 against 0.9243) in 0.15 ms instead of 0.24 (docs/BENCHMARKS.md).
IVF_PROBE_SHARE = 8
IVF_MIN_PROBES = 16
# Below this many vectors "ivf" scans them all: too few to train its lists on.
IVF_MIN_VECTORS = 1000
# Index types rebuilt from the vectors whenever an index is opened (faster than reading
# them), so no FAISS file is stored for them.
IN_MEMORY = frozenset({"flat", "fp16"})
# FAISS threads (OpenMP) for one question's search. Spread over threads, a single query
# over 19,782 passages took 16 ms instead of 0.8 ms: OpenMP's spinning workers fight the
# model's for two cores. OpenMP thread counts belong to the calling thread, so builds
# (which do gain from threads) set their own.
SEARCH_THREADS = 1
# Linux maps every page of new rows at once (MAP_POPULATE) instead of on first write:
# 167 MB made and filled in 0.08-0.09 s instead of 0.11-0.14 s (squad-scale's sentence
# vectors, copied on every update and read on every load).
_POPULATE = getattr(mmap, "MAP_POPULATE", 0)


def empty_rows(count: int, dimension: int) -> np.ndarray:
    """An uninitialised float32 array of ``count`` rows, in memory of ordinary pages.

    numpy asks the kernel for huge pages for large arrays (madvise), and finding them can
    mean compacting memory first: after an index load on the 2-core machine, filling the
    first new 167 MB of vectors (squad-scale, an in-process story removal) took 0.66 s
    that way, and 0.10-0.12 s in anonymous memory mapped here (0.08-0.09 s with its pages
    mapped at once, see :data:`_POPULATE`).
    """
    if count * dimension == 0:
        return np.empty((count, dimension), dtype=np.float32)
    size = count * dimension * 4
    if _POPULATE:
        memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _POPULATE)
    else:
        memory = mmap.mmap(-1, size)
    return np.frombuffer(memory, dtype=np.float32).reshape(count, dimension)


def build_index(vectors: np.ndarray, index_type: str, *, like: Any = None) -> Any:
    """A FAISS index of the given type holding ``vectors`` (rows already normalised).

    ``like`` is the index this one replaces (an update of the corpus): an IVF index keeps
    its lists (trained centroids) while the corpus stays within a factor of two of the size
    they were trained for, so an update only files the vectors (0.06 s for squad-scale's
    19,782, against 0.6 s to train again).
    """
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    dimension = vectors.shape[1]
    count = vectors.shape[0]
    index: Any
    reusable = _reusable_lists(like, index_type, count, dimension)
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif index_type == "fp16" and count:
        # Every vector scanned, as float16: half the bytes of "flat". A search is bound by
        # reading them (30 MB at squad-scale, evicted from the cache by the model between
        # questions): p50 2.5-3.0 ms flat, 1.3-1.6 ms here (docs/BENCHMARKS.md).
        index = faiss.IndexScalarQuantizer(
            dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
    elif reusable is not None:
        index = faiss.clone_index(reusable)
        index.reset()  # the trained lists, emptied
        _probe(index)
    elif index_type == "ivf" and count >= IVF_MIN_VECTORS:
        # The vectors are grouped around trained centroids and a question scans only the
        # groups nearest it, as float16 codes: a quarter of the bytes of "fp16". Between
        # questions that scan evicts less of the model from the cache (docs/BENCHMARKS.md).
        lists = _ivf_lists(count)
        index = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(dimension),
            dimension,
            lists,
            faiss.ScalarQuantizer.QT_fp16,
            faiss.METRIC_INNER_PRODUCT,
        )
        index.train(np.ascontiguousarray(vectors, dtype=np.float32))
        _probe(index)
    else:  # exact; also IVF on a corpus too small to train it, and an empty one
        index = faiss.IndexFlatIP(dimension)
    if count:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _probe(index: Any) -> Any:
    """``index`` set to probe :data:`IVF_PROBE_SHARE` of its lists, if it is an IVF index."""
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = min(index.nlist, max(IVF_MIN_PROBES, index.nlist // IVF_PROBE_SHARE))
    return index


def _ivf_lists(count: int) -> int:
    return max(1, min(int(4 * math.sqrt(count)), count // 39))


def _reusable_lists(like: Any, index_type: str, count: int, dimension: int) -> Any:
    """``like``, if it is an IVF index whose lists suit ``count`` vectors; else None."""
    if index_type != "ivf" or count < IVF_MIN_VECTORS or like is None:
        return None
    if not isinstance(like, faiss.IndexIVF) or like.d != dimension:
        return None
    return like if like.nlist * 2 >= _ivf_lists(count) >= like.nlist // 2 else None


def search(index: Any, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``count`` (scores, row ids) for one query vector; ids of -1 are dropped."""
    count = min(count, index.ntotal)
    if count <= 0:
        return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64)
    faiss.omp_set_num_threads(SEARCH_THREADS)
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), count)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]


def search_many(index: Any, queries: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``count`` (scores, row ids) of each query row in one call (ids of -1 mean none)."""
    count = min(count, index.ntotal)
    if count <= 0 or len(queries) == 0:
        empty = np.empty((len(queries), 0))
        return empty.astype(np.float32), empty.astype(np.int64)
    faiss.omp_set_num_threads(SEARCH_THREADS)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), count)  # type: ignore[no-any-return]


def write(index: Any, path: str) -> None:
    """Write a FAISS index to ``path``."""
    faiss.write_index(index, path)


def read(path: str) -> Any:
    """Read a FAISS index from ``path`` (an IVF index probing as one built now would)."""
    return _probe(faiss.read_index(path))
