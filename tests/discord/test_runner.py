"""``artistbot run`` as a real process: both bots start over one core and stop cleanly.

Discord is a local stand-in (:mod:`tests.discord.standin`), Telegram the Bot API
emulator of the Telegram tests; everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from retrieval import RetrievalSettings, Retriever
from tests.discord.standin import DiscordStandIn
from tests.process import ARTISTBOT, START_TIMEOUT, BotProcess, copy_data_dir
from tests.telegram.conftest import emulator  # noqa: F401  (the Bot API emulator fixture)

DISCORD_TOKEN = "discord-secret-token.for-tests"
TELEGRAM_TOKEN = "123456:telegram-secret-token"


@pytest.fixture
def data_dir(retriever: Retriever, retrieval_settings: RetrievalSettings, tmp_path: Path) -> Path:
    """A copy of the session's data directory: the index is built, the model exported."""
    return copy_data_dir(retrieval_settings.data_dir, tmp_path)


def environment(
    retrieval_settings: RetrievalSettings, data_dir: Path, standin: DiscordStandIn, **extra: str
) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DISCORD_BOT_TOKEN", "TELEGRAM_BOT_TOKEN")
    }
    env.update(
        {
            "ARTISTBOT_CONFIG": str(data_dir / "no-config-file.toml"),  # the built-in defaults
            "ARTISTBOT_RETRIEVAL__CORPUS_DIR": str(retrieval_settings.corpus_dir),
            "ARTISTBOT_RETRIEVAL__DATA_DIR": str(data_dir),
            "ARTISTBOT_DISCORD__API_BASE": standin.api_base,
            "ARTISTBOT_DISCORD__GATEWAY_URL": standin.gateway_url,
            "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            **extra,
        }
    )
    return env


@pytest.mark.slow
async def test_run_starts_both_bots_and_stops_them_on_sigterm(
    emulator: str,  # noqa: F811
    retrieval_settings: RetrievalSettings,
    data_dir: Path,
) -> None:
    standin = DiscordStandIn()
    await standin.start()
    env = environment(
        retrieval_settings,
        data_dir,
        standin,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        ARTISTBOT_TELEGRAM__BASE_URL=f"{emulator}/bot",
    )
    bot = await BotProcess.start(["run"], env)
    try:
        await bot.wait_for_log("running: telegram, discord", "telegram bot @", "discord: logged in")
        await asyncio.wait_for(standin.identified.wait(), START_TIMEOUT)

        code = await bot.stop(signal.SIGTERM)
    finally:
        bot.kill()
        await standin.stop()

    assert code == 0, bot.log
    assert "SIGTERM received" in bot.log and "all bots stopped" in bot.log
    assert "discord bot stopped" in bot.log
    assert "Traceback" not in bot.log
    assert standin.closed.is_set()  # the bot closed its gateway connection before exiting
    assert standin.tokens == [f"Bot {DISCORD_TOKEN}"]
    [commands] = standin.synced
    assert {c["name"] for c in commands} >= {"ask", "artists", "about", "reload"}
    assert DISCORD_TOKEN not in bot.log and TELEGRAM_TOKEN not in bot.log


@pytest.mark.slow
async def test_discord_alone_stops_on_sigint_and_syncs_only_changed_commands(
    retrieval_settings: RetrievalSettings,
    data_dir: Path,
) -> None:
    standin = DiscordStandIn()
    await standin.start()
    env = environment(retrieval_settings, data_dir, standin)
    try:
        for _ in range(2):  # the second start finds the command tree unchanged
            bot = await BotProcess.start(["discord"], env)
            try:
                await bot.wait_for_log("discord: logged in")
                code = await bot.stop(signal.SIGINT)
            finally:
                bot.kill()
            assert code == 0, bot.log
            assert "SIGINT received" in bot.log and "Traceback" not in bot.log
    finally:
        await standin.stop()

    assert len(standin.synced) == 1
    assert "slash commands unchanged since the last sync" in bot.log


@pytest.mark.slow
async def test_a_rejected_token_stops_with_a_clear_message(
    retrieval_settings: RetrievalSettings,
    data_dir: Path,
) -> None:
    standin = DiscordStandIn(reject_tokens=True)
    await standin.start()
    try:
        env = environment(retrieval_settings, data_dir, standin)
        bot = await BotProcess.start(["discord"], env)
        code = await bot.finish(START_TIMEOUT)
    finally:
        await standin.stop()

    assert code == 1
    assert "Discord rejected DISCORD_BOT_TOKEN" in bot.log
    assert DISCORD_TOKEN not in bot.log


async def test_artistbot_discord_without_a_token_says_how_to_set_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_BOT_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        str(ARTISTBOT),
        "discord",
        env=env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    _, err = await process.communicate()
    assert process.returncode == 1
    assert "DISCORD_BOT_TOKEN is not set" in err.decode()
