"""Conversations keep their thread in Telegram: follow-ups, a switch, a group of two."""

from __future__ import annotations

import html
import re

from tests.telegram.conftest import BOT_USERNAME, TelegramHarness, User

ANNA, BEN, CHLOE = User(3001, "Anna"), User(3002, "Ben"), User(3003, "Chloe")
GROUP = -7001
TALGAT, BAKHYT = "Talgat Baktybekova", "Bakhyt Camara"


def seen(message: dict[str, object]) -> str:
    """What the user reads: the HTML message without its markup."""
    return html.unescape(re.sub(r"<[^>]+>", "", str(message["text"])))


async def ask(telegram: TelegramHarness, user: User, question: str) -> str:
    await telegram.send(question, user=user)
    return seen(await telegram.reply(user.id))


async def test_a_follow_up_her_story_cannot_answer_says_so(telegram: TelegramHarness) -> None:
    await ask(telegram, ANNA, "tell me about bakhyt camara")
    born = await ask(telegram, ANNA, "where was she born")
    performed = await ask(telegram, ANNA, "who did she perform for?")

    assert born.startswith(f"{BAKHYT}'s story doesn't mention this. From {TALGAT}'s story:")
    assert "Central Asia" in born
    assert performed.startswith(f"(About {BAKHYT}, from your previous question.)")
    assert TALGAT not in performed


async def test_her_unrelated_passages_are_not_shown(telegram: TelegramHarness) -> None:
    await ask(telegram, BEN, "who is the lead singer of moonlight serenaders")
    grandmother = await ask(telegram, BEN, "what instrument did her grandmother play")

    assert grandmother.startswith(f"{TALGAT}'s story doesn't mention this. From {BAKHYT}'s")
    assert "balalaika" in grandmother and f"— {TALGAT}" not in grandmother


async def test_naming_the_band_switches_to_its_singer(telegram: TelegramHarness) -> None:
    await ask(telegram, CHLOE, "where was talgat born")
    await ask(telegram, CHLOE, "who are the steppe serenaders?")
    performed = await ask(telegram, CHLOE, "who did she perform for?")

    assert performed.startswith(f"(About {BAKHYT}, from your previous question.)")


async def test_two_people_in_a_group_keep_their_own_artists(telegram: TelegramHarness) -> None:
    mention = f"@{BOT_USERNAME}"

    async def ask_in_group(user: User, question: str) -> str:
        text = f"{mention} {question}"
        entity = {"type": "mention", "offset": 0, "length": len(mention)}
        await telegram.send(text, user=user, chat_id=GROUP, group=True, entities=[entity])
        return seen(await telegram.reply(GROUP))

    await ask_in_group(ANNA, "where was talgat born")
    await ask_in_group(BEN, "what did bakhyt camara wear on stage")
    anna = await ask_in_group(ANNA, "who did she perform for?")
    ben = await ask_in_group(BEN, "who did she perform for?")

    assert anna.startswith(f"(About {TALGAT}, from your previous question.)")
    assert ben.startswith(f"(About {BAKHYT}, from your previous question.)")
