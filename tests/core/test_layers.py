"""Which chat platforms each part of bot/ loads: the chat layer none, each bot only its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PLATFORMS = ("telegram", "discord")
# A local port nobody listens on: the bots' first connection fails at once, off the network.
CLOSED = "127.0.0.1:9"

# Runs `artistbot <command>` in-process up to its first connection (the core is not loaded:
# starting a bot does not need it), then prints the platform libraries that were imported.
START_THEN_REPORT = """
import sys
import bot.cli
import bot.opening
bot.opening.open_retriever = lambda settings, **options: None
sys.argv = ["artistbot", sys.argv[1]]
try:
    bot.cli.main()
except BaseException:
    pass
print(" ".join(p for p in {platforms!r} if p in sys.modules))
"""


def run_python(script: str, *args: str, env: dict[str, str] | None = None) -> set[str]:
    """The words ``script`` prints last, run in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.splitlines()[-1].split()) if result.stdout.strip() else set()


def test_the_chat_layer_loads_no_platform() -> None:
    script = (
        "import sys, bot.chat, bot.repl, bot.render_text\n"
        f"print(' '.join(p for p in {PLATFORMS!r} if p in sys.modules))"
    )
    assert run_python(script) == set()


@pytest.mark.parametrize(("command", "other"), [("discord", "telegram"), ("telegram", "discord")])
def test_starting_one_bot_never_loads_the_other_platform(
    command: str, other: str, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "ARTISTBOT_CONFIG": str(tmp_path / "none.toml"),
        "ARTISTBOT_RETRIEVAL__DATA_DIR": str(tmp_path),
        "ARTISTBOT_DISCORD__API_BASE": f"http://{CLOSED}/api/v10",
        "ARTISTBOT_DISCORD__GATEWAY_URL": f"ws://{CLOSED}/",
        "ARTISTBOT_TELEGRAM__BASE_URL": f"http://{CLOSED}/bot",
        f"{command.upper()}_BOT_TOKEN": "123456:not-a-real-token",
    }
    loaded = run_python(START_THEN_REPORT.format(platforms=PLATFORMS), command, env=env)
    assert command in loaded  # it did start the bot
    assert other not in loaded
