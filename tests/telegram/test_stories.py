"""Stories managed from Telegram, end to end: documents sent to the bot in the emulator.

The bot fetches each file through the Bot API's getFile and file download, as from
Telegram, into a retriever of its own (the test's private copy of the seed stories).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from retrieval import Retriever
from tests.conftest import story_file
from tests.core.test_cli import environment, invoke
from tests.telegram.conftest import ADMIN_ID, TelegramHarness, User
from tests.telegram.test_end_to_end import buttons

ADMIN = User(ADMIN_ID, "Admin")
ALICE = User(1001, "Alice")
ARUZHAN = "Aruzhan Sadykova"
STORY = story_file(ARUZHAN, "Golden Domra", "a shepherd from Taraz")


@pytest.fixture
def retriever(own_retriever: Retriever) -> Retriever:
    """The bot's stories are the test's own, to change."""
    return own_retriever


async def said(telegram: TelegramHarness, user: User) -> dict[str, Any]:
    return (await telegram.replies(user.id, wait=60))[0]


async def test_an_admin_adds_replaces_and_removes_a_story(telegram: TelegramHarness) -> None:
    # A document alone in a private chat is a story to add.
    await telegram.send_document("aruzhan.txt", STORY, user=ADMIN)
    added = await said(telegram, ADMIN)
    assert added["text"].startswith("Added story aruzhan. Here is what I understood:")
    assert "Band: Golden Domra" in added["text"]
    assert f"I answer from {ARUZHAN}'s story" in added["text"]
    assert list(buttons(added)) == ["Undo"]

    await telegram.send("Who taught Aruzhan Sadykova to sing?", user=ALICE)
    answer = await said(telegram, ALICE)
    assert "shepherd from Taraz" in answer["text"] and f"— <i>{ARUZHAN}" in answer["text"]

    # The same name again, with the caption /addstory: asked first, replaced on Yes.
    newer = story_file(ARUZHAN, "Golden Domra", "a blacksmith from Shymkent")
    await telegram.send_document("aruzhan.txt", newer, user=ADMIN, caption="/addstory")
    asked = await said(telegram, ADMIN)
    assert asked["text"].startswith(f"Replace the story about {ARUZHAN} (aruzhan, ")
    choices = buttons(asked)
    assert list(choices) == ["Yes, do it", "Cancel"]
    await telegram.press(choices["Yes, do it"], user=ADMIN)
    replaced = await said(telegram, ADMIN)
    assert replaced["text"].startswith("Replaced story aruzhan")
    await telegram.send("Who taught Aruzhan Sadykova to sing?", user=ALICE)
    assert "blacksmith from Shymkent" in (await said(telegram, ALICE))["text"]

    # Removed once confirmed.
    await telegram.send("/removestory aruzhan", user=ADMIN, command=True)
    asked = await said(telegram, ADMIN)
    assert asked["text"].startswith(f"Remove the story about {ARUZHAN} (aruzhan, ")
    await telegram.press(buttons(asked)["Yes, do it"], user=ADMIN)
    removed = await said(telegram, ADMIN)
    assert removed["text"] == (
        f"Removed story aruzhan ({ARUZHAN}); its file is kept aside. 2 stories in all."
    )
    await telegram.send("Who taught Aruzhan Sadykova to sing?", user=ALICE)
    assert ARUZHAN not in (await said(telegram, ALICE))["text"]


async def test_files_that_cannot_be_stories_get_a_reply_and_are_not_fetched_when_refused(
    telegram: TelegramHarness, own_retriever: Retriever
) -> None:
    corpus = own_retriever.settings.corpus_dir
    before = sorted(p.name for p in corpus.iterdir())

    await telegram.send_document("aruzhan.txt", STORY, user=ALICE)
    refused = await said(telegram, ALICE)
    assert refused["text"].startswith("Sorry, only the admins named in the bot's settings")
    await telegram.send_document("big.txt", b"x" * 1000, size=3 * 1024 * 1024, user=ADMIN)
    big = await said(telegram, ADMIN)
    assert big["text"].startswith("I can't add big.txt: it is 3.0 MB, over the limit of 2.0 MB.")
    assert await telegram.calls("getFile", wait=0.5) == []  # neither was fetched

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100)
    for name, data, reply in [
        ("poster.txt", png, "I can't add poster.txt: it looks binary; send the story as plain"),
        ("empty.txt", b"", "I can't add empty.txt: it has no text; send the story as plain"),
    ]:
        await telegram.send_document(name, data, user=ADMIN)
        assert (await said(telegram, ADMIN))["text"].startswith(reply)
    assert sorted(p.name for p in corpus.iterdir()) == before

    latin = story_file("Zhanar Dauletova", "Café Steppe", "a café owner").decode()
    await telegram.send_document("zhanar.txt", latin.encode("latin-1"), user=ADMIN)
    added = (await said(telegram, ADMIN))["text"]
    assert added.startswith("Added story zhanar.")
    assert "zhanar.txt is not UTF-8; read it as Windows-1252" in added
    assert "Band: Café Steppe" in added


async def test_a_story_removed_in_the_chat_comes_back_with_artistbot_stories_restore(
    telegram: TelegramHarness, own_retriever: Retriever, session_data_dir: Path
) -> None:
    await telegram.send_document("aruzhan.txt", STORY, user=ADMIN)
    await said(telegram, ADMIN)
    await telegram.send("/removestory aruzhan", user=ADMIN, command=True)
    await telegram.press(buttons(await said(telegram, ADMIN))["Yes, do it"], user=ADMIN)
    assert (await said(telegram, ADMIN))["text"].startswith("Removed story aruzhan")

    # The operator, on the server's shell (sharing the exported model, as a deployment does).
    settings = own_retriever.settings
    (settings.data_dir / "models").symlink_to(session_data_dir / "models", True)
    env = environment(settings.data_dir, settings.corpus_dir)
    restored = await asyncio.to_thread(invoke, ["stories", "restore", "aruzhan"], env)
    assert restored.stdout.startswith("Put back story aruzhan as it was."), restored.output

    # The running bot picks it up with /reload, and answers from it again.
    await telegram.send("/reload", user=ADMIN, command=True)
    assert (await said(telegram, ADMIN))["text"].startswith("Stories reloaded: 1 added")
    await telegram.send("Who taught Aruzhan Sadykova to sing?", user=ALICE)
    answer = (await said(telegram, ALICE))["text"]
    assert "shepherd from Taraz" in answer and f"— <i>{ARUZHAN}" in answer
