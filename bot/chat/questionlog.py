"""The private question log: what fans ask, in the bot's SQLite database.

Each question the chat layer searched is one row of the ``questions`` table (in the
same file as the feedback votes): when, the platform, private or group chat, the
question, whether it was answered, the top story and its score, the passages shown,
the latency and, once someone votes, the vote. User and chat ids are never stored:
only keyed hashes of them (HMAC-SHA256 with a secret from ``QUESTION_LOG_SECRET``, or
generated once into the data directory), so the log can find one person's rows for
``/forgetme`` but cannot say who they are. Rows older than ``log.retention_days`` are
deleted at start and once a day.

Writes never run on the event loop: :meth:`QuestionLog.record` and :meth:`QuestionLog.vote`
queue the write for one writer thread, which applies them in order.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from bot.chat.feedback import FeedbackStore
from bot.chat.messages import Incoming, Reply, ReplyKind
from bot.chat.privacy import IdHasher, load_secret
from bot.settings import Settings

log = logging.getLogger(__name__)

DAY = 86400.0
# The operator's "try a question" box is not a fan's question: it is not logged.
UNLOGGED_PLATFORMS = frozenset({"web"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id           INTEGER PRIMARY KEY,
    asked_at     REAL NOT NULL,
    platform     TEXT NOT NULL,
    private      INTEGER NOT NULL,
    user_hash    TEXT NOT NULL,
    chat_hash    TEXT NOT NULL,
    question     TEXT NOT NULL,
    answered     INTEGER NOT NULL,
    answer_id    TEXT,
    top_story_id TEXT,
    top_artist   TEXT,
    top_title    TEXT,
    top_score    REAL,
    latency_ms   REAL NOT NULL,
    passages     TEXT NOT NULL DEFAULT '[]',
    vote         INTEGER CHECK (vote IN (-1, 1)),
    vector       BLOB
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at);
CREATE INDEX IF NOT EXISTS questions_user ON questions (user_hash);
CREATE INDEX IF NOT EXISTS questions_answer ON questions (answer_id);
"""
_INSERT = """
INSERT INTO questions (asked_at, platform, private, user_hash, chat_hash, question, answered,
    answer_id, top_story_id, top_artist, top_title, top_score, latency_ms, passages)
VALUES (:asked_at, :platform, :private, :user_hash, :chat_hash, :question, :answered,
    :answer_id, :top_story_id, :top_artist, :top_title, :top_score, :latency_ms, :passages)
"""


class QuestionLog:
    """The ``questions`` table, written by one background thread; reads use their own connection."""

    def __init__(
        self,
        path: Path,
        secret: bytes,
        *,
        retention_days: int = 90,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.hash = IdHasher(secret)
        self.retention_days = retention_days
        self.clock = clock
        ensure_schema(path)
        self._queue: queue.Queue[tuple[Callable[[sqlite3.Connection], Any], Future[Any]] | None] = (
            queue.Queue()
        )
        self._purged_at = 0.0
        self.purge()
        self._thread = threading.Thread(target=self._write_loop, name="question-log", daemon=True)
        self._thread.start()

    # -- writes (queued) -----------------------------------------------------------------------

    def record(self, message: Incoming, reply: Reply, latency_s: float) -> None:
        """Queue one searched question (answered or not); other replies are not logged."""
        if message.inline or message.platform in UNLOGGED_PLATFORMS:
            return
        if reply.kind not in (ReplyKind.ANSWER, ReplyKind.NO_ANSWER):
            return
        top = reply.passages[0] if reply.passages else None
        row = {
            "asked_at": self.clock(),
            "platform": message.platform,
            "private": int(message.private),
            "user_hash": self.hash("user", message.platform, message.user_id),
            "chat_hash": self.hash("chat", message.platform, message.chat_id),
            "question": reply.question or message.text,
            "answered": int(reply.is_answer),
            "answer_id": reply.answer_id,
            "top_story_id": top.story_id if top else None,
            "top_artist": top.artist if top else None,
            "top_title": top.story_title if top else None,
            "top_score": top.score if top else None,
            "latency_ms": round(latency_s * 1000, 2),
            "passages": json.dumps([_passage(p) for p in reply.passages], ensure_ascii=False),
        }
        self._submit(lambda db: db.execute(_INSERT, row))

    def vote(self, answer_id: str, vote: int) -> None:
        """Queue a vote (+1 / -1) on the logged question that got answer ``answer_id``."""
        self._submit(
            lambda db: db.execute(
                "UPDATE questions SET vote = ? WHERE answer_id = ?", (vote, answer_id)
            )
        )

    async def forget(self, platform: str, user_id: str) -> int:
        """Delete every row of this person (all chats of the platform); return how many went."""
        user_hash = self.hash("user", platform, user_id)

        def delete(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM questions WHERE user_hash = ?", (user_hash,)).rowcount

        result: int = await asyncio.wrap_future(self._submit(delete))
        return result

    def purge(self) -> int:
        """Delete the rows older than the retention period; return how many went."""
        cutoff = self.clock() - self.retention_days * DAY
        with self.connect() as db:
            count = db.execute("DELETE FROM questions WHERE asked_at < ?", (cutoff,)).rowcount
        self._purged_at = self.clock()
        if count:
            log.info("question log: %d rows older than %d days deleted", count, self.retention_days)
        return count

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every queued write is applied."""
        self._submit(lambda db: None).result(timeout)

    def close(self) -> None:
        """Apply the queued writes, then stop the writer thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)

    def connect(self) -> sqlite3.Connection:
        """A new connection to the database, closed when its ``with`` block ends."""
        return connect(self.path)

    # -- the writer thread ---------------------------------------------------------------------

    def _submit(self, operation: Callable[[sqlite3.Connection], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((operation, future))
        return future

    def _write_loop(self) -> None:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            while True:
                # Due once a day: checked after every write, and at least hourly when idle.
                if self.clock() >= self._purged_at + DAY:
                    self._safely(self.purge)
                try:
                    item = self._queue.get(timeout=3600)
                except queue.Empty:
                    continue
                if item is None:
                    return
                operation, future = item
                try:
                    with db:  # one transaction per write
                        future.set_result(operation(db))
                except Exception as error:  # a failed write must not stop the log
                    log.exception("question log: a write failed")
                    future.set_exception(error)
        finally:
            db.close()

    @staticmethod
    def _safely(action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:
            log.exception("question log: purge failed")


def ensure_schema(path: Path) -> None:
    """Create the database's tables (questions and feedback) where they are missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    FeedbackStore(path)
    with connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)


def connect(path: Path) -> sqlite3.Connection:
    """A new connection to ``path``: commits, then closes, when its ``with`` block ends."""
    return _Connection(path)


def open_question_log(settings: Settings) -> QuestionLog | None:
    """The question log the settings ask for (in the feedback database), or ``None``."""
    if not settings.log.enabled:
        return None
    secret = load_secret(settings.retrieval.data_dir)
    log = QuestionLog(settings.feedback_path, secret, retention_days=settings.log.retention_days)
    atexit.register(log.close)  # the queued writes are applied before the process ends
    return log


async def forget_person(
    feedback: FeedbackStore, questions: QuestionLog | None, message: Incoming
) -> int:
    """``/forgetme``: delete the asker's votes and logged questions in every chat; count them."""
    count = await asyncio.to_thread(feedback.forget, message.platform, message.user_id)
    if questions is not None:
        count += await questions.forget(message.platform, message.user_id)
    return count


class _Connection(sqlite3.Connection):
    """A connection that closes when its ``with`` block ends (sqlite3's only commits)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, timeout=10, check_same_thread=False)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> Literal[False]:
        try:
            super().__exit__(kind, error, traceback)
        finally:
            self.close()
        return False


def _passage(view: Any) -> dict[str, Any]:
    return {
        "artist": view.artist,
        "title": view.story_title,
        "story_id": view.story_id,
        "score": round(view.score, 4),
        "dense": round(view.dense_score, 4),
        "lexical": round(view.lexical_score, 4),
        "text": view.text,
        "sentence": [view.best_sentence.start, view.best_sentence.end],
    }
