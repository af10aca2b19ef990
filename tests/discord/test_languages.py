"""Russian and Kazakh on Discord, end to end in simcord: what the user sees.

simcord sends every interaction with the locale "en-US"; :func:`speaking` makes its
interactions carry another locale, as a Discord client in that language would.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest
import simcord
import simcord.interactions

from tests.discord.test_bot import button_ids, mention, setting_up

pytestmark = pytest.mark.simcord(approved_intents=discord.Intents.default())

QUESTION = "Какое платье было на Бахыт Камаре на сцене?"  # written from the seed story


def speaking(monkeypatch: pytest.MonkeyPatch, locale: str) -> None:
    """Make simcord's interactions carry ``locale`` (the user's Discord language)."""
    build = simcord.interactions.base_payload

    def with_locale(*args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        record, payload = build(*args, **kwargs)
        return record, {**payload, "locale": locale}

    monkeypatch.setattr(simcord.interactions, "base_payload", with_locale)


def button_labels(message: simcord.ResponseMessage) -> list[str]:
    """The labels of the buttons under a message."""
    return [b.get("label", "") for row in message.components for b in row.get("components", [])]


async def test_a_russian_question_gets_the_passage_and_russian_words(
    simcord_env: simcord.Env,
) -> None:
    channel, alice = setting_up(simcord_env)

    result = await alice.slash(channel, "ask", question=QUESTION)

    message = result.response
    assert message is not None and message.embeds[0].title == "Bakhyt Camara"
    assert "**" in (message.embeds[0].description or "")
    assert "blue and white" in " ".join(e.description or "" for e in message.embeds)
    assert button_labels(message) == ["Ещё", "Полезно", "Бесполезно"]
    assert any(i.startswith("artistbot:u:") for i in button_ids(message))

    thanks = await alice.click(message.message, label="Полезно")
    assert thanks.response is not None and thanks.response.content == "Спасибо! Рад, что помогло."

    await alice.send(channel, f"{mention(simcord_env)} Какая столица Франции?")
    reply = channel.last_message
    assert reply is not None and reply.author.bot
    assert reply.content.startswith("Извините, ни история Bakhyt Camara, ни другие")


async def test_a_kazakh_locale_gets_kazakh_help(
    simcord_env: simcord.Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel, alice = setting_up(simcord_env)

    english = await alice.slash(channel, "help")
    assert english.response is not None
    assert english.response.content.startswith("I answer questions about artists")

    speaking(monkeypatch, "kk")
    result = await alice.slash(channel, "help")

    assert result.response is not None
    assert result.response.content.startswith("Мен әңгімелер жинағы бойынша әртістер туралы")
    assert "Командалар:" in result.response.content
    usage = await alice.slash(channel, "about", artist=" ")
    assert usage.response is not None and usage.response.content.startswith("Қолдану: /about")
