"""The bot's own words in the asker's language, over the real retriever (both models)."""

from __future__ import annotations

import pytest

from bot.chat.i18n import gettext, language_of, supported
from bot.chat.messages import Incoming, ReplyKind
from bot.chat.service import ChatService
from bot.chat.texts import BUTTONS, HELP_INTRO, NO_ANSWER


def _message(text: str, language: str | None = None) -> Incoming:
    return Incoming("telegram", "c1", "u1", text, language=language)


def test_language_comes_from_the_question_then_the_platform() -> None:
    assert language_of("Где родилась Талгат?", "en") == "ru"
    assert language_of("Талгат қайда туылған?", "ru") == "kk"
    assert language_of("where was Talgat born?", "kk") == "kk"
    assert supported("ru-RU") == "ru" and supported("de") == "en" and supported(None) == "en"


def test_every_catalog_translates_the_replies_and_buttons() -> None:
    for language in ("ru", "kk"):
        for text in (HELP_INTRO, NO_ANSWER, *(label.text for label in BUTTONS.values())):
            assert gettext(language, text) != text, (language, text)
        assert "{question}" in gettext(language, NO_ANSWER)


async def test_a_russian_question_gets_the_passage_and_russian_words(chat: ChatService) -> None:
    reply = await chat.handle(_message("На каком инструменте играла бабушка Бахыт Камары?"))
    assert reply.kind is ReplyKind.ANSWER
    assert any("balalaika" in p.text for p in reply.passages)
    missing = await chat.handle(_message("Какая столица Франции?"))
    assert missing.kind is ReplyKind.NO_ANSWER
    # The topic (Bakhyt Camara) stays from the first question; the refusal is in Russian.
    assert missing.text.startswith("Извините, ни история Bakhyt Camara, ни другие")


async def test_a_kazakh_user_gets_kazakh_help(chat: ChatService) -> None:
    reply = await chat.command("help", "", _message("/help", language="kk"))
    assert reply.text.startswith("Мен әңгімелер жинағы бойынша")
    assert "Командалар:" in reply.text


@pytest.mark.parametrize("language", [None, "en", "de"])
async def test_everyone_else_gets_english_help(chat: ChatService, language: str | None) -> None:
    reply = await chat.command("help", "", _message("/help", language=language))
    assert reply.text.startswith("I answer questions about artists")
