"""``artistbot run`` as a real process: both bots start over one core and stop cleanly.

Discord is a local stand-in (:mod:`tests.discord.standin`), Telegram the Bot API
emulator of the Telegram tests; everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from retrieval import RetrievalSettings, Retriever
from tests.discord.standin import DiscordStandIn
from tests.telegram.conftest import emulator  # noqa: F401  (the Bot API emulator fixture)

DISCORD_TOKEN = "discord-secret-token.for-tests"
TELEGRAM_TOKEN = "123456:telegram-secret-token"
ARTISTBOT = Path(sys.executable).with_name("artistbot")
START_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0


class Process:
    """A running ``artistbot`` command whose log lines are collected as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode(errors="replace"))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def wait_for_log(self, *needles: str) -> None:
        async def seen() -> None:
            while not all(n in self.log for n in needles):
                if self.process.returncode is not None:
                    raise AssertionError(f"artistbot exited early:\n{self.log}")
                await asyncio.sleep(0.1)

        try:
            await asyncio.wait_for(seen(), START_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"never logged {needles}:\n{self.log}") from None

    async def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        await self._reader
        return code

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


@pytest.fixture
def data_dir(retriever: Retriever, retrieval_settings: RetrievalSettings, tmp_path: Path) -> Path:
    """A copy of the session's data directory: the index is built, the model exported."""
    target = tmp_path / "data"
    shutil.copytree(retrieval_settings.data_dir, target)
    return target


async def start(args: list[str], env: dict[str, str]) -> Process:
    process = await asyncio.create_subprocess_exec(
        str(ARTISTBOT), *args, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    return Process(process)


def environment(retrieval_settings: RetrievalSettings, data_dir: Path, standin: DiscordStandIn,
                **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISCORD_BOT_TOKEN", "TELEGRAM_BOT_TOKEN")}
    env.update({
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
    })
    return env


@pytest.mark.slow
async def test_run_starts_both_bots_and_stops_them_on_sigterm(
    emulator: str,  # noqa: F811
    retrieval_settings: RetrievalSettings,
    data_dir: Path,
) -> None:
    standin = DiscordStandIn()
    await standin.start()
    env = environment(retrieval_settings, data_dir, standin,
                      TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
                      ARTISTBOT_TELEGRAM__BASE_URL=f"{emulator}/bot")
    bot = await start(["run"], env)
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
    retrieval_settings: RetrievalSettings, data_dir: Path,
) -> None:
    standin = DiscordStandIn()
    await standin.start()
    env = environment(retrieval_settings, data_dir, standin)
    try:
        for _ in range(2):  # the second start finds the command tree unchanged
            bot = await start(["discord"], env)
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
    retrieval_settings: RetrievalSettings, data_dir: Path,
) -> None:
    standin = DiscordStandIn(reject_tokens=True)
    await standin.start()
    try:
        bot = await start(["discord"], environment(retrieval_settings, data_dir, standin))
        code = await asyncio.wait_for(bot.process.wait(), START_TIMEOUT)
        await bot._reader
    finally:
        await standin.stop()

    assert code == 1
    assert "Discord rejected DISCORD_BOT_TOKEN" in bot.log
    assert DISCORD_TOKEN not in bot.log


async def test_artistbot_discord_without_a_token_says_how_to_set_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_BOT_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        str(ARTISTBOT), "discord", env=env, stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL)
    _, err = await process.communicate()
    assert process.returncode == 1
    assert "DISCORD_BOT_TOKEN is not set" in err.decode()
