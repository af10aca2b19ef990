"""Load: 200 simulated users send 5 questions each to one bot through the Telegram emulator.

Every question is answered exactly once, in the asker's chat; nothing is lost. The p50,
p99 and throughput are printed (and recorded in docs/RELIABILITY.md), never asserted:
speed is the benchmark's job.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.chat import ChatService, FeedbackStore
from bot.settings import ChatSettings, Settings, TelegramSettings
from bot.telegram import build_application, run
from retrieval import RetrievalSettings, Retriever
from tests.telegram.conftest import emulator  # noqa: F401  (the session's Bot API emulator)

USERS = 200
QUESTIONS_EACH = 5
ANSWERABLE = (
    "Who founded Moonlight Serenaders?",
    "What instrument did Bakhyt's grandmother play?",
    "Where was Talgat Baktybekova born?",
)
TOKEN = "55555:LOAD-token"
DEADLINE = 150.0  # seconds for everything to arrive (a bound for the loop, not an assertion)


def questions_of(user: int) -> list[str]:
    """Three answerable questions and two that echo a marker unique to the user."""
    answerable = [ANSWERABLE[(user + n) % len(ANSWERABLE)] for n in range(3)]
    return [*answerable, *(f"How do I bake sourdough bread, recipe {user}-{n}?" for n in (3, 4))]


@pytest.mark.slow
async def test_200_users_5_questions_each_all_answered_once_in_their_chat(
    emulator: str,  # noqa: F811
    retriever: Retriever,
    retrieval_settings: RetrievalSettings,
    tmp_path: Path,
) -> None:
    settings = Settings(
        retrieval=retrieval_settings,
        chat=ChatSettings(feedback_db=tmp_path / "feedback.sqlite3"),
        telegram=TelegramSettings(base_url=f"{emulator}/bot"),
    )
    chat = ChatService(retriever, settings, FeedbackStore(settings.feedback_path))
    application = build_application(settings, chat, TOKEN)
    stop = asyncio.Event()
    task = asyncio.create_task(run(application, stop=stop, poll_interval=0.02))
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=emulator, timeout=30, limits=limits) as api:
        for _ in range(300):
            if application.updater is not None and application.updater.running:
                break
            await asyncio.sleep(0.02)
        asked: dict[int, list[str]] = {}

        async def user(number: int) -> None:
            chat_id = 300_000 + number
            asked[chat_id] = questions_of(number)
            frm = {"id": chat_id, "is_bot": False, "first_name": f"U{number}"}
            for question in asked[chat_id]:
                body = {
                    "botToken": TOKEN,
                    "from": frm,
                    "text": question,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private", "first_name": f"U{number}"},
                }
                (await api.post("/sendMessage", json=body)).raise_for_status()

        started = time.monotonic()
        await asyncio.gather(*(user(n) for n in range(USERS)))
        history: list[dict[str, Any]] = []
        while time.monotonic() - started < DEADLINE:
            response = await api.post("/getUpdatesHistory", json={"token": TOKEN})
            history = response.json()["result"]
            if sum(1 for h in history if _bot(h)) >= USERS * QUESTIONS_EACH:
                break
            await asyncio.sleep(0.5)
        elapsed = time.monotonic() - started
        await asyncio.sleep(1.0)  # anything extra (a duplicate) would arrive now
        history = (await api.post("/getUpdatesHistory", json={"token": TOKEN})).json()["result"]
    stop.set()
    await asyncio.wait_for(task, timeout=30)

    replies: dict[int, list[dict[str, Any]]] = defaultdict(list)
    sent: dict[int, list[float]] = defaultdict(list)
    for item in history:
        message = item["message"]
        if _bot(item):
            replies[int(message["chat_id"])].append(item)
        else:
            sent[int(message["chat"]["id"])].append(item["time"])
    assert set(replies) == set(asked), "a chat got no answer, or an unknown chat got one"
    latencies = []
    for chat_id, questions in asked.items():
        texts = [r["message"]["text"] for r in replies[chat_id]]
        assert len(texts) == QUESTIONS_EACH, (chat_id, texts)  # exactly once each
        for marker in questions[3:]:  # the echoed questions are this user's, once each
            assert sum(marker in t for t in texts) == 1, (marker, texts)
        assert sum("— <i>" in t for t in texts) == 3, texts
        latencies += [
            (r["time"] - s) / 1000
            for r, s in zip(
                sorted(replies[chat_id], key=lambda r: r["time"]),
                sorted(sent[chat_id]),
                strict=True,
            )
        ]
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"\nload: {len(latencies)} questions from {USERS} users in {elapsed:.1f} s: "
        f"{len(latencies) / elapsed:.1f} answers/s, p50 {p50:.2f} s, p99 {p99:.2f} s"
    )


def _bot(item: dict[str, Any]) -> bool:
    """A message the bot sent (the emulator stores user and bot messages together)."""
    return "chat_id" in item["message"]
