"""Per-user rate limiting of questions (a moving window, via the ``limits`` library)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class RateLimiter:
    """Allows each user ``questions`` questions in any window of ``seconds`` seconds."""

    def __init__(self, questions: int, seconds: float) -> None:
        self._item = RateLimitItemPerSecond(questions, max(1, math.ceil(seconds)))
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def allow(self, platform: str, user_id: str) -> bool:
        """Count one question for this user; False when the limit is already reached."""
        return self._limiter.hit(self._item, platform, user_id)

    def retry_after(self, platform: str, user_id: str) -> int:
        """Seconds (rounded up, at least 1) until this user may ask again."""
        stats = self._limiter.get_window_stats(self._item, platform, user_id)
        return max(1, math.ceil(stats.reset_time - time.time()))
