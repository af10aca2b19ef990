"""The operator page: a small server-rendered Starlette app over the running chat layer.

It reads the question log through :class:`~bot.insights.figures.Figures` (the same
figures as ``artistbot report``) and answers the "try a question" box through the
same :class:`~bot.chat.ChatService` the bots use, so nothing of ranking or replies
is written twice. Every template escapes what it shows; nothing loads from the
internet (one local stylesheet, no scripts).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.chat import ChatService, Incoming
from bot.insights.figures import Figures
from bot.web.auth import (
    CSRF_KEY,
    check_login,
    csrf_token,
    csrf_valid,
    logged_in,
    login_required,
    refused_csrf,
)

HERE = Path(__file__).resolve().parent
DEFAULT_DAYS = 30
SECURITY_HEADERS = [
    # Bars are sized by style attributes (numbers only); no script runs anywhere.
    (
        b"content-security-policy",
        b"default-src 'self'; style-src-attr 'unsafe-inline'; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
# The operator's tries, as the chat layer sees them (not logged, not rate limited).
TRY_PLATFORM, TRY_CHAT, TRY_USER = "web", "web-try", "operator"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def create_app(chat: ChatService, token: str, *, session_hours: float = 12.0) -> Starlette:
    """The operator page over ``chat``; ``token`` is the admin token a login must give."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.filters["split_sentence"] = split_sentence
    figures = Figures(chat.settings.feedback_path, chat.retriever.encoder)

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status)

    async def login(request: Request) -> Response:
        if request.method == "GET":
            if logged_in(request):
                return RedirectResponse("/", status_code=303)
            return page(request, "login.html")
        form = await request.form()
        if not csrf_valid(request, form.get(CSRF_KEY)):
            return refused_csrf()
        if await check_login(request, token, form.get("token")):
            return RedirectResponse("/", status_code=303)
        return page(request, "login.html", 401, error="That is not the admin token.")

    @login_required
    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @login_required
    async def overview(request: Request) -> Response:
        days = _days(request)
        report = await asyncio.to_thread(figures.report, days=days, slowest=10)
        return page(request, "overview.html", report=report, days=days, nav="overview")

    @login_required
    async def unanswered(request: Request) -> Response:
        days = _days(request)
        groups = await asyncio.to_thread(figures.unanswered_groups, days=days)
        return page(request, "unanswered.html", groups=groups, days=days, nav="unanswered")

    @login_required
    async def low_rated(request: Request) -> Response:
        days = _days(request)
        answers = await asyncio.to_thread(figures.low_rated, days=days)
        return page(request, "low_rated.html", answers=answers, days=days, nav="low-rated")

    @login_required
    async def stories(request: Request) -> Response:
        days = _days(request)
        asked = await asyncio.to_thread(figures.asked_per_story, days=days)
        rows = sorted(chat.retriever.stories, key=lambda s: (-asked.get(s.story_id, 0), s.artist))
        return page(request, "stories.html", stories=rows, asked=asked, days=days, nav="stories")

    @login_required
    async def try_question(request: Request) -> Response:
        question, reply = "", None
        if request.method == "POST":
            form = await request.form()
            question = str(form.get("question", ""))
            message = Incoming(TRY_PLATFORM, TRY_CHAT, TRY_USER, question, private=True)
            chat.topics.clear(message)  # each try stands alone, as a first question would
            reply = await chat.handle(message)
        return page(request, "try.html", question=question, reply=reply, nav="try")

    routes = [
        Route("/", overview),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/unanswered", unanswered),
        Route("/low-rated", low_rated),
        Route("/stories", stories),
        Route("/try", try_question, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=secrets.token_urlsafe(32),  # a restart logs everyone out
            session_cookie="artistbot_operator",
            max_age=int(session_hours * 3600),
            same_site="strict",
            https_only=True,
        ),
    ]
    return Starlette(routes=routes, middleware=middleware)


def split_sentence(text: str, span: tuple[int, int] | list[int]) -> tuple[str, str, str]:
    """A passage as (before, best sentence, after), for the template to highlight."""
    start, end = span
    return text[:start], text[start:end], text[end:]


def _days(request: Request) -> int:
    value = request.query_params.get("days", "")
    return int(value) if value.isdigit() and 1 <= int(value) <= 3650 else DEFAULT_DAYS


class SecurityHeaders:
    """Adds the page's security headers (no framing, no outside resources, no caching)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
