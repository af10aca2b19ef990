"""The operator page in a real browser: Debian's headless Chromium, driven by Playwright.

The server is the real one (uvicorn on a free local port, over the real chat layer);
the browser logs in, opens each page, asks a question in the "try" box and reads
the answer. Screenshots go to the test's temporary folder. Playwright never
downloads a browser here: it launches /usr/bin/chromium.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from benchmarks.operator import CHROMIUM_ARGS
from tests.web.conftest import ANSWERED, MARKUP, TOKEN

CHROMIUM = Path("/usr/bin/chromium")
ARGS = CHROMIUM_ARGS

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does it as root)",
)


@pytest.fixture
def server(app: Starlette) -> Iterator[str]:
    """The page served by uvicorn on a free port of 127.0.0.1, in a thread of its own."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_operator_page_in_chromium(server: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1100, "height": 900},
        )
        try:
            page = browser.new_page()
            outside: list[str] = []
            page.on(
                "request",
                lambda r: None if r.url.startswith(server) else outside.append(r.url),
            )
            # Every page sends a stranger to the log-in.
            page.goto(f"{server}/stories")
            assert page.url == f"{server}/login"
            page.screenshot(path=shots / "login.png")
            page.fill("#token", "not the token")
            page.click("button[type=submit]")
            assert page.locator(".error").inner_text() == "That is not the admin token."
            page.fill("#token", TOKEN)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/")
            cookie = next(c for c in browser.cookies() if c["name"] == "artistbot_operator")
            assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
            assert TOKEN not in page.url

            assert page.locator("#questions").inner_text() == "5"
            assert page.locator(".bar-row").count() >= 1
            page.screenshot(path=shots / "overview.png", full_page=True)

            page.click("text=Unanswered")
            page.wait_for_url(f"{server}/unanswered")
            assert MARKUP in page.locator("ol.groups").inner_text()  # shown as text, not run
            page.screenshot(path=shots / "unanswered.png", full_page=True)

            page.click("text=Low-rated")
            assert page.locator("section.answer mark").count() >= 1
            page.screenshot(path=shots / "low-rated.png", full_page=True)

            page.click("text=Stories")
            assert page.locator("tbody tr").count() >= 2
            page.screenshot(path=shots / "stories.png", full_page=True)

            page.click("text=Try a question")
            page.fill("#question", ANSWERED)
            page.click("form.stack button[type=submit]")
            reply = page.locator("#reply")
            reply.wait_for()
            assert "Moonlight Serenaders" in reply.inner_text()
            assert "dense" in reply.inner_text() and "BM25" in reply.inner_text()
            page.screenshot(path=shots / "try.png", full_page=True)

            # Readable on a phone: nothing wider than the screen.
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(f"{server}/")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the overview is {width}px wide on a 390px phone"
            page.screenshot(path=shots / "overview-phone.png", full_page=True)

            page.click("text=Log out")
            page.wait_for_url(f"{server}/login")
            page.goto(f"{server}/")
            assert page.url == f"{server}/login"
            assert outside == [], f"the page loaded from elsewhere: {outside}"
        finally:
            browser.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "login.png",
        "low-rated.png",
        "overview-phone.png",
        "overview.png",
        "stories.png",
        "try.png",
        "unanswered.png",
    ]
