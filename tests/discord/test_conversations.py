"""Conversations keep their thread in Discord: follow-ups, a switch, two people in a channel."""

from __future__ import annotations

import discord
import pytest
import simcord

pytestmark = pytest.mark.simcord(approved_intents=discord.Intents.default())

TALGAT, BAKHYT = "Talgat Baktybekova", "Bakhyt Camara"


def text_of(message: simcord.ResponseMessage | None) -> str:
    assert message is not None
    return " ".join([message.content or ""] + [e.description or "" for e in message.embeds])


def titles(message: simcord.ResponseMessage | None) -> set[str]:
    assert message is not None
    return {e.title or "" for e in message.embeds}


async def test_follow_ups_in_a_channel(simcord_env: simcord.Env) -> None:
    channel = simcord_env.create_guild().create_text_channel("general")
    anna = simcord_env.guild.add_member(simcord_env.create_user("anna"))

    async def ask(question: str) -> simcord.ResponseMessage | None:
        return (await anna.slash(channel, "ask", question=question)).response

    await ask("who is the lead singer of moonlight serenaders")
    grandmother = await ask("what instrument did her grandmother play")
    performed = await ask("who did she perform for?")
    await ask("who are the steppe serenaders?")
    switched = await ask("who did she perform for?")

    assert f"{TALGAT}'s story doesn't mention this. From {BAKHYT}'s story:" in text_of(grandmother)
    assert "balalaika" in text_of(grandmother) and titles(grandmother) == {BAKHYT}
    assert f"(About {TALGAT}, from your previous question.)" in text_of(performed)
    assert titles(performed) == {TALGAT}
    assert f"(About {BAKHYT}, from your previous question.)" in text_of(switched)


async def test_two_people_in_a_channel_keep_their_own_artists(simcord_env: simcord.Env) -> None:
    channel = simcord_env.create_guild().create_text_channel("general")
    anna = simcord_env.guild.add_member(simcord_env.create_user("anna"))
    ben = simcord_env.guild.add_member(simcord_env.create_user("ben"))
    bot = simcord_env.bot.user
    assert bot is not None

    async def ask(who: simcord.MemberActor, question: str) -> str:
        await who.send(channel, f"{bot.mention} {question}")
        return text_of(channel.last_message)

    await ask(anna, "where was talgat born")
    await ask(ben, "what was bakhyt camara wearing on stage")
    assert f"(About {TALGAT}," in await ask(anna, "who did she perform for?")
    assert f"(About {BAKHYT}," in await ask(ben, "who did she perform for?")
