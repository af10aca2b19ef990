"""The figures of ``artistbot report`` and the operator page, read from the question log.

Everything is read from the bot's SQLite database (the ``questions`` table of
:mod:`bot.chat.questionlog` and the ``feedback`` table of votes) over a period ending
now. The unanswered questions' vectors are computed once by the retriever's encoder
and kept in their log row, so a report after a thousand questions does not embed
them again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.chat.questionlog import connect, ensure_schema
from bot.insights.grouping import QuestionGroup, group_questions
from retrieval.embedding import Encoder, normalise

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Day:
    """Questions on one day (UTC) and how many of them were answered."""

    day: str
    questions: int
    answered: int


@dataclass(frozen=True, slots=True)
class ArtistVotes:
    """👍 and 👎 on answers whose top passage was from this artist's story."""

    artist: str
    up: int
    down: int


@dataclass(frozen=True, slots=True)
class LoggedAnswer:
    """One logged question as the operator reads it."""

    asked_at: float
    platform: str
    question: str
    answered: bool
    latency_ms: float
    top_artist: str | None = None
    top_score: float | None = None
    vote: int | None = None
    passages: tuple[dict[str, Any], ...] = ()

    @property
    def when(self) -> str:
        """The time asked, UTC, to the minute."""
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(self.asked_at))


@dataclass(frozen=True, slots=True)
class Report:
    """What ``artistbot report`` prints, and the overview page shows."""

    days: int
    questions: int
    answered: int
    per_day: tuple[Day, ...]
    votes: tuple[ArtistVotes, ...]
    slowest: tuple[LoggedAnswer, ...]
    unanswered: tuple[QuestionGroup, ...] = field(default=())

    @property
    def share_answered(self) -> float:
        """Answered questions over all questions (0 when there were none)."""
        return self.answered / self.questions if self.questions else 0.0

    def as_json(self) -> dict[str, Any]:
        """The report as plain JSON values."""
        data = asdict(self)
        data["share_answered"] = round(self.share_answered, 4)
        for row in data["slowest"]:
            row.pop("passages")
        return data


class Figures:
    """Reads the log of one database; ``encoder`` groups unanswered questions."""

    def __init__(self, path: Path, encoder: Encoder | None = None) -> None:
        self.path = path
        self.encoder = encoder
        self._dimension = 0
        # The tables are made by the bot; a database it never wrote to reads as empty.
        ensure_schema(path)

    def report(self, *, days: int = 30, slowest: int = 10) -> Report:
        """The figures of the last ``days`` days (grouping only with an encoder)."""
        since = time.time() - days * DAY
        with self._read() as db:
            per_day = tuple(
                Day(*row)
                for row in db.execute(
                    "SELECT date(asked_at, 'unixepoch'), count(*), sum(answered) FROM questions"
                    " WHERE asked_at >= ? GROUP BY 1 ORDER BY 1",
                    (since,),
                )
            )
            votes = tuple(
                ArtistVotes(*row)
                for row in db.execute(
                    "SELECT artist, sum(vote > 0), sum(vote < 0) FROM feedback"
                    " WHERE created_at >= ? GROUP BY artist ORDER BY sum(vote < 0) DESC, artist",
                    (since,),
                )
            )
            slow = self._answers(
                db, "asked_at >= ? ORDER BY latency_ms DESC LIMIT ?", (since, slowest)
            )
        groups = tuple(self.unanswered_groups(days=days)) if self.encoder else ()
        return Report(
            days=days,
            questions=sum(d.questions for d in per_day),
            answered=sum(d.answered for d in per_day),
            per_day=per_day,
            votes=votes,
            slowest=tuple(slow),
            unanswered=groups,
        )

    def unanswered_groups(self, *, days: int = 30) -> list[QuestionGroup]:
        """The unanswered questions of the period, grouped by meaning."""
        if self.encoder is None:
            raise ValueError("grouping needs the encoder")
        since = time.time() - days * DAY
        with self._read() as db:
            rows = db.execute(
                "SELECT id, question, vector FROM questions WHERE answered = 0 AND asked_at >= ?",
                (since,),
            ).fetchall()
        if not rows:
            return []
        vectors = self._vectors(rows)
        return group_questions([row[1] for row in rows], vectors)

    def low_rated(self, *, days: int = 30, limit: int = 50) -> list[LoggedAnswer]:
        """Answers voted 👎, newest first, with the passages that were shown."""
        since = time.time() - days * DAY
        with self._read() as db:
            return self._answers(
                db, "asked_at >= ? AND vote < 0 ORDER BY asked_at DESC LIMIT ?", (since, limit)
            )

    def asked_per_story(self, *, days: int = 30) -> dict[str, int]:
        """How often each story gave the top answer in the period, by story id."""
        since = time.time() - days * DAY
        with self._read() as db:
            rows = db.execute(
                "SELECT top_story_id, count(*) FROM questions WHERE asked_at >= ?"
                " AND top_story_id IS NOT NULL GROUP BY top_story_id",
                (since,),
            ).fetchall()
        return {story_id: count for story_id, count in rows}

    # -- helpers -----------------------------------------------------------------------------

    def _read(self) -> sqlite3.Connection:
        return connect(self.path)

    @staticmethod
    def _answers(db: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[LoggedAnswer]:
        rows = db.execute(
            "SELECT asked_at, platform, question, answered, latency_ms, top_artist, top_score,"
            f" vote, passages FROM questions WHERE {where}",
            args,
        ).fetchall()
        return [
            LoggedAnswer(
                asked_at=row[0],
                platform=row[1],
                question=row[2],
                answered=bool(row[3]),
                latency_ms=row[4],
                top_artist=row[5],
                top_score=row[6],
                vote=row[7],
                passages=tuple(json.loads(row[8])),
            )
            for row in rows
        ]

    def _vectors(self, rows: list[tuple[int, str, bytes | None]]) -> np.ndarray:
        """Each row's cached vector, embedding (and caching) the ones missing."""
        assert self.encoder is not None
        if not self._dimension:
            self._dimension = int(self.encoder.encode_queries(["?"]).shape[1])
        dimension = self._dimension
        width = dimension * 4
        missing = [i for i, row in enumerate(rows) if row[2] is None or len(row[2]) != width]
        vectors = np.zeros((len(rows), dimension), dtype=np.float32)
        for i, row in enumerate(rows):
            if i not in missing and row[2] is not None:
                vectors[i] = np.frombuffer(row[2], dtype=np.float32)
        if missing:
            texts = list(dict.fromkeys(rows[i][1] for i in missing))  # each wording once
            fresh = dict(zip(texts, normalise(self.encoder.encode_queries(texts)), strict=True))
            for i in missing:
                vectors[i] = fresh[rows[i][1]]
            with self._read() as db:
                db.executemany(
                    "UPDATE questions SET vector = ? WHERE id = ?",
                    [(vectors[i].tobytes(), rows[i][0]) for i in missing],
                )
        return vectors
