"""The question report and the operator page after 1,000 logged questions.

``python -m benchmarks.operator [--screenshot FILE.png]`` logs 1,000 real questions (the
seed and development question sets, asked over the last 30 days through the chat
layer, some voted on), then times ``Figures.report`` (first with the unanswered
questions' vectors still to compute, then warm) and every page of the operator
site, in process (ASGI, templates included). With ``--screenshot``, headless
Chromium photographs the overview. Prints one JSON object of milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

QUESTIONS = 1000
REPEATS = 20
ROOT = Path(__file__).resolve().parent.parent


# Debian's Chromium, headless and off the network (it must never reach a host from here).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _questions() -> list[str]:
    texts = []
    for name in ("eval/seeds/questions.jsonl", "eval/dev/questions.jsonl"):
        for line in (ROOT / name).read_text().splitlines():
            if line.strip():
                texts.append(json.loads(line)["question"])
    return texts


async def _fill(chat: Any, questions: Any) -> None:
    from bot.chat import ActionKind, ActionRequest, Incoming

    rng = random.Random(1)
    texts = _questions()
    now = time.time()
    for n in range(QUESTIONS):
        asked = now - rng.uniform(0, 30 * 86400)
        questions.clock = lambda asked=asked: asked
        chat_id = f"chat-{n % 37}"
        reply = await chat.handle(
            Incoming("telegram", chat_id, f"user-{n % 211}", rng.choice(texts), private=n % 3 == 0)
        )
        if reply.answer_id and rng.random() < 0.2:
            kind = ActionKind.HELPFUL if rng.random() < 0.7 else ActionKind.UNHELPFUL
            await chat.act(
                ActionRequest(kind, reply.answer_id, chat_id, "voter"), platform="telegram"
            )
    questions.clock = time.time
    questions.flush(60)


def _median_ms(action: Any) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def main(argv: list[str]) -> None:
    """Run the measurement; ``--screenshot FILE`` also photographs the overview."""
    from starlette.testclient import TestClient

    from bot.chat import ChatService, FeedbackStore
    from bot.chat.questionlog import QuestionLog
    from bot.insights.figures import Figures
    from bot.settings import ChatSettings, Settings, load_settings
    from bot.web import create_app
    from retrieval import Retriever

    base = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "feedback.sqlite3"
        settings = Settings(
            retrieval=base.retrieval,
            chat=ChatSettings(feedback_db=db, rate_limit_questions=1000),
        )
        retriever = Retriever.open(settings.retrieval, freeze=True)  # as the web page opens it
        questions = QuestionLog(db, b"bench")
        chat = ChatService(retriever, settings, FeedbackStore(db), questions=questions)
        asyncio.run(_fill(chat, questions))
        figures = Figures(db, retriever.encoder)
        start = time.perf_counter()
        report = figures.report()
        result: dict[str, Any] = {
            "logged": report.questions,
            "unanswered": report.questions - report.answered,
            "groups": len(report.unanswered),
            "report_first_ms": round((time.perf_counter() - start) * 1000, 1),
            "report_ms": _median_ms(figures.report),
        }
        token = "bench-token-0123456789abcdef"
        with TestClient(create_app(chat, token), base_url="https://testserver") as client:
            login = client.get("/login").text
            csrf = login.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            client.post("/login", data={"token": token, "csrf": csrf})
            for path in ("/", "/unanswered", "/low-rated", "/stories", "/try"):
                assert client.get(path).status_code == 200, path
                result[f"page {path}_ms"] = _median_ms(lambda p=path: client.get(p))
            csrf = client.get("/try").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            question = {"question": "Who founded Moonlight Serenaders?", "csrf": csrf}
            result["page POST /try_ms"] = _median_ms(lambda: client.post("/try", data=question))
        if "--screenshot" in argv:
            _screenshot(create_app(chat, token), token, Path(argv[argv.index("--screenshot") + 1]))
        questions.close()
        retriever.close()
    print(json.dumps(result, indent=2))


def _screenshot(app: Any, token: str, out: Path) -> None:
    import threading

    import uvicorn
    from playwright.sync_api import sync_playwright

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=8799, log_level="warning"))
    threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    args = CHROMIUM_ARGS
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path="/usr/bin/chromium",
            headless=True,
            args=args,
            viewport={"width": 1000, "height": 800},
        )
        page = browser.new_page()
        page.goto("http://127.0.0.1:8799/login")
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_url("http://127.0.0.1:8799/")
        page.screenshot(path=out, full_page=True)
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main(sys.argv[1:])
