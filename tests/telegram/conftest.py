"""End-to-end fixtures: the telegram-test-api emulator and the real bot polling it.

The emulator (an npm package pinned in ``emulator/package-lock.json``) runs in a
node process on a free local port; ``emulator/start.js`` holds the small
compatibility fixes python-telegram-bot 22 needs. Each test gets its own bot
token, so the emulator keeps its messages apart.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.chat import ChatService, FeedbackStore
from bot.settings import ChatSettings, Settings, TelegramSettings
from bot.telegram import build_application, run
from retrieval import RetrievalSettings, Retriever

EMULATOR_DIR = Path(__file__).parent / "emulator"
BOT_ID = 666
BOT_USERNAME = "TestNameBot"
ADMIN_ID = 4242
_tokens = itertools.count(100000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def emulator() -> Iterator[str]:
    """The Bot API emulator's base URL (installed with ``npm ci`` if needed)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "node and npm are needed for the Telegram end-to-end tests"
    if not (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=EMULATOR_DIR,
            check=True,
            capture_output=True,
        )
    port = _free_port()
    process = subprocess.Popen(
        [node, "start.js", str(port)],
        cwd=EMULATOR_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready"), f"emulator did not start: {line!r}"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@dataclass
class User:
    """A Telegram user as the emulator sends it."""

    id: int
    first_name: str = "Ada"
    language_code: str | None = None  # the language of the user's Telegram app

    def payload(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "username": f"user{self.id}",
        }
        if self.language_code is not None:
            user["language_code"] = self.language_code
        return user


@dataclass
class TelegramHarness:
    """Push user updates into the emulator and read what the bot sent back."""

    api: httpx.AsyncClient
    token: str
    feedback_path: Path
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def send(
        self,
        text: str | None,
        *,
        user: User,
        chat_id: int | None = None,
        group: bool = False,
        entities: list[dict[str, Any]] | None = None,
        reply_to: dict[str, Any] | None = None,
        command: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Send a user message (a command when ``command``) to the bot."""
        chat_id = chat_id if chat_id is not None else user.id
        chat = (
            {"id": chat_id, "type": "group", "title": "Fans"}
            if group
            else {"id": chat_id, "type": "private", "first_name": user.first_name}
        )
        message: dict[str, Any] = {
            "botToken": self.token,
            "from": user.payload(),
            "chat": chat,
            "date": int(time.time()),
            **(extra or {}),
        }
        if text is not None:
            message["text"] = text
        if command:
            assert text is not None
            entities = [{"offset": 0, "length": len(text.split(" ", 1)[0]), "type": "bot_command"}]
        if entities:
            message["entities"] = entities
        if reply_to:
            message["reply_to_message"] = reply_to
        route = "/sendCommand" if command else "/sendMessage"
        (await self.api.post(route, json=message)).raise_for_status()

    async def send_document(
        self, name: str, data: bytes, *, user: User, caption: str | None = None, size: int = 0
    ) -> None:
        """Send a file as a document (``size`` declares another size than the bytes')."""
        file_id = f"doc{next(self._message_ids)}"
        body = {"fileId": file_id, "base64": base64.b64encode(data).decode()}
        (await self.api.post("/uploadFile", json=body)).raise_for_status()
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": name,
            "mime_type": "text/plain",
            "file_size": size or len(data),
        }
        extra: dict[str, Any] = {"document": document}
        if caption is not None:
            extra["caption"] = caption
        await self.send(None, user=user, extra=extra)

    async def press(self, data: str, *, user: User, chat_id: int | None = None) -> None:
        """Press an inline button with this callback data under a bot message."""
        chat_id = chat_id if chat_id is not None else user.id
        message = {
            "message_id": 1,
            "date": int(time.time()),
            "text": "answer",
            "chat": {"id": chat_id, "type": "private", "first_name": user.first_name},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"},
        }
        body = {"botToken": self.token, "from": user.payload(), "message": message, "data": data}
        (await self.api.post("/sendCallback", json=body)).raise_for_status()

    async def inline(self, query: str, *, user: User) -> str:
        """Type "@bot query" in some chat; the inline query's id."""
        body = {"botToken": self.token, "from": user.payload(), "query": query}
        response = await self.api.post("/sendInlineQuery", json=body)
        response.raise_for_status()
        return str(response.json()["result"]["id"])

    async def replies(
        self, chat_id: int, *, count: int = 1, wait: float = 10.0
    ) -> list[dict[str, Any]]:
        """The bot's next ``count`` (or more) messages to ``chat_id``."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait
        while len(found) < count and time.monotonic() < deadline:
            response = await self.api.post(
                "/getUpdates", json={"token": self.token, "chatId": chat_id}
            )
            found += [item["message"] for item in response.json()["result"]]
            if len(found) < count:
                await asyncio.sleep(0.03)
        assert len(found) >= count, f"expected {count} replies, got {found}"
        return found

    async def reply(self, chat_id: int) -> dict[str, Any]:
        """The bot's single next message to ``chat_id``."""
        return (await self.replies(chat_id))[0]

    async def calls(
        self, method: str, *, count: int = 1, wait: float = 10.0
    ) -> list[dict[str, Any]]:
        """Recorded bodies of calls the emulator does not implement (e.g. sendChatAction)."""
        deadline = time.monotonic() + wait
        while True:
            response = await self.api.post("/recordedCalls", json={"token": self.token})
            bodies = [c["body"] for c in response.json()["result"] if c["method"] == method]
            if len(bodies) >= count or time.monotonic() > deadline:
                return bodies
            await asyncio.sleep(0.03)


@pytest.fixture
def telegram_settings(
    retrieval_settings: RetrievalSettings, emulator: str, tmp_path: Path
) -> Settings:
    """Settings pointing the bot at the emulator, with a small rate limit."""
    return Settings(
        retrieval=retrieval_settings,
        chat=ChatSettings(
            max_question_chars=500,
            rate_limit_questions=5,
            rate_limit_seconds=60,
            feedback_db=tmp_path / "feedback.sqlite3",
        ),
        telegram=TelegramSettings(
            admins=(ADMIN_ID,), base_url=f"{emulator}/bot", base_file_url=f"{emulator}/file/bot"
        ),
    )


@pytest.fixture
async def telegram(
    telegram_settings: Settings,
    retriever: Retriever,
    emulator: str,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[TelegramHarness]:
    """A running bot (the real python-telegram-bot HTTP path) and a harness to talk to it.

    A test fails if the bot's error handler had to apologise for anything.
    """
    token = f"{next(_tokens)}:TEST-token"
    chat = ChatService(retriever, telegram_settings, FeedbackStore(telegram_settings.feedback_path))
    application = build_application(telegram_settings, chat, token)
    stop = asyncio.Event()
    task = asyncio.create_task(run(application, stop=stop, poll_interval=0.02))
    async with httpx.AsyncClient(base_url=emulator, timeout=10) as api:
        for _ in range(200):
            if application.updater is not None and application.updater.running:
                break
            await asyncio.sleep(0.02)
        assert not task.done(), task.exception() if task.done() else None
        yield TelegramHarness(api, token, telegram_settings.feedback_path)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
