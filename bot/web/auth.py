"""Login and CSRF protection of the operator page.

The admin token comes from ``WEB_ADMIN_TOKEN`` only. A successful login marks the
session, which lives in a signed, HTTP-only, ``Secure``, ``SameSite=Strict`` cookie
(the token itself is never stored in it nor put in a URL). Every page but the login
refuses a request without that session; every form carries a per-session CSRF token
that each POST must send back.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import secrets
from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

TOKEN_VARIABLE = "WEB_ADMIN_TOKEN"
MIN_TOKEN_LENGTH = 16
FAILED_LOGIN_DELAY = 0.5  # seconds, against guessing
SESSION_KEY = "operator"
CSRF_KEY = "csrf"

Handler = Callable[[Request], Awaitable[Response]]


class TokenMissing(Exception):
    """``WEB_ADMIN_TOKEN`` is unset or too short; the message says what to do."""


def admin_token() -> str:
    """The admin token from the environment; refuse a missing or short one."""
    value = os.environ.get(TOKEN_VARIABLE, "").strip()
    if len(value) < MIN_TOKEN_LENGTH:
        raise TokenMissing(
            f"{TOKEN_VARIABLE} must be set to at least {MIN_TOKEN_LENGTH} characters to open the "
            "operator page, e.g. export WEB_ADMIN_TOKEN=$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(24))')"
        )
    return value


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use), for a form's hidden field."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def csrf_valid(request: Request, sent: object) -> bool:
    """Whether a form sent back this session's CSRF token."""
    expected = request.session.get(CSRF_KEY)
    return (
        isinstance(expected, str)
        and isinstance(sent, str)
        and hmac.compare_digest(expected.encode(), sent.encode())
    )


def logged_in(request: Request) -> bool:
    """Whether this request's session has logged in."""
    return request.session.get(SESSION_KEY) is True


def login_required(handler: Handler) -> Handler:
    """Send a request without a logged-in session to the login page, and check every POST's
    CSRF token."""

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        if not logged_in(request):
            if request.method != "GET":
                return PlainTextResponse("Please log in first.", status_code=401)
            return RedirectResponse("/login", status_code=303)
        if request.method == "POST":
            form = await request.form()
            if not csrf_valid(request, form.get(CSRF_KEY)):
                return refused_csrf()
        return await handler(request)

    return guarded


def refused_csrf() -> Response:
    """The answer to a form without this session's CSRF token."""
    return PlainTextResponse(
        "This form has expired or did not come from this page; reload it and try again.",
        status_code=403,
    )


async def check_login(request: Request, token: str, sent: object) -> bool:
    """Log the session in when ``sent`` is the admin token (a fresh session and CSRF token)."""
    if isinstance(sent, str) and hmac.compare_digest(sent.strip().encode(), token.encode()):
        request.session.clear()
        request.session[SESSION_KEY] = True
        csrf_token(request)
        return True
    await asyncio.sleep(FAILED_LOGIN_DELAY)
    return False
