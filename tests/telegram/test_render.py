"""Telegram HTML rendering and splitting, and token redaction, without the emulator."""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat import PassageView, Reply, ReplyKind
from bot.logsafety import TokenFilter
from bot.telegram.render import escape, render_reply, telegram_length
from retrieval import Span


def passage(text: str, span: Span | None = None, artist: str = "Talgat <B>") -> PassageView:
    return PassageView(
        text=text,
        best_sentence=span or Span(0, len(text)),
        artist=artist,
        story_title="Talgat & co",
        score=1.0,
    )


class _Tags(HTMLParser):
    """Checks that tags are balanced and text decodes back."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text += data


def balanced_text(message: str) -> str:
    parser = _Tags()
    parser.feed(message)
    parser.close()
    assert not parser.stack, message
    assert set(re.findall(r"</?(\w+)", message)) <= {"b", "i"}
    return parser.text


def test_escapes_corpus_and_user_text_and_bolds_the_best_sentence() -> None:
    text = "First <script> & more. Second sentence wins. Third."
    start = text.index("Second")
    reply = Reply(
        ReplyKind.ANSWER,
        "about <you>",
        passages=(passage(text, Span(start, text.index(" Third"))),),
    )
    (message,) = render_reply(reply)
    assert "First &lt;script&gt; &amp; more. <b>Second sentence wins.</b> Third." in message
    assert "<i>about &lt;you&gt;</i>" in message
    assert "— <i>Talgat &lt;B&gt;, “Talgat &amp; co”</i>" in message
    assert escape('<a href="x">') == '&lt;a href="x"&gt;'


def test_plain_replies_are_escaped() -> None:
    (message,) = render_reply(Reply(ReplyKind.NO_ANSWER, "Nothing for “<b>hi</b>” & co"))
    assert message == "Nothing for “&lt;b&gt;hi&lt;/b&gt;” &amp; co"
    assert render_reply(Reply(ReplyKind.INFO, "")) == []


def test_splits_at_passage_boundaries_under_the_limit() -> None:
    passages = tuple(passage(f"Passage {n}. " + "word " * 150) for n in range(12))
    messages = render_reply(Reply(ReplyKind.ANSWER, passages=passages), limit=4096)
    assert len(messages) > 1
    for message in messages:
        assert telegram_length(message) <= 4096
        balanced_text(message)
        # Each message holds whole passages, each with its citation.
        assert message.count("Passage ") == message.count("— <i>")


def test_an_overlong_passage_splits_between_sentences_never_inside_a_tag() -> None:
    text = " ".join(f"Sentence number {n} has <tags> & ampersands." for n in range(300))
    start = text.index("Sentence number 150")
    span = Span(start, text.index("Sentence number 152"))
    messages = render_reply(Reply(ReplyKind.ANSWER, passages=(passage(text, span),)))
    assert len(messages) > 1
    decoded = ""
    for message in messages:
        assert telegram_length(message) <= 4096
        decoded += balanced_text(message)
    assert "Sentence number 299 has <tags> & ampersands." in decoded
    assert decoded.count("Talgat <B>, “Talgat & co”") == 1


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from('ab <>&".!? 😀\n'), min_size=1, max_size=3000),
    cut=st.tuples(st.integers(0, 3000), st.integers(0, 3000)),
    limit=st.integers(200, 4096),
)
def test_any_passage_renders_within_the_limit(text: str, cut: tuple[int, int], limit: int) -> None:
    start, end = sorted(min(c, len(text)) for c in cut)
    messages = render_reply(
        Reply(ReplyKind.ANSWER, passages=(passage(text, Span(start, end)),)), limit=limit
    )
    decoded = ""
    for message in messages:
        assert telegram_length(message) <= limit
        decoded += balanced_text(message)
    assert text.replace("\n", "") in decoded.replace("\n", "")


def test_token_filter_redacts_messages_arguments_and_tracebacks() -> None:
    token = "123456:SECRET-token"
    token_filter = TokenFilter(token)
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "POST https://api.telegram.org/bot%s/getUpdates",
        (token,),
        None,
    )
    assert token_filter.filter(record)
    assert token not in record.getMessage() and "[REDACTED]" in record.getMessage()
    try:
        raise RuntimeError(f"failed: https://api.telegram.org/bot{token}/getMe")
    except RuntimeError as exc:
        failing = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "boom", (), (type(exc), exc, exc.__traceback__)
        )
    token_filter.filter(failing)
    assert token not in logging.Formatter().format(failing)
