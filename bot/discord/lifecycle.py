"""Running the Discord client: until a stop event, against Discord or local stand-ins."""

from __future__ import annotations

import asyncio
import logging

import discord
import yarl

from bot.discord.client import ArtistBot

log = logging.getLogger(__name__)


async def run(bot: ArtistBot, token: str, *, stop: asyncio.Event) -> None:
    """Run ``bot`` until ``stop`` is set, sharing the running event loop; close it cleanly.

    A failure to connect (a wrong token, say) is raised, not swallowed.
    """
    async with bot:
        connection = asyncio.create_task(bot.start(token), name="discord-connection")
        stopping = asyncio.create_task(stop.wait(), name="discord-stop")
        try:
            await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not connection.done():
                await bot.close()
            await connection  # re-raises a connection failure
    log.info("discord bot stopped")


def use_endpoints(api_base: str, gateway_url: str) -> None:
    """Point discord.py at these REST and gateway URLs (local stand-ins); call once, at start-up."""
    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
