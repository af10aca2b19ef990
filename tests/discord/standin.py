"""A tiny stand-in for Discord's REST API and gateway on 127.0.0.1, for process-level tests.

Just enough for discord.py to log in, sync commands, connect, IDENTIFY, get
READY, heartbeat and disconnect: what ``artistbot run`` needs to start and stop.
It records what the bot did, so a test can check that it connected and closed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_USER = {
    "id": "1001",
    "username": "artistbot",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
}
APPLICATION = {
    "id": "2002",
    "name": "artistbot",
    "description": "",
    "icon": None,
    "bot_public": True,
    "bot_require_code_grant": False,
    "verify_key": "0" * 64,
    "owner": {**BOT_USER, "id": "3003", "username": "owner", "bot": False},
    "flags": 0,
}


def _json(payload: Any) -> web.Response:
    # discord.py parses a body as JSON only for exactly "application/json" (no charset).
    return web.Response(
        body=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )


@dataclass
class DiscordStandIn:
    """The running stand-in: its REST base URL and what the bot did."""

    api_base: str = ""
    gateway_url: str = ""
    reject_tokens: bool = False
    tokens: list[str] = field(default_factory=list)
    synced: list[list[dict[str, Any]]] = field(default_factory=list)
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int | None = None
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        app.router.add_get("/api/v10/gateway/bot", self._gateway_info)
        app.router.add_put("/api/v10/applications/{app_id}/commands", self._sync)
        app.router.add_get("/gateway", self._gateway)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.api_base = f"http://127.0.0.1:{port}/api/v10"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _me(self, request: web.Request) -> web.Response:
        self.tokens.append(request.headers.get("Authorization", ""))
        if self.reject_tokens:
            return web.Response(
                status=401,
                body=b'{"message": "401: Unauthorized", "code": 0}',
                headers={"Content-Type": "application/json"},
            )
        return _json(BOT_USER)

    async def _application(self, request: web.Request) -> web.Response:
        return _json(APPLICATION)

    async def _gateway_info(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _sync(self, request: web.Request) -> web.Response:
        commands = await request.json()
        self.synced.append(commands)
        return _json(
            [
                {**c, "id": str(4000 + i), "application_id": APPLICATION["id"], "version": "1"}
                for i, c in enumerate(commands)
            ]
        )

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        sequence = 0
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            if payload["op"] == 1:  # heartbeat
                await ws.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:  # identify
                sequence += 1
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [],
                    "session_id": "standin",
                    "resume_gateway_url": self.gateway_url,
                    "shard": [0, 1],
                    "application": {"id": APPLICATION["id"], "flags": 0},
                }
                await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": sequence, "d": ready}))
                self.identified.set()
        self.close_code = ws.close_code
        self.closed.set()
        return ws
