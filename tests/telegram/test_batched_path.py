"""Telegram questions take the core's batched path: concurrent chats share one model call."""

from __future__ import annotations

import asyncio

import pytest

from retrieval import Retriever
from tests.conftest import GatedEncoder, gated_retriever, until
from tests.telegram.conftest import TelegramHarness, User

ALICE, BOB = User(2001, "Alice"), User(2002, "Bob")
FIRST = "Where was Talgat Baktybekova born?"
SECOND = "What instrument did Bakhyt Camara's grandmother play?"


# The session's index, its questions embedded by a model the test can hold.
retriever = pytest.fixture(name="retriever")(gated_retriever)


async def test_questions_from_two_chats_share_one_model_call(
    telegram: TelegramHarness, retriever: Retriever
) -> None:
    gate = retriever.encoder
    assert isinstance(gate, GatedEncoder)
    gate.hold()
    busy = asyncio.create_task(retriever.asearch("who plays the dombra?"))
    await until(gate.entered.is_set)  # the model is busy with another question

    await telegram.send(FIRST, user=ALICE)
    await telegram.send(SECOND, user=BOB)
    await until(lambda: retriever.batcher.pending == 2)
    gate.release()
    await busy

    first, second = await telegram.reply(ALICE.id), await telegram.reply(BOB.id)
    assert "Central Asia" in first["text"]
    assert "balalaika" in second["text"]
    assert len(gate.calls) == 2  # the busy question's call, then one call for both chats
    assert FIRST in gate.calls[1] and SECOND in gate.calls[1]
