"""Stopping the Telegram bot: the last getUpdates, which confirms what was fetched, gets through.

python-telegram-bot cancels the poll in flight when it stops, then calls getUpdates once
more to confirm the last offset. httpcore can leave a request cancelled at an unlucky
moment holding its connection for good (encode/httpcore#1093); with one connection for
getUpdates that last call failed, logged a traceback, and left the fetched updates to be
delivered again on the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.chat import ChatService, FeedbackStore
from bot.settings import Settings
from bot.telegram import build_application, run
from retrieval import Retriever

TOKEN = "777001:TEST-shutdown-token"


@contextlib.asynccontextmanager
async def never_answering() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A local URL whose requests are held open until the context ends, and an event set
    once the first of them arrived."""
    arrived, release = asyncio.Event(), asyncio.Event()

    async def hold(request: web.Request) -> web.Response:
        arrived.set()
        await release.wait()
        return web.json_response({"ok": True, "result": []})

    app = web.Application()
    app.router.add_post("/held", hold)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/held", arrived
    finally:
        release.set()
        await runner.cleanup()


async def test_a_getupdates_connection_never_given_back_does_not_fail_the_stop(
    telegram_settings: Settings, retriever: Retriever, caplog: pytest.LogCaptureFixture
) -> None:
    chat = ChatService(retriever, telegram_settings, FeedbackStore(telegram_settings.feedback_path))
    application = build_application(telegram_settings, chat, TOKEN)
    stop = asyncio.Event()
    # Polls a second apart: the stop finds no poll of its own in flight, only the stuck one.
    bot = asyncio.create_task(run(application, stop=stop, poll_interval=1.0))
    for _ in range(500):
        if application.updater is not None and application.updater.running:
            break
        await asyncio.sleep(0.02)
    assert not bot.done(), bot.exception() if bot.done() else None

    async with never_answering() as (url, arrived):
        # What a poll cancelled at the unlucky moment leaves: a request on the getUpdates
        # connections that never gives its connection back. (python-telegram-bot has no
        # public handle on that request object; ``_request[0]`` is the one getUpdates uses.)
        polling_request = application.bot._request[0]
        stuck = asyncio.create_task(polling_request.do_request(url, "POST", read_timeout=60))
        await asyncio.wait_for(arrived.wait(), 10)

        stop.set()
        await asyncio.wait_for(bot, 30)
        stuck.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await stuck

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
