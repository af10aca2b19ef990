"""Per-user rate limiting of questions: a moving window, kept in a ``limits`` storage.

:class:`Limiter` is what the chat layer needs; :class:`RateLimiter` implements it
over any storage the ``limits`` library opens from a URI (setting
``chat.rate_limit_storage``): ``memory://`` for one process, ``redis://host`` to
share the limits between several bot processes.
"""

from __future__ import annotations

import math
import time
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


class RateLimiter:
    """Allows each user ``questions`` questions in any window of ``seconds`` seconds.

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
