"""Fault injection for the Telegram tests (test code only): a private emulator that can be
stopped and restarted, and a small 127.0.0.1 proxy in front of it that answers chosen Bot
API methods with errors, slowly, or not at all.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

EMULATOR_DIR = Path(__file__).resolve().parents[1] / "telegram" / "emulator"
HANG_SECONDS = 8.0  # a "hanging" answer is held this long (longer than the bot's timeouts)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Emulator:
    """A private telegram-test-api process on a fixed port, to stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["node", "start.js", str(self.port)],
            cwd=EMULATOR_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        assert line.startswith("ready"), f"emulator did not start: {line!r}"

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.kill()  # an outage, not a polite stop
        self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None


@dataclass
class Fault:
    """Answer the next ``times`` calls of ``method`` with ``action``."""

    method: str
    action: str  # "error" (HTTP 500), "unauthorized" (401), "slow" (delay, then pass), "hang"
    times: int = 1
    delay: float = 2.0


class FaultProxy:
    """Forwards Bot API calls to the emulator, except the ones a :class:`Fault` catches."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.injected: list[tuple[str, str]] = []  # (method, action) actually injected
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def inject(self, method: str, action: str, *, times: int = 1, delay: float = 2.0) -> None:
        self.faults.append(Fault(method, action, times, delay))

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _take(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                self.injected.append((method, fault.action))
                return fault
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        method = tail.rsplit("/", 1)[-1]
        fault = self._take(method)
        if fault is not None:
            if fault.action == "error":
                return web.json_response(
                    {"ok": False, "error_code": 500, "description": "Internal Server Error"},
                    status=500,
                )
            if fault.action == "unauthorized":
                return web.json_response(
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
                )
            if fault.action == "hang":
                await asyncio.sleep(HANG_SECONDS)
                return web.json_response(
                    {"ok": False, "error_code": 504, "description": "Gateway Timeout"}, status=504
                )
            await asyncio.sleep(fault.delay)  # "slow": then answer normally
        assert self._session is not None
        body = await request.read()
        headers = {
            k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")
        }
        try:
            async with self._session.request(
                request.method, f"{self.upstream}/{tail}", data=body, headers=headers
            ) as upstream:
                payload = await upstream.read()
                return web.Response(
                    body=payload, status=upstream.status, content_type=upstream.content_type
                )
        except aiohttp.ClientError:
            return web.json_response(
                {"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502
            )
