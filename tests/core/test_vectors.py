"""FAISS index logic with seeded random vectors: no model needed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from retrieval import vectors

DIMENSION = 64
COUNT = 5_000
QUERIES = 200
K = 10

Dataset = Callable[[int], tuple[np.ndarray, np.ndarray]]


def normalised(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def uniform(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points and queries spread evenly over the sphere: the hardest case for an ANN index."""
    rng = np.random.default_rng(seed)
    return (
        normalised(rng.standard_normal((COUNT, DIMENSION))),
        normalised(rng.standard_normal((QUERIES, DIMENSION))),
    )


def clustered(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points and queries around 50 topics, the way sentence embeddings of stories lie."""
    rng = np.random.default_rng(seed)
    centres = normalised(rng.standard_normal((50, DIMENSION)))
    points = centres[rng.integers(0, 50, COUNT)] + 0.15 * rng.standard_normal((COUNT, DIMENSION))
    queries = centres[rng.integers(0, 50, QUERIES)] + 0.15 * rng.standard_normal(
        (QUERIES, DIMENSION)
    )
    return normalised(points), normalised(queries)


def exact_top(points: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(points @ query), kind="stable")[:k]


def recall_at_k(approximate: object, points: np.ndarray, queries: np.ndarray) -> float:
    flat = vectors.build_index(points, "flat")
    found = 0
    for query in queries:
        _, truth = vectors.search(flat, query, K)
        _, ids = vectors.search(approximate, query, K)
        found += len(set(truth.tolist()) & set(ids.tolist()))
    return found / (K * len(queries))


def test_flat_returns_the_exact_top_k_with_cosine_scores() -> None:
    points, queries = uniform(1)
    index = vectors.build_index(points, "flat")

    for query in queries[:50]:
        scores, ids = vectors.search(index, query, K)
        assert ids.tolist() == exact_top(points, query, K).tolist()
        np.testing.assert_allclose(scores, points[ids] @ query, rtol=1e-5, atol=1e-6)
        assert np.all(np.diff(scores) <= 1e-7)  # best first


@pytest.mark.parametrize(
    "data", [pytest.param(uniform, id="uniform"), pytest.param(clustered, id="clustered")]
)
def test_float16_codes_find_the_exact_top_k_as_candidates(data: Dataset) -> None:
    # The fp16 scan only finds candidates (ranking scores them in float32): its top 5 K
    # must hold the exact top K, and its scores be within float16's rounding.
    points, queries = data(5)
    index = vectors.build_index(points, "fp16")

    for query in queries:
        scores, ids = vectors.search(index, query, 5 * K)
        assert set(exact_top(points, query, K).tolist()) <= set(ids.tolist())
        np.testing.assert_allclose(scores, points[ids] @ query, atol=1e-3)


def test_flat_finds_a_stored_vector_first_with_score_one() -> None:
    points, _ = uniform(2)
    index = vectors.build_index(points, "flat")

    for row in (0, 17, COUNT - 1):
        scores, ids = vectors.search(index, points[row], 3)
        assert ids[0] == row
        assert scores[0] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    "data", [pytest.param(clustered, id="clustered"), pytest.param(uniform, id="uniform")]
)
def test_hnsw_recall_against_flat(data: Dataset) -> None:
    points, queries = data(3)
    index = vectors.build_index(points, "hnsw")

    assert type(index).__name__ == "IndexHNSWFlat"
    assert recall_at_k(index, points, queries) >= 0.95


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(clustered, id="clustered"),
        pytest.param(
            uniform,
            id="uniform",
            marks=pytest.mark.xfail(
                strict=True,
                reason="IVF probes an eighth of its lists (16 of 128 here): enough on "
                "clustered vectors such as text embeddings, not on 5,000 uniform 64-d ones; "
                "those need about 96 probes for recall@10 of 0.95",
            ),
        ),
    ],
)
def test_ivf_recall_against_flat(data: Dataset) -> None:
    points, queries = data(4)
    index = vectors.build_index(points, "ivf")

    assert type(index).__name__ == "IndexIVFScalarQuantizer"
    assert recall_at_k(index, points, queries) >= 0.95


def centroids(index: object) -> np.ndarray:
    quantizer = index.quantizer  # type: ignore[attr-defined]
    return np.asarray(quantizer.reconstruct_n(0, quantizer.ntotal))


def test_an_updated_ivf_index_keeps_its_lists_and_holds_only_the_new_vectors() -> None:
    points, queries = clustered(8)
    first = vectors.build_index(points, "ivf")
    shorter = points[: COUNT * 3 // 4]  # a quarter of the corpus removed

    updated = vectors.build_index(shorter, "ivf", like=first)

    np.testing.assert_array_equal(centroids(updated), centroids(first))
    assert updated.ntotal == len(shorter)
    assert first.ntotal == COUNT  # the index it replaces still serves, unchanged
    assert recall_at_k(updated, shorter, queries) >= 0.95


def test_a_stored_ivf_index_probes_as_a_fresh_one_when_read(tmp_path: Path) -> None:
    points, _ = clustered(10)
    built = vectors.build_index(points, "ivf")
    built.nprobe = built.nlist  # as an index stored by an older version might probe
    vectors.write(built, str(tmp_path / "index.faiss"))

    read = vectors.read(str(tmp_path / "index.faiss"))

    assert read.nprobe == vectors.build_index(points, "ivf").nprobe < built.nlist


def test_an_ivf_index_is_trained_again_once_the_corpus_outgrows_its_lists() -> None:
    points, _ = clustered(9)
    small = vectors.build_index(points[:1200], "ivf")

    grown = vectors.build_index(points, "ivf", like=small)

    assert grown.nlist > 2 * small.nlist
    assert grown.ntotal == COUNT


def test_ivf_on_a_small_corpus_is_exact() -> None:
    rng = np.random.default_rng(5)
    points = normalised(rng.standard_normal((300, DIMENSION)))
    index = vectors.build_index(points, "ivf")

    for query in normalised(rng.standard_normal((20, DIMENSION))):
        _, ids = vectors.search(index, query, K)
        assert ids.tolist() == exact_top(points, query, K).tolist()


@pytest.mark.parametrize("index_type", ["flat", "fp16", "hnsw", "ivf"])
def test_asking_for_more_than_stored_returns_what_is_stored(index_type: str) -> None:
    rng = np.random.default_rng(6)
    points = normalised(rng.standard_normal((7, DIMENSION)))
    index = vectors.build_index(points, index_type)

    scores, ids = vectors.search(index, points[0], 50)

    assert sorted(ids.tolist()) == list(range(7))
    assert len(scores) == 7


@pytest.mark.parametrize("index_type", ["flat", "fp16", "hnsw", "ivf"])
def test_empty_index_returns_nothing(index_type: str) -> None:
    index = vectors.build_index(np.empty((0, DIMENSION), dtype=np.float32), index_type)

    scores, ids = vectors.search(index, np.ones(DIMENSION, dtype=np.float32), K)

    assert index.ntotal == 0
    assert len(scores) == len(ids) == 0


@pytest.mark.parametrize("index_type", ["flat", "fp16", "hnsw", "ivf"])
def test_written_index_reads_back_with_the_same_answers(index_type: str, tmp_path: Path) -> None:
    points, queries = clustered(7)
    index = vectors.build_index(points, index_type)
    path = tmp_path / "faiss.index"

    vectors.write(index, str(path))
    again = vectors.read(str(path))

    assert again.ntotal == COUNT
    for query in queries[:20]:
        np.testing.assert_array_equal(
            vectors.search(again, query, K)[1], vectors.search(index, query, K)[1]
        )
