"""Index types at a size no corpus here reaches: seeded synthetic vectors, flat vs HNSW vs IVF.

The vectors lie around topics on the unit sphere the way sentence embeddings of
stories do (points of one topic have a cosine of about 0.65). Each index type is
built and searched in a fresh process (see :mod:`benchmarks.child`) so its
memory is its own: build time, memory, single-query latency (at the retriever's
candidate depth) and recall@10 against exact search.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.load import summary
from benchmarks.memory import rss_mb
from retrieval import vectors
from retrieval.embedding import normalise

TOPICS = 1024
SPREAD = 0.7  # length of a point's offset from its topic's centre
CHUNK = 65_536
RECALL_K = 10
SEARCH_K = 50  # what the retriever asks FAISS for (RetrievalSettings.candidates)


def clustered(count: int, dimension: int, *, seed: int) -> np.ndarray:
    """``count`` seeded unit vectors around :data:`TOPICS` random topic centres."""
    rng = np.random.default_rng(seed)
    centres = normalise(rng.standard_normal((TOPICS, dimension), dtype=np.float32))
    points = np.empty((count, dimension), dtype=np.float32)
    scale = np.float32(SPREAD / math.sqrt(dimension))
    for begin in range(0, count, CHUNK):
        end = min(count, begin + CHUNK)
        block = rng.standard_normal((end - begin, dimension), dtype=np.float32)
        block *= scale
        block += centres[rng.integers(0, TOPICS, end - begin)]
        points[begin:end] = normalise(block)
    return points


def exact_top(points: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Row ids of the exact top ``k`` of each query (inner product), in blocks."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), k), dtype=np.int64)
    for begin in range(0, len(points), CHUNK):
        scores = queries @ points[begin : begin + CHUNK].T
        take = min(k, scores.shape[1])
        ids = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        all_scores = np.hstack([best_scores, np.take_along_axis(scores, ids, axis=1)])
        all_ids = np.hstack([best_ids, ids + begin])
        keep = np.argpartition(-all_scores, k - 1, axis=1)[:, :k]
        best_scores = np.take_along_axis(all_scores, keep, axis=1)
        best_ids = np.take_along_axis(all_ids, keep, axis=1)
    return best_ids


def measure(
    index_type: str, count: int, *, dimension: int = 384, queries: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Build an index of ``index_type`` over ``count`` synthetic vectors and measure it."""
    # Questions are held-out points of the same topics, as real questions are near the
    # stories' topics (points of other topics make every neighbour a near-tie).
    sample = clustered(count + queries, dimension, seed=seed)
    points, probes = sample[:count], sample[count:]
    truth = exact_top(points, probes, RECALL_K)
    before = rss_mb()
    started = time.perf_counter()
    index = vectors.build_index(points, index_type)
    build_s = time.perf_counter() - started
    index_mb = rss_mb() - before
    vectors.search(index, probes[0], SEARCH_K)  # warm-up
    latencies, found = [], 0
    for probe, expected in zip(probes, truth, strict=True):
        began = time.perf_counter()
        _, ids = vectors.search(index, probe, SEARCH_K)
        latencies.append((time.perf_counter() - began) * 1e3)
        found += len(set(ids[:RECALL_K].tolist()) & set(expected.tolist()))
    return {
        "index_type": index_type,
        "kind": type(index).__name__,
        "vectors": count,
        "dimension": dimension,
        "build_s": round(build_s, 3),
        "index_mb": round(index_mb, 1),
        "vectors_mb": round(points.nbytes / 2**20, 1),
        "rss_mb": rss_mb(),
        f"search_k{SEARCH_K}": summary(latencies),
        f"recall@{RECALL_K}": round(found / (RECALL_K * len(probes)), 4),
    }


def run(
    count: int, index_types: Sequence[str], *, dimension: int = 384, queries: int = 200
) -> dict[str, Any]:
    """:func:`measure` each index type in a fresh process."""
    results = {}
    for index_type in index_types:
        command = [
            sys.executable,
            "-m",
            "benchmarks.child",
            "synthetic",
            "--type",
            index_type,
            "--count",
            str(count),
            "--dimension",
            str(dimension),
            "--queries",
            str(queries),
        ]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        results[index_type] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"vectors": count, "dimension": dimension, "queries": queries, "types": results}
