"""Secrets, permissions and shutdown, with ``artistbot`` as a real process on 127.0.0.1.

A known fake token must appear in no log line or error message, even in a run with
failures; a rejected token stops the bot with a message naming the variable; a token in
a config file is refused; /reload is refused to others; SIGTERM stops the bot with the
feedback database intact.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from bot.chat.texts import NOT_ADMIN
from retrieval import RetrievalSettings, Retriever
from tests.process import ARTISTBOT, BotProcess, copy_data_dir
from tests.reliability.faults import Emulator, FaultProxy
from tests.telegram.conftest import TelegramHarness, User

TOKEN = "424242:RELIABILITY-secret-token-never-log"
TALGAT = "Talgat Baktybekova"
QUESTION = "Who founded Moonlight Serenaders?"
pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(retriever: Retriever, retrieval_settings: RetrievalSettings, tmp_path: Path) -> Path:
    """A copy of the session's data directory: the index is built, the model exported."""
    return copy_data_dir(retrieval_settings.data_dir, tmp_path)


def environment(
    retrieval_settings: RetrievalSettings, data_dir: Path, base_url: str, **extra: str
) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISCORD_BOT_TOKEN", "TELEGRAM_BOT_TOKEN") and not k.startswith("ARTISTBOT_")
    }
    env.update(
        {
            "ARTISTBOT_CONFIG": str(data_dir / "no-config-file.toml"),
            "ARTISTBOT_RETRIEVAL__CORPUS_DIR": str(retrieval_settings.corpus_dir),
            "ARTISTBOT_RETRIEVAL__DATA_DIR": str(data_dir),
            "ARTISTBOT_TELEGRAM__BASE_URL": f"{base_url}/bot",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            **extra,
        }
    )
    return env


@pytest.fixture
async def rig() -> object:
    emulator = Emulator()
    emulator.start()
    proxy = FaultProxy(emulator.url)
    await proxy.start()
    try:
        yield emulator, proxy
    finally:
        await proxy.stop()
        emulator.stop()


async def test_a_run_with_failures_never_shows_the_token_and_sigterm_keeps_feedback_whole(
    rig: tuple[Emulator, FaultProxy],
    retrieval_settings: RetrievalSettings,
    data_dir: Path,
) -> None:
    emulator, proxy = rig
    env = environment(retrieval_settings, data_dir, proxy.url)
    bot = await BotProcess.start(["-v", "telegram"], env)  # debug logging: the most it ever says
    users = [User(7000 + n, f"U{n}") for n in range(8)]
    try:
        await bot.wait_for_log("telegram bot @")
        async with httpx.AsyncClient(base_url=emulator.url, timeout=10) as api:
            telegram = TelegramHarness(api, TOKEN, data_dir / "feedback.sqlite3")
            # Failures: error answers, a poll error, a refused admin command.
            proxy.inject("sendMessage", "error")  # the answer fails; the apology arrives
            proxy.inject("getUpdates", "error", times=2)
            await telegram.send(QUESTION, user=users[0])
            await telegram.replies(users[0].id, wait=60)
            await telegram.send("/reload", user=users[1], command=True)
            assert NOT_ADMIN.format(name="reload") in (await telegram.reply(users[1].id))["text"]
            # Answers to vote on, then a burst of votes and questions, and SIGTERM mid-way.
            buttons = {}
            for user in users:
                await telegram.send(QUESTION, user=user)
            for user in users:
                for message in await telegram.replies(user.id, wait=60):
                    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                        buttons[user.id] = row[-2]["callback_data"]  # 👍
            assert len(buttons) >= len(users) - 1  # the one refused send lost its buttons
            for user in users:
                if user.id in buttons:
                    await telegram.press(buttons[user.id], user=user)
                await telegram.send("Where was Talgat Baktybekova born?", user=user)
            await asyncio.sleep(0.3)
            bot.process.send_signal(signal.SIGTERM)
            code = await bot.finish()
            thanked = len(
                [
                    c
                    for c in await telegram.calls("answerCallbackQuery", wait=0)
                    if "Thanks" in str(c.get("text"))
                ]
            )
            late = []
            for user in users:
                response = await api.post("/getUpdates", json={"token": TOKEN, "chatId": user.id})
                late += [m["message"]["text"] for m in response.json()["result"]]
    finally:
        bot.kill()

    assert code == 0, bot.log
    assert "SIGTERM" in bot.log or "stopped" in bot.log or code == 0
    assert TOKEN not in bot.log and TOKEN.split(":")[1] not in bot.log
    for text in late:  # answers in flight arrived whole, or not at all
        assert TALGAT in text or "wait" in text or text.startswith("Sorry"), text
    with sqlite3.connect(data_dir / "feedback.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        votes = db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    assert votes == thanked  # every vote the user was thanked for is stored


@pytest.mark.parametrize("command", ["telegram", "run"])
async def test_a_rejected_token_stops_with_a_clear_message_and_never_shows_it(
    rig: tuple[Emulator, FaultProxy],
    retrieval_settings: RetrievalSettings,
    data_dir: Path,
    command: str,
) -> None:
    _, proxy = rig
    proxy.inject("getMe", "unauthorized", times=5)
    bot = await BotProcess.start([command], environment(retrieval_settings, data_dir, proxy.url))
    try:
        code = await bot.finish(limit=180)
    finally:
        bot.kill()
    assert code == 1, bot.log
    assert "TELEGRAM_BOT_TOKEN" in bot.log and "rejected" in bot.log
    assert TOKEN not in bot.log and TOKEN.split(":")[1] not in bot.log


@pytest.mark.parametrize(
    "config",
    [
        '[telegram]\ntoken = "{token}"\n',
        '[discord]\nbot_token = "{token}"\n',
        'telegram_token = "{token}"\n',
        '[telegram.auth]\ntoken = "{token}"\n',
    ],
)
def test_a_token_in_a_config_file_is_refused_clearly(tmp_path: Path, config: str) -> None:
    path = tmp_path / "bot.toml"
    path.write_text(config.format(token=TOKEN))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTISTBOT_")}
    result = subprocess.run(
        [str(ARTISTBOT), "--config", str(path), "ask", "who?"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "looks like a secret" in result.stderr and "environment" in result.stderr
    assert TOKEN not in result.stderr + result.stdout
