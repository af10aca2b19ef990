"""Discord questions take the core's batched path: concurrent channels share one model call."""

from __future__ import annotations

import asyncio

import discord
import pytest
import simcord

from retrieval import Retriever
from tests.conftest import GatedEncoder, gated_retriever, until

pytestmark = pytest.mark.simcord(approved_intents=discord.Intents.default())

FIRST = "Where was Talgat Baktybekova born?"
SECOND = "What instrument did Bakhyt Camara's grandmother play?"


# The session's index, its questions embedded by a model the test can hold.
retriever = pytest.fixture(name="retriever")(gated_retriever)


@pytest.mark.parametrize("via", ["slash", "mention"])
async def test_a_discord_question_shares_a_model_call_with_another_chat(
    simcord_env: simcord.Env, retriever: Retriever, via: str
) -> None:
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    alice = guild.add_member(simcord_env.create_user("alice"))
    bot = simcord_env.bot.user
    assert bot is not None
    gate = retriever.encoder
    assert isinstance(gate, GatedEncoder)
    gate.hold()
    busy = asyncio.create_task(retriever.asearch("who plays the dombra?"))
    await until(gate.entered.is_set)  # the model is busy with another question
    # A question from another chat waits for the model (simcord runs one operation at a time).
    elsewhere = asyncio.create_task(retriever.asearch(SECOND))
    await until(lambda: retriever.batcher.pending == 1)

    if via == "slash":
        asking = asyncio.ensure_future(alice.slash(channel, "ask", question=FIRST))
    else:
        asking = asyncio.ensure_future(alice.send(channel, f"{bot.mention} {FIRST}"))
    await until(lambda: retriever.batcher.pending == 2)
    gate.release()
    await busy
    await asking
    assert (await elsewhere).found

    reply = channel.last_message
    assert reply is not None and reply.author.id == bot.id
    assert "Central Asia" in " ".join(e.description or "" for e in reply.embeds)
    assert len(gate.calls) == 2  # the busy question's call, then one call for both chats
    assert FIRST in gate.calls[1] and SECOND in gate.calls[1]
