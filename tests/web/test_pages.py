"""Every route of the operator page: status, login required, CSRF refused, escaping."""

from __future__ import annotations

import base64

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from bot.chat import ChatService, Incoming
from tests.web.conftest import ANSWERED, MARKUP, TOKEN, VOTED_DOWN, csrf_of, log_in

PAGES = ["/", "/unanswered", "/low-rated", "/stories", "/try"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_refuses_without_login(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303 and response.headers["location"] == "/login"


@pytest.mark.parametrize("path", ["/try", "/logout"])
def test_every_form_refuses_without_login(client: TestClient, path: str) -> None:
    response = client.post(path, data={"question": ANSWERED, "csrf": "x"})
    assert response.status_code == 401
    assert "log in" in response.text


def test_login_page_and_wrong_token(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and 'type="password"' in page.text
    wrong = client.post("/login", data={"token": "guess", "csrf": csrf_of(page.text)})
    assert wrong.status_code == 401 and "not the admin token" in wrong.text
    assert client.get("/").status_code == 303


def test_login_without_csrf_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"token": TOKEN})
    assert response.status_code == 403
    assert client.get("/").status_code == 303


def test_login_sets_a_secure_http_only_cookie_without_the_token(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"token": TOKEN, "csrf": csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    flags = cookie.lower()
    assert "httponly" in flags and "secure" in flags and "samesite=strict" in flags
    payload = cookie.split("=", 1)[1].split(";")[0].split(".")[0]
    decoded = base64.b64decode(payload + "=" * (-len(payload) % 4))
    assert TOKEN.encode() not in decoded and TOKEN not in cookie
    assert TOKEN not in response.headers["location"]


def test_pages_after_login(client: TestClient, logged_chat: ChatService) -> None:
    log_in(client)
    overview = client.get("/")
    assert overview.status_code == 200
    assert '<span class="figure" id="questions">5</span>' in overview.text
    assert "Questions per day" in overview.text and "Votes per artist" in overview.text
    unanswered = client.get("/unanswered?days=7")
    assert unanswered.status_code == 200 and "what is pi" in unanswered.text
    low = client.get("/low-rated")
    assert low.status_code == 200
    assert str(escape(VOTED_DOWN)) in low.text and "<mark>" in low.text
    stories = client.get("/stories")
    assert stories.status_code == 200
    for story in logged_chat.retriever.stories:
        assert str(escape(story.artist)) in stories.text
    assert client.get("/try").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_question_markup_is_escaped_on_every_page(client: TestClient) -> None:
    csrf = log_in(client)
    escaped = str(escape(MARKUP))
    for path in ("/", "/unanswered"):
        page = client.get(path)
        assert escaped in page.text, path
        assert "<script>" not in page.text and "<b>her" not in page.text
    tried = client.post("/try", data={"question": MARKUP, "csrf": csrf})
    assert tried.status_code == 200
    assert "<script>" not in tried.text and "&lt;script&gt;" in tried.text


def test_try_shows_the_chat_layers_reply_with_scores(
    client: TestClient, logged_chat: ChatService
) -> None:
    csrf = log_in(client)
    response = client.post("/try", data={"question": ANSWERED, "csrf": csrf})
    assert response.status_code == 200
    assert 'id="reply"' in response.text and "dense " in response.text and "BM25 " in response.text


async def test_try_answer_is_the_one_the_bots_give(
    client: TestClient, logged_chat: ChatService
) -> None:
    csrf = log_in(client)
    response = client.post("/try", data={"question": VOTED_DOWN, "csrf": csrf})
    reply = await logged_chat.handle(Incoming("telegram", "another", "asker", VOTED_DOWN))
    assert reply.passages
    for passage in reply.passages:
        assert f"score {passage.score:.3f}" in response.text
        sentence = passage.best_sentence.of(passage.text)
        assert f"<mark>{escape(sentence)}</mark>" in response.text


def test_try_refuses_an_empty_question_with_the_bots_words(client: TestClient) -> None:
    csrf = log_in(client)
    response = client.post("/try", data={"question": "   ", "csrf": csrf})
    assert response.status_code == 200 and "Please type a question" in response.text


@pytest.mark.parametrize("csrf", [None, "forged"])
def test_forms_refuse_a_missing_or_wrong_csrf_token(client: TestClient, csrf: str | None) -> None:
    log_in(client)
    data = {"question": ANSWERED} if csrf is None else {"question": ANSWERED, "csrf": csrf}
    assert client.post("/try", data=data).status_code == 403
    assert client.post("/logout", data={"csrf": csrf or ""}).status_code == 403
    assert client.get("/").status_code == 200  # still logged in


def test_logout_ends_the_session(client: TestClient) -> None:
    csrf = log_in(client)
    response = client.post("/logout", data={"csrf": csrf})
    assert response.status_code == 303
    assert client.get("/").status_code == 303


def test_a_bad_days_value_falls_back_to_the_default(client: TestClient) -> None:
    log_in(client)
    assert client.get("/?days=-4").status_code == 200
    assert client.get("/unanswered?days=<x>").status_code == 200
