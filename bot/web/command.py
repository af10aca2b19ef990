"""``artistbot web``: serve the operator page (and :func:`serve`, to run it on any loop)."""

from __future__ import annotations

import asyncio
import logging

import click

from bot.settings import Settings

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default=None, help="Address to bind (default: web.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Default: web.port.")
@click.pass_obj
def web(settings: Settings, host: str | None, port: int | None) -> None:
    """Serve the operator page; log in with the token in WEB_ADMIN_TOKEN."""
    from bot.logsafety import protect_token
    from bot.opening import open_chat, open_retriever
    from bot.web.auth import TokenMissing, admin_token

    try:
        token = admin_token()
    except TokenMissing as error:
        raise click.ClickException(str(error)) from None
    protect_token(token)
    if host or port:
        update = {"host": host or settings.web.host, "port": port or settings.web.port}
        settings = settings.model_copy(update={"web": settings.web.model_copy(update=update)})
    chat = open_chat(settings, open_retriever(settings, progress=True, serving=True))
    try:
        asyncio.run(serve(chat, settings, token))
    finally:
        if chat.questions is not None:
            chat.questions.close()


async def serve(
    chat: object, settings: Settings, token: str, *, stop: asyncio.Event | None = None
) -> None:
    """Serve the page on ``web.host:web.port`` until SIGINT/SIGTERM (or ``stop`` is set)."""
    import uvicorn

    from bot.chat import ChatService
    from bot.web.app import create_app

    assert isinstance(chat, ChatService)
    app = create_app(chat, token, session_hours=settings.web.session_hours)
    config = uvicorn.Config(
        app, host=settings.web.host, port=settings.web.port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    click.echo(f"operator page: http://{settings.web.host}:{settings.web.port}/", err=True)
    if stop is None:
        await server.serve()
        return
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task
