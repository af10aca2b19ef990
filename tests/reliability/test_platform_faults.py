"""Platform faults against the Telegram emulator: error answers, slow and hanging answers, an
outage, a failing handler. The bot keeps running and answers the next question; the token
appears in no log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.chat import ChatService, FeedbackStore, Incoming, Reply
from bot.chat.texts import APOLOGY
from bot.logsafety import protect_token
from bot.settings import ChatSettings, Settings, TelegramSettings
from bot.telegram import build_application, run
from retrieval import RetrievalSettings, Retriever
from tests.reliability.faults import Emulator, FaultProxy
from tests.telegram.conftest import TelegramHarness, User

TOKEN = "987654:FAKE-reliability-token-do-not-log"
ALICE = User(2001, "Alice")
QUESTION = "Who founded Moonlight Serenaders?"
POISON = "poison"
TALGAT = "Talgat Baktybekova"
pytestmark = pytest.mark.slow


class FailingChat(ChatService):
    """The real chat layer, except that a question containing "poison" raises (a bug)."""

    async def handle(self, message: Incoming, *, k: int | None = None) -> Reply:
        if POISON in message.text:
            raise RuntimeError("the core fell over")
        return await super().handle(message, k=k)


@dataclass
class Rig:
    harness: TelegramHarness
    proxy: FaultProxy
    emulator: Emulator


@pytest.fixture
async def rig(
    retriever: Retriever,
    retrieval_settings: RetrievalSettings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[Rig]:
    """The real bot polling a private emulator through the fault proxy."""
    emulator = Emulator()
    emulator.start()
    proxy = FaultProxy(emulator.url)
    await proxy.start()
    settings = Settings(
        retrieval=retrieval_settings,
        chat=ChatSettings(feedback_db=tmp_path / "feedback.sqlite3"),
        telegram=TelegramSettings(base_url=f"{proxy.url}/bot"),
    )
    chat = FailingChat(retriever, settings, FeedbackStore(settings.feedback_path))
    application = build_application(settings, chat, TOKEN)
    token_filter = protect_token(TOKEN)
    caplog.handler.addFilter(token_filter)
    caplog.set_level(logging.DEBUG)
    stop = asyncio.Event()
    task = asyncio.create_task(run(application, stop=stop, poll_interval=0.02))
    try:
        async with httpx.AsyncClient(base_url=emulator.url, timeout=10) as api:
            for _ in range(300):
                if application.updater is not None and application.updater.running:
                    break
                await asyncio.sleep(0.02)
            yield Rig(TelegramHarness(api, TOKEN, settings.feedback_path), proxy, emulator)
        assert not task.done(), "the bot stopped running"
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
        await proxy.stop()
        emulator.stop()
        for handler in logging.getLogger().handlers:
            handler.removeFilter(token_filter)
    everything = caplog.text + "".join(str(r.exc_info) for r in caplog.records)
    assert TOKEN not in everything


async def ask(rig: Rig, text: str, *, wait: float = 30.0) -> str:
    await rig.harness.send(text, user=ALICE)
    return str((await rig.harness.replies(ALICE.id, wait=wait))[0]["text"])


async def test_an_error_answer_to_send_message_gets_an_apology_then_answers(rig: Rig) -> None:
    rig.proxy.inject("sendMessage", "error")
    assert await ask(rig, QUESTION) == APOLOGY
    assert TALGAT in await ask(rig, QUESTION)
    assert ("sendMessage", "error") in rig.proxy.injected


async def test_a_slow_answer_still_arrives(rig: Rig) -> None:
    rig.proxy.inject("sendMessage", "slow", delay=3.0)
    assert TALGAT in await ask(rig, QUESTION)
    assert ("sendMessage", "slow") in rig.proxy.injected


async def test_a_hanging_send_gets_an_apology_and_the_bot_goes_on(rig: Rig) -> None:
    rig.proxy.inject("sendMessage", "hang")
    assert await ask(rig, QUESTION) == APOLOGY
    assert TALGAT in await ask(rig, QUESTION)


async def test_failing_and_hanging_polls_do_not_stop_the_bot(rig: Rig) -> None:
    rig.proxy.inject("getUpdates", "error", times=3)
    rig.proxy.inject("getUpdates", "hang")
    assert TALGAT in await ask(rig, QUESTION, wait=60)
    assert ("getUpdates", "hang") in rig.proxy.injected


async def test_an_exception_in_a_handler_gets_an_apology_and_the_next_answer(rig: Rig) -> None:
    assert await ask(rig, f"{POISON}: who is Talgat?") == APOLOGY
    assert TALGAT in await ask(rig, QUESTION)


async def test_the_emulator_stopped_and_restarted(rig: Rig) -> None:
    assert TALGAT in await ask(rig, QUESTION)
    rig.emulator.stop()
    await asyncio.sleep(3)  # the bot polls into a dead server (502 from the proxy)
    rig.emulator.start()  # a fresh emulator on the same port: no memory of the old one
    assert TALGAT in await ask(rig, QUESTION, wait=90)


async def test_a_burst_from_one_user_is_rate_limited(rig: Rig) -> None:
    for _ in range(15):
        await rig.harness.send(QUESTION, user=ALICE)
    replies = [m["text"] for m in await rig.harness.replies(ALICE.id, count=15, wait=60)]
    assert len(replies) == 15  # every message answered exactly once
    answered = [t for t in replies if TALGAT in t]
    assert len(answered) == 6  # the default limit: 6 questions a minute
    assert all("wait" in t for t in replies if t not in answered)
