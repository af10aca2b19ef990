"""Per-user rate limiting of questions: a moving window, in this process or a shared store.

:class:`Limiter` is what the chat layer needs, and :func:`open_limiter` makes one from
the setting ``chat.rate_limit_storage``: ``memory://`` (the default) counts in this
process (:class:`LocalLimiter`); any other URI names a ``limits`` storage shared by
several bot processes, ``redis://host`` for example (:class:`RateLimiter`).

Why ``memory://`` is not ``limits``' own memory storage: that storage expires entries
from a timer thread, started anew 10 ms after the last one on the next hit. At 360
questions a second that cost about 0.15 ms of CPU per question more than a dictionary
of short queues does (docs/BENCHMARKS.md, session 14), for the same count.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from limits import RateLimitItemPerSecond
from limits.errors import ConfigurationError
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

DEFAULT_STORAGE = "memory://"


class Limiter(Protocol):
    """How often each user may ask."""

    def allow(self, platform: str, user_id: str) -> bool:
        """Count one question for this user; False when the limit is already reached."""
        ...

    def retry_after(self, platform: str, user_id: str) -> int:
        """Seconds (at least 1) until this user may ask again."""
        ...


def open_storage(uri: str) -> Storage:
    """The ``limits`` storage at ``uri``; :class:`ValueError` when it cannot hold a moving window.

    Opening connects to nothing (``limits`` connects on first use), so this checks the
    scheme, its client library and what the storage supports without the network.
    """
    try:
        storage = storage_from_string(uri)
    except ConfigurationError as error:
        raise ValueError(f"{uri!r} is not a storage limits can open ({error})") from None
    # The limiter below is synchronous and counts a moving window: async+… storages and
    # memcached (no moving window) cannot serve it.
    if not isinstance(storage, Storage) or not isinstance(storage, MovingWindowSupport):
        raise ValueError(
            f"{uri!r} cannot keep a moving window for a synchronous limiter "
            "(use memory://, redis://, redis+sentinel:// or mongodb://)"
        )
    return storage


def open_limiter(
    questions: int, seconds: float, *, storage: str = DEFAULT_STORAGE, name: str = "questions"
) -> Limiter:
    """A limiter allowing ``questions`` per ``seconds``, counted where ``storage`` says."""
    if storage == DEFAULT_STORAGE:
        return LocalLimiter(questions, seconds)
    return RateLimiter(questions, seconds, storage=storage, name=name)


class LocalLimiter:
    """Allows each user ``questions`` questions in any window of ``seconds`` seconds,
    counted in this process. Thread-safe.

    Each user's times of asking are a short queue, trimmed when they ask; users who
    stopped asking are forgotten in a sweep once every :attr:`SWEEP_EVERY` questions.
    """

    SWEEP_EVERY = 1024

    def __init__(
        self, questions: int, seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._questions = questions
        self._clock = clock
        self._seconds = float(max(1, math.ceil(seconds)))  # whole seconds, as limits counts
        self._asked: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._until_sweep = self.SWEEP_EVERY

    def allow(self, platform: str, user_id: str) -> bool:
        """Count one question for this user; False when the limit is already reached."""
        now = self._clock()
        with self._lock:
            self._until_sweep -= 1
            if self._until_sweep <= 0:
                self._sweep(now)
            times = self._asked.setdefault((platform, user_id), deque())
            self._trim(times, now)
            if len(times) >= self._questions:
                return False
            times.append(now)
            return True

    def retry_after(self, platform: str, user_id: str) -> int:
        """Seconds (rounded up, at least 1) until this user may ask again."""
        now = self._clock()
        with self._lock:
            times = self._asked.get((platform, user_id))
            if times is None:
                return 1
            self._trim(times, now)
            if len(times) < self._questions:
                return 1
            oldest = times[0]  # the window drops it first, which frees a place
        return max(1, math.ceil(oldest + self._seconds - now))

    def _trim(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self._seconds:
            times.popleft()

    def _sweep(self, now: float) -> None:
        self._until_sweep = self.SWEEP_EVERY
        stale = now - self._seconds
        for key in [k for k, times in self._asked.items() if not times or times[-1] <= stale]:
            del self._asked[key]


class RateLimiter:
    """Allows each user ``questions`` questions in any window of ``seconds`` seconds,
    counted in a ``limits`` storage (one that several processes can share).

    ``name`` keeps the counts of limiters sharing one storage apart (questions, inline
    queries).
    """

    def __init__(
        self,
        questions: int,
        seconds: float,
        *,
        storage: str = DEFAULT_STORAGE,
        name: str = "questions",
    ) -> None:
        self._item = RateLimitItemPerSecond(questions, max(1, math.ceil(seconds)))
        self._limiter = MovingWindowRateLimiter(open_storage(storage))
        self._name = name

    def allow(self, platform: str, user_id: str) -> bool:
        """Count one question for this user; False when the limit is already reached."""
        return self._limiter.hit(self._item, self._name, platform, user_id)

    def retry_after(self, platform: str, user_id: str) -> int:
        """Seconds (rounded up, at least 1) until this user may ask again."""
        stats = self._limiter.get_window_stats(self._item, self._name, platform, user_id)
        return max(1, math.ceil(stats.reset_time - time.time()))
