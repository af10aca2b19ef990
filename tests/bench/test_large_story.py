"""The long-story benchmark: a joined story indexed with estimates, answers meanwhile."""

from __future__ import annotations

from pathlib import Path

from benchmarks.large_story import long_story, measure
from retrieval import RetrievalSettings
from tests.conftest import EVAL_DIR

CORPUS = EVAL_DIR / "squad-artists-public" / "corpus"


def test_the_long_story_joins_stories_in_order_until_the_size() -> None:
    text = long_story(CORPUS, 0.001)
    first, second = sorted(CORPUS.iterdir())[:2]

    assert text.startswith(first.read_text(encoding="utf-8").strip()[:200])
    assert second.read_text(encoding="utf-8").strip()[:200] not in text
    assert len(long_story(CORPUS, 1e6)) > sum(p.stat().st_size for p in CORPUS.iterdir()) * 0.9


def test_the_story_is_indexed_with_estimates_and_the_bot_answers_meanwhile(
    retrieval_settings: RetrievalSettings, tmp_path: Path
) -> None:
    report = measure(retrieval_settings, CORPUS, 0.02, tmp_path)

    build, reload = report["build"], report["reload_while_answering"]
    assert report["story_bytes"] >= 20_000
    assert build["estimates"], build
    assert all(e["estimate_s"] >= 0 and e["actual_s"] >= 0 for e in build["estimates"])
    assert reload["passages_after"] == build["index_passages"]
    assert reload["passages_before"] < reload["passages_after"]
    assert reload["asked"] >= 1
    assert reload["answered"] == reload["asked"]
