"""The audit of stories changed from a chat or the command line, in the bot's SQLite file.

Every add, replace, restore and remove is one row: when, on which platform, by whom,
which story and file, and the SHA-256 of the file's bytes. ``artistbot stories log``
prints it. Like :class:`~bot.chat.feedback.FeedbackStore`, a connection per call, so
any thread may write; the chat layer writes from a worker thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS story_log (
    at        REAL NOT NULL,
    platform  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    action    TEXT NOT NULL,
    story_id  TEXT NOT NULL,
    file      TEXT NOT NULL,
    digest    TEXT NOT NULL
)
"""
_INSERT = """
INSERT INTO story_log (at, platform, user_id, action, story_id, file, digest)
VALUES (:at, :platform, :user_id, :action, :story_id, :file, :digest)
"""


@dataclass(frozen=True, slots=True)
class StoryEvent:
    """One change to the stories: ``action`` is added, replaced, restored or removed."""

    platform: str
    user_id: str
    action: str
    story_id: str
    file: str
    digest: str
    at: float = 0.0


class StoryLog:
    """The audit rows in an SQLite file (the feedback database, by default)."""

    def __init__(self, path: Path) -> None:
        self.path = path  # the file and its table are made by the first record

    def record(self, event: StoryEvent) -> None:
        """Add one row (stamped now unless ``event.at`` is set)."""
        row = asdict(event)
        row["at"] = event.at or time.time()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path)) as db, db:
            db.execute(_SCHEMA)
            db.execute(_INSERT, row)

    def events(self) -> Iterator[StoryEvent]:
        """Every row, oldest first (none before the first change)."""
        if not self.path.is_file():
            return
        with closing(sqlite3.connect(self.path)) as db:
            db.execute(_SCHEMA)
            cursor = db.execute(
                "SELECT platform, user_id, action, story_id, file, digest, at "
                "FROM story_log ORDER BY at, rowid"
            )
            for row in cursor:
                yield StoryEvent(*row)
