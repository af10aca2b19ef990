"""FAISS indexes over normalised vectors (inner product = cosine)."""

from __future__ import annotations

import math
from typing import Any

import faiss
import numpy as np

HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 96
# IVF probes a quarter of its lists (at least 16). It suits clustered data such as real
# text embeddings; on structureless uniform vectors use HNSW.
IVF_MIN_PROBES = 16


def build_index(vectors: np.ndarray, index_type: str) -> Any:
    """A FAISS index of the given type holding ``vectors`` (rows already normalised)."""
    dimension = vectors.shape[1]
    count = vectors.shape[0]
    index: Any
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif index_type == "ivf" and count >= 1000:
        lists = max(1, min(int(4 * math.sqrt(count)), count // 39))
        index = faiss.IndexIVFFlat(
            faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT
        )
        index.train(vectors)
        index.nprobe = min(lists, max(IVF_MIN_PROBES, lists // 4))
    else:  # exact; also IVF on a corpus too small to train it
        index = faiss.IndexFlatIP(dimension)
    if count:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def search(index: Any, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``count`` (scores, row ids) for one query vector; ids of -1 are dropped."""
    count = min(count, index.ntotal)
    if count <= 0:
        return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64)
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), count)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]


def write(index: Any, path: str) -> None:
    """Write a FAISS index to ``path``."""
    faiss.write_index(index, path)


def read(path: str) -> Any:
    """Read a FAISS index from ``path``."""
    return faiss.read_index(path)
