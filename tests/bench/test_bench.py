"""A smoke test of ``artistbot bench`` on the seed stories, and the bench's helpers.

Speed is measured by the bench, never asserted here: these tests check that every
figure is produced, the plot is written and the configured index is left alone.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchmarks import load as bench_load
from benchmarks.baseline import Baseline, paragraphs
from benchmarks.report import render
from benchmarks.run import VECTOR_EXTENSIONS
from benchmarks.synthetic import clustered, exact_top, measure
from bot.cli import cli
from retrieval.corpus import load_corpus
from retrieval.embedding import Encoder
from retrieval.evaluation import percentile
from tests.conftest import EVAL_DIR

LEVELS = [1, 4]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def data_dir(tmp_path: Path, session_data_dir: Path, encoder: Encoder) -> Path:
    """An empty data directory sharing the session's exported model (read-only)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(session_data_dir / "models", target_is_directory=True)
    return data


def test_bench_measures_everything_on_a_tiny_corpus(
    seed_corpus: Path, data_dir: Path, tmp_path: Path
) -> None:
    plots = tmp_path / "plots"
    args = [
        "bench",
        "--corpus",
        str(seed_corpus),
        "--questions",
        str(EVAL_DIR / "seeds" / "questions.jsonl"),
        "--json",
        "--plot",
        str(plots),
        "--repeats",
        "1",
        "--requests",
        "8",
        "--latency-questions",
        "5",
        "--concurrency",
        ",".join(map(str, LEVELS)),
        "--sizes",
        "1",
        "--synthetic",
        "300",
    ]

    result = CliRunner().invoke(cli, args, env={"ARTISTBOT_RETRIEVAL__DATA_DIR": str(data_dir)})

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    ours, baseline = report["ours"], report["baseline"]
    for side in (ours, baseline):
        assert side["build"]["passages"] > 0 and side["build"]["passages_per_s"] > 0
        assert side["build"]["peak_rss_mb"] > 0
        assert side["update"]["wall_s"] > 0 and side["update"]["embedded_passages"] > 0
        # To the first answer, which comes before the process has exited.
        assert 0 < side["cold_start"]["wall_s"] <= side["cold_start"]["exit_s"]
        assert side["rss_after_load_mb"] > 0
        assert side["latency"]["core"]["p99_ms"] >= side["latency"]["core"]["p50_ms"] > 0
        assert [x["askers"] for x in side["concurrency"]] == LEVELS
        assert all(x["qps"] > 0 for x in side["concurrency"])
    assert ours["latency"]["lexical"]["p50_ms"] > 0 and baseline["latency"]["lexical"] is None
    assert ours["latency"]["core"]["first_pass_p50_ms"] > 0  # questions new to the process
    assert ours["build"]["sentences"] > ours["build"]["passages"]
    # Removing the added story again, as /removestory does, once per added copy.
    assert ours["update"]["remove_s"] > 0
    assert len(ours["update"]["remove_each_s"]) == len(ours["update"]["each_s"])
    assert ours["build"]["passage_only_per_s"] > 0  # the reference line, same process
    assert ours["build"]["of_passage_only"] > 0
    assert ours["cold_start"]["command"].startswith("artistbot")
    assert [x["askers"] for x in ours["concurrency_unbatched"]] == LEVELS
    assert [x["askers"] for x in ours["concurrency_core"]] == LEVELS
    # The headline figures go through the chat service: every question got one reply.
    for level in ours["concurrency"]:
        assert level["mean_batch"] >= 1 and level["model_calls"] > 0
        assert level["lost"] == 0 and level["duplicated"] == 0
        # The bare model's rate on the same questions, the line the chats are read against.
        assert level["model_only_qps"] > 0
        assert level["of_model_only"] == pytest.approx(
            level["qps"] / level["model_only_qps"], abs=1e-3
        )
        assert level["replies"] >= level["questions"]
    assert report["ratios"]["qps_4"] > 0 and report["ratios"]["cold_start_s"] > 0
    assert [row["stories"] for row in report["build_vs_size"]] == [2]
    assert set(report["synthetic"]["types"]) == {"flat", "hnsw", "ivf"}
    assert report["synthetic"]["types"]["flat"]["recall@10"] == 1.0
    # What the figures were measured on, down to the vector extensions the model's int8
    # kernels are chosen by: those of the CPU's flags (Linux).
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        flags = {
            f
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("flags")
            for f in line.split(":", 1)[1].split()
        }
        extensions = report["machine"]["vector_extensions"]
        assert extensions == [x for x in VECTOR_EXTENSIONS if x in flags]
    assert (plots / "bench.png").read_bytes().startswith(PNG_MAGIC)
    assert json.loads((plots / "bench.json").read_text()) == report
    # The bench worked in a temporary folder: the data directory holds only the model.
    assert sorted(p.name for p in data_dir.iterdir()) == ["models"]
    assert "questions/s" in render(report)


def test_bench_refuses_a_bad_concurrency_list(data_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["bench", "--concurrency", "1,zero"],
        env={"ARTISTBOT_RETRIEVAL__DATA_DIR": str(data_dir)},
    )

    assert result.exit_code == 2
    assert "--concurrency" in result.output


def test_percentiles_use_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]

    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) == 0.0


def test_medians_of_runs_keep_counts_whole() -> None:
    runs = [
        {"askers": 8, "qps": 10.0, "name": "a"},
        {"askers": 8, "qps": 30.0, "name": "b"},
        {"askers": 8, "qps": 20.0, "name": "c"},
    ]

    assert bench_load.median_of(runs) == {"askers": 8, "qps": 20.0, "name": "a", "repeats": 3}


def test_closed_loop_answers_every_question_once() -> None:
    asked: list[str] = []

    async def ask(question: str) -> str:
        asked.append(question)
        await asyncio.sleep(0)
        return question

    figures = asyncio.run(bench_load.closed_loop(ask, ["a", "b", "c"], askers=4, total=10))

    assert figures["questions"] == 10 and figures["askers"] == 4
    assert sorted(asked) == sorted(["a", "b", "c"] * 3 + ["a"])


def test_exact_top_matches_a_full_sort() -> None:
    points = clustered(3_000, 16, seed=1)
    queries = clustered(5, 16, seed=2)

    found = exact_top(points, queries, 10)

    for query, ids in zip(queries, found, strict=True):
        assert set(ids.tolist()) == set(np.argsort(-(points @ query))[:10].tolist())


def test_synthetic_flat_index_has_full_recall() -> None:
    figures = measure("flat", 2_000, dimension=32, queries=20)

    assert figures["recall@10"] == 1.0 and figures["kind"] == "IndexFlatIP"


def test_baseline_retrieves_whole_paragraphs(seed_corpus: Path, encoder: Encoder) -> None:
    stories = load_corpus(seed_corpus)
    expected = [p for s in stories for p in s.text.split("\n\n") if p.strip()]

    baseline = Baseline.build(seed_corpus, encoder)  # any encoder; the bench uses torch
    hits = baseline.search("Who fronts Moonlight Serenaders?", k=2)

    assert len(paragraphs(stories)) == len(expected) == len(baseline.paragraphs)
    assert len(hits) == 2 and all(p.text in {e.strip() for e in expected} for p, _ in hits)
