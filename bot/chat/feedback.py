"""Helpful / not helpful votes on answers, stored in SQLite in the data directory.

Calls are short and synchronous (a connection per call, so any thread may use
the store); the chat layer runs them in a worker thread.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TextIO

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id   TEXT NOT NULL,
    platform    TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    question    TEXT NOT NULL,
    story_id    TEXT NOT NULL,
    artist      TEXT NOT NULL,
    vote        INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    created_at  REAL NOT NULL,
    PRIMARY KEY (answer_id, platform, user_id)
)
"""
_UPSERT = """
INSERT INTO feedback (answer_id, platform, chat_id, user_id, question, story_id, artist, vote,
                      created_at)
VALUES (:answer_id, :platform, :chat_id, :user_id, :question, :story_id, :artist, :vote,
        :created_at)
ON CONFLICT (answer_id, platform, user_id) DO UPDATE SET
    vote = excluded.vote, created_at = excluded.created_at
"""


@dataclass(frozen=True, slots=True)
class Vote:
    """One user's vote on one answer (+1 helpful, -1 not helpful)."""

    answer_id: str
    platform: str
    chat_id: str
    user_id: str
    question: str
    story_id: str
    artist: str
    vote: int
    created_at: float = 0.0


COLUMNS = tuple(f.name for f in fields(Vote))


class FeedbackStore:
    """Votes in an SQLite file; one vote per user per answer, the last one wins."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def record(self, vote: Vote) -> None:
        """Store a vote, replacing this user's earlier vote on the same answer."""
        row = asdict(vote)
        row["created_at"] = vote.created_at or time.time()
        with self._connect() as db:
            db.execute(_UPSERT, row)

    def forget(self, platform: str, user_id: str) -> int:
        """Delete every vote of this person on this platform (any chat); return how many."""
        family = platform.split("-", 1)[0]
        with self._connect() as db:
            cursor = db.execute(
                "DELETE FROM feedback WHERE user_id = ? AND (platform = ? OR platform LIKE ?)",
                (user_id, family, f"{family}-%"),
            )
            return cursor.rowcount

    def votes(self) -> Iterator[Vote]:
        """Every stored vote, oldest first."""
        with closing(sqlite3.connect(self.path)) as db:
            cursor = db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY created_at, rowid"
            )
            rows = cursor.fetchall()
        for row in rows:
            yield Vote(*row)

    def export(self, out: TextIO, *, fmt: str = "csv") -> int:
        """Write every vote to ``out`` as ``csv`` or ``jsonl``; return how many."""
        count = 0
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            for vote in self.votes():
                writer.writerow([getattr(vote, c) for c in COLUMNS])
                count += 1
        elif fmt == "jsonl":
            for vote in self.votes():
                out.write(json.dumps(asdict(vote), ensure_ascii=False) + "\n")
                count += 1
        else:
            raise ValueError(f"unknown export format {fmt!r} (csv or jsonl)")
        return count

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commits, or rolls back on an error
                yield db
        finally:
            db.close()
