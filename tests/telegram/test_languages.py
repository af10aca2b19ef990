"""Russian and Kazakh on Telegram, end to end: what a user of the emulator sees.

The questions are written from the seed stories (not taken from the eval set).
"""

from __future__ import annotations

import re

from tests.telegram.conftest import TelegramHarness, User
from tests.telegram.test_end_to_end import buttons

OLGA = User(2001, "Olga")  # writes in Russian; her app's language is not set
AIGERIM = User(2002, "Aigerim", language_code="kk")
DANA = User(2003, "Dana", language_code="en")


async def test_a_russian_question_gets_the_passage_and_russian_words(
    telegram: TelegramHarness,
) -> None:
    await telegram.send("Какое платье было на Бахыт Камаре на сцене?", user=OLGA)
    reply = await telegram.reply(OLGA.id)
    bold = re.findall(r"<b>(.*?)</b>", reply["text"], re.S)
    assert any("blue and white" in sentence for sentence in bold)  # the passage stays English
    assert "— <i>Bakhyt Camara" in reply["text"]
    labels = buttons(reply)
    assert {"Ещё", "👍", "👎"} <= set(labels) and "More" not in labels

    await telegram.press(labels["👍"], user=OLGA)
    [thanks] = await telegram.calls("answerCallbackQuery")
    assert thanks["text"] == "Спасибо! Рад, что помогло."

    await telegram.send("Какая столица Франции?", user=OLGA)
    refusal = (await telegram.reply(OLGA.id))["text"]
    assert refusal.startswith("Извините, ни история Bakhyt Camara, ни другие")


async def test_a_kazakh_user_gets_kazakh_help(telegram: TelegramHarness) -> None:
    await telegram.send("/help", user=AIGERIM, command=True)
    help_text = (await telegram.reply(AIGERIM.id))["text"]
    assert help_text.startswith("Мен әңгімелер жинағы бойынша әртістер туралы")
    assert "Командалар:" in help_text
    assert "/forgetme - Барлық чаттарда сақтаған" in help_text

    await telegram.send("/help", user=DANA, command=True)
    assert (await telegram.reply(DANA.id))["text"].startswith("I answer questions about artists")

    await telegram.send("/weather", user=AIGERIM, command=True)
    assert (await telegram.reply(AIGERIM.id))["text"].startswith("Белгісіз команда /weather.")
