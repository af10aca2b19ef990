"""The report: unanswered questions grouped by meaning, figures, and the command."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bot.chat import Incoming, Reply, ReplyKind
from bot.chat.questionlog import QuestionLog
from bot.cli import cli
from bot.insights.figures import Figures
from bot.insights.grouping import group_questions
from retrieval.embedding import Encoder, normalise

# Three things fans ask, each worded several ways, and questions about nothing else.
PARAPHRASES = [
    ["where was she born", "what is her birthplace", "in which city was she born"],
    ["how many children does he have", "does he have kids", "how many kids has he got"],
    ["when is the next concert", "upcoming tour dates", "when does the band play live next"],
]
UNRELATED = [
    "what's the weather in Almaty",
    "how do I reset my password",
    "what is the capital of France",
    "recommend a good pizza recipe",
]


def embed(encoder: Encoder, texts: list[str]) -> np.ndarray:
    return normalise(encoder.encode_queries(texts))


def test_paraphrases_group_together_and_unrelated_questions_stay_apart(encoder: Encoder) -> None:
    texts = [q for group in PARAPHRASES for q in group] + UNRELATED
    groups = group_questions(texts, embed(encoder, texts))
    by_question = {q: g for g in groups for q in g.examples}
    for paraphrases in PARAPHRASES:
        assert len({id(by_question[q]) for q in paraphrases}) == 1, paraphrases
        assert by_question[paraphrases[0]].count == len(paraphrases)
    for question in UNRELATED:
        assert by_question[question].count == 1, question
    assert len(groups) == len(PARAPHRASES) + len(UNRELATED)


def test_identical_wordings_count_together(encoder: Encoder) -> None:
    texts = ["Her albums?", "her  albums?", "HER ALBUMS?", "what is pi"]
    groups = group_questions(texts, embed(encoder, texts))
    assert [(g.count, g.examples[0]) for g in groups] == [(3, "Her albums?"), (1, "what is pi")]


def _log(path: Path, rows: list[tuple[str, bool, float]]) -> None:
    log = QuestionLog(path, b"k")
    for n, (question, answered, latency) in enumerate(rows):
        kind = ReplyKind.ANSWER if answered else ReplyKind.NO_ANSWER
        log.record(
            Incoming("discord", "c", f"u{n}", question), Reply(kind, question=question), latency
        )
    log.close()


def test_figures_count_answers_and_cache_vectors(tmp_path: Path, encoder: Encoder) -> None:
    path = tmp_path / "feedback.sqlite3"
    _log(path, [("a", True, 0.01), ("her albums?", False, 0.5), ("her records?", False, 0.02)])
    report = Figures(path, encoder).report(days=7, slowest=1)
    assert (report.questions, report.answered) == (3, 1)
    assert report.per_day[0].day == time.strftime("%Y-%m-%d", time.gmtime())
    assert [a.question for a in report.slowest] == ["her albums?"]
    assert sum(g.count for g in report.unanswered) == 2

    # The vectors are kept: a second report embeds nothing.
    class Refusing:
        def encode_queries(self, texts: list[str], *, batch_size: int = 8) -> np.ndarray:
            raise AssertionError(f"embedded again: {texts}")

    figures = Figures(path, Refusing())  # type: ignore[arg-type]
    figures._dimension = encoder.encode_queries(["?"]).shape[1]
    assert sum(g.count for g in figures.unanswered_groups(days=7)) == 2


def test_report_command_json_and_plot(
    tmp_path: Path, retrieval_settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = Path(str(retrieval_settings.data_dir))  # type: ignore[attr-defined]
    feedback = tmp_path / "feedback.sqlite3"
    _log(feedback, [("who is talgat", True, 0.01), ("what is pi", False, 0.02)])
    monkeypatch.setenv("ARTISTBOT_RETRIEVAL__DATA_DIR", str(data))
    monkeypatch.setenv("ARTISTBOT_CHAT__FEEDBACK_DB", str(feedback))
    plot = tmp_path / "report.png"
    result = CliRunner().invoke(cli, ["report", "--json", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    data_out = json.loads(result.output)
    assert data_out["questions"] == 2 and data_out["share_answered"] == 0.5
    assert data_out["unanswered"] == [{"count": 1, "examples": ["what is pi"]}]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = CliRunner().invoke(cli, ["report"])
    assert text.exit_code == 0 and "2 questions, 1 answered (50%)" in text.output
    bad = CliRunner().invoke(cli, ["report", "--plot", str(tmp_path / "x.jpg")])
    assert bad.exit_code == 2 and "PNG" in bad.output
