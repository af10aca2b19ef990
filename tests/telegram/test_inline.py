"""Inline queries while typing: a newer query of the same user supersedes the waiting one."""

from __future__ import annotations

import asyncio

from bot.telegram.inline import LatestQueries


async def test_a_newer_query_of_the_same_user_supersedes_a_waiting_one() -> None:
    latest = LatestQueries(settle=0.05)

    first = asyncio.create_task(latest.settled(1, "q1"))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(latest.settled(1, "q2"))
    other_user = asyncio.create_task(latest.settled(2, "q3"))

    assert await first is False
    assert await second is True and await other_user is True
    latest.done(1, "q1")  # the superseded query forgets nothing of the newer one
    assert latest.is_latest(1, "q2")
    latest.done(1, "q2")
    assert not latest.is_latest(1, "q2")
