"""The bot's own words in the asker's language, over the real retriever (both models)."""

from __future__ import annotations

import string

import pytest

from bot.chat import texts
from bot.chat.commands import COMMANDS
from bot.chat.i18n import gettext, language_of, supported
from bot.chat.messages import ActionKind, ActionRequest, Incoming, ReplyKind
from bot.chat.service import ChatService
from bot.chat.texts import BUTTONS, button_label

# Every sentence the chat layer says (the adapters' own few stay English).
CHAT_SENTENCES = [
    *(c.description for c in COMMANDS),
    *(label.text for label in BUTTONS.values()),
    *(
        getattr(texts, name)
        for name in (
            "HELP_INTRO",
            "HELP_COMMANDS",
            "EMPTY",
            "USAGE",
            "TOO_LONG",
            "RATE_LIMITED",
            "NOT_ADMIN",
            "STALE",
            "UNKNOWN_COMMAND",
            "NO_ANSWER",
            "NO_MORE",
            "ASK_FIRST",
            "CORRECTED",
            "FOLLOW_UP",
            "NOT_IN_STORY",
            "NOT_IN_STORY_NOR_ELSEWHERE",
            "THANKS_UP",
            "THANKS_DOWN",
            "NO_ARTISTS",
            "ARTISTS_ONE",
            "ARTISTS_MANY",
            "UNKNOWN_ARTIST",
            "ABOUT_BAND",
            "ABOUT_ALIASES",
            "ABOUT_STORY",
            "PASSAGES_ONE",
            "PASSAGES_MANY",
            "ABOUT_FOLLOW_UP",
            "RELOADED_NOTHING",
            "RELOADED",
            "FORGOTTEN_NOTHING",
            "FORGOTTEN",
        )
    ),
]


def _message(text: str, language: str | None = None) -> Incoming:
    return Incoming("telegram", "c1", "u1", text, language=language)


def test_language_comes_from_the_question_then_the_platform() -> None:
    assert language_of("Где родилась Талгат?", "en") == "ru"
    assert language_of("Талгат қайда туылған?", "ru") == "kk"
    assert language_of("where was Talgat born?", "kk") == "kk"
    assert supported("ru-RU") == "ru" and supported("de") == "en" and supported(None) == "en"


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_every_catalog_translates_every_sentence_with_its_fields(language: str) -> None:
    for text in CHAT_SENTENCES:
        translated = gettext(language, text)
        assert translated != text, (language, text)
        assert _fields(translated) == _fields(text), (language, text)
    assert button_label(ActionKind.MORE, language).text == gettext(language, "More")
    assert button_label(ActionKind.HELPFUL, language).emoji == "👍"


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


async def test_refusals_come_in_the_askers_language(chat: ChatService) -> None:
    too_long = await chat.handle(_message("Где " + "очень " * 100 + "родилась Талгат?"))
    assert too_long.kind is ReplyKind.REFUSED and too_long.text.startswith("Вопрос слишком длинный")
    assert too_long.language == "ru"
    unknown = await chat.command("weather", "", _message("/weather", language="ru"))
    assert unknown.text.startswith("Неизвестная команда /weather. Мои команды: /ask")
    usage = await chat.command("about", "", _message("/about", language="kk"))
    assert usage.text.startswith("Қолдану: /about <artist>")
    admin = await chat.command("reload", "", _message("/reload", language="ru"))
    assert admin.text == "Извините, /reload доступна только админам бота."
    for _ in range(3):  # the chat fixture allows 3 questions a minute
        await chat.handle(_message("Кто основал Moonlight Serenaders?"))
    limited = await chat.handle(_message("Кто основал Moonlight Serenaders?"))
    assert limited.text.startswith("Вы спрашиваете очень быстро")


async def test_a_russian_answer_and_its_buttons_stay_in_russian(chat: ChatService) -> None:
    reply = await chat.handle(_message("Откуда родом Талгат?"))
    assert reply.kind is ReplyKind.ANSWER and reply.language == "ru"
    assert "Central Asia" in reply.passages[0].best_sentence.of(reply.passages[0].text)
    assert ActionKind.MORE in reply.actions
    assert button_label(ActionKind.MORE, reply.language).text == "Ещё"
    assert reply.answer_id is not None
    # A vote from a user whose app is in English still thanks in the answer's language.
    request = ActionRequest(ActionKind.HELPFUL, reply.answer_id, "c1", "u1", language="en")
    thanks = await chat.act(request, platform="telegram")
    assert thanks.text == "Спасибо! Рад, что помогло." and thanks.language == "ru"
    english = await chat.handle(_message("Where was Talgat born?", language="ru"))
    assert english.language == "ru"  # an English question from a Russian-speaking user
