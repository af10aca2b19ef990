"""The update processor: chats side by side, each chat's messages in order."""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram import Chat, Message, Update

from bot.telegram.updates import PerChatUpdateProcessor


def update(number: int, chat_id: int) -> Update:
    chat = Chat(id=chat_id, type=Chat.PRIVATE)
    message = Message(message_id=number, date=dt.datetime.now(dt.UTC), chat=chat, text="hi")
    return Update(update_id=number, message=message)


async def test_one_chat_in_order_other_chats_meanwhile() -> None:
    processor = PerChatUpdateProcessor(8)
    finished: list[str] = []
    release_first = asyncio.Event()

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        if wait is not None:
            await wait.wait()
        finished.append(name)

    async with processor:
        first = asyncio.create_task(
            processor.process_update(update(1, 10), handle("chat10-first", release_first))
        )
        second = asyncio.create_task(processor.process_update(update(2, 10), handle("chat10-next")))
        other = asyncio.create_task(processor.process_update(update(3, 20), handle("chat20")))
        await other  # another chat is not held up by chat 10's slow first message
        assert finished == ["chat20"]
        release_first.set()
        await asyncio.gather(first, second)

    assert finished == ["chat20", "chat10-first", "chat10-next"]


async def test_updates_without_a_chat_are_processed() -> None:
    processor = PerChatUpdateProcessor(2)
    done = asyncio.Event()

    async def handle() -> None:
        done.set()

    async with processor:
        await processor.process_update(object(), handle())

    assert done.is_set()
