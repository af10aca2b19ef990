"""Stories managed from the chats, in the chat layer over a real retriever of its own.

Each test adds, replaces or removes stories in a private copy of the seed corpus, with
the real model and index; the replies are what an admin reads in a chat.
"""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path

import pytest

from bot.chat import (
    ActionKind,
    ActionRequest,
    Attachment,
    ChatService,
    Incoming,
    Reply,
    ReplyKind,
)
from bot.chat.feedback import FeedbackStore
from bot.settings import Settings
from retrieval import Retriever
from tests.conftest import story_file

ARUZHAN = "Aruzhan Sadykova"
STORY = story_file(ARUZHAN, "Golden Domra", "a shepherd from Taraz")
QUESTION = "Who taught Aruzhan Sadykova to sing?"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01" + bytes(200)


class File:
    """A file sent with a message; counts how often its bytes were fetched."""

    def __init__(self, name: str, data: bytes, *, declared: int | None = None) -> None:
        self.name, self.data, self.reads = name, data, 0
        self.declared = len(data) if declared is None else declared

    async def read(self) -> bytes:
        self.reads += 1
        return self.data

    def attachment(self) -> Attachment:
        return Attachment(self.name, self.declared, self.read)


def msg(
    text: str = "", *, file: File | None = None, user: str = "ed", editor: bool = True
) -> Incoming:
    return Incoming(
        platform="test",
        chat_id="c1",
        user_id=user,
        text=text,
        is_admin=True,
        is_editor=editor,
        attachment=file.attachment() if file else None,
    )


@pytest.fixture
def chat(own_retriever: Retriever, chat_settings: Settings, feedback: FeedbackStore) -> ChatService:
    """A chat layer over a retriever whose stories the test may change."""
    return ChatService(own_retriever, chat_settings, feedback)


async def press(
    chat: ChatService, kind: ActionKind, pending: str | None, user: str = "ed"
) -> Reply:
    assert pending is not None
    return await chat.act(ActionRequest(kind, pending, "c1", user))


def corpus(chat: ChatService) -> dict[str, bytes]:
    folder = chat.retriever.settings.corpus_dir
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


async def test_an_added_story_answers_the_very_next_question(chat: ChatService) -> None:
    reply = await chat.command("addstory", "", msg(file=File("aruzhan.txt", STORY)))

    assert reply.kind is ReplyKind.INFO
    lines = reply.text.splitlines()
    assert lines[0] == "Added story aruzhan. Here is what I understood:"
    assert lines[1] == ARUZHAN and "Band: Golden Domra" in lines
    assert any(line.startswith("Story: “") and "passage" in line for line in lines)
    # The sample question is answered from the new story: the names were read right.
    assert f"Asked “Who is {ARUZHAN}?”, I answer from {ARUZHAN}'s story" in reply.text
    assert "3 stories in all." in lines
    assert reply.actions == (ActionKind.UNDO,)

    answer = await chat.handle(msg(QUESTION))
    assert answer.is_answer and answer.passages[0].artist == ARUZHAN
    assert "shepherd from Taraz" in answer.passages[0].text
    assert "aruzhan.txt" in corpus(chat)


async def test_the_same_name_asks_before_replacing_and_undo_puts_the_old_one_back(
    chat: ChatService,
) -> None:
    await chat.command("addstory", "", msg(file=File("aruzhan.txt", STORY)))
    newer = story_file(ARUZHAN, "Golden Domra", "a blacksmith from Shymkent")

    asked = await chat.command("addstory", "", msg(file=File("aruzhan.txt", newer)))
    assert asked.text.startswith(f"Replace the story about {ARUZHAN} (aruzhan, ")
    assert asked.actions == (ActionKind.CONFIRM, ActionKind.CANCEL)
    assert corpus(chat)["aruzhan.txt"] == STORY  # nothing changed before the answer
    # Only the admin who asked may answer.
    other = await press(chat, ActionKind.CONFIRM, asked.answer_id, user="someone")
    assert other.kind is ReplyKind.REFUSED and "expired" in other.text

    replaced = await press(chat, ActionKind.CONFIRM, asked.answer_id)
    assert replaced.text.startswith("Replaced story aruzhan (the old version is kept aside)")
    assert corpus(chat)["aruzhan.txt"] == newer
    answer = await chat.handle(msg(QUESTION))
    assert "blacksmith from Shymkent" in answer.passages[0].text
    again = await press(chat, ActionKind.CONFIRM, asked.answer_id)
    assert "expired" in again.text  # each question is answered once

    undone = await press(chat, ActionKind.UNDO, replaced.answer_id)
    assert undone.text == "Put back story aruzhan as it was. 3 stories in all."
    assert corpus(chat)["aruzhan.txt"] == STORY
    answer = await chat.handle(msg(QUESTION))
    assert "shepherd from Taraz" in answer.passages[0].text


async def test_cancel_changes_nothing(chat: ChatService) -> None:
    before = corpus(chat)
    asked = await chat.command("removestory", "Talgat Baktybekova", msg())
    cancelled = await press(chat, ActionKind.CANCEL, asked.answer_id)
    assert cancelled.text == "Cancelled: the stories are as they were."
    assert corpus(chat) == before


async def test_remove_asks_first_keeps_the_file_and_restore_brings_it_back(
    chat: ChatService,
) -> None:
    retriever = chat.retriever
    [talgat] = [s for s in retriever.stories if s.artist == "Talgat Baktybekova"]
    original = corpus(chat)[Path(talgat.path).name]

    asked = await chat.command("removestory", "talgat baktybekova", msg())
    assert asked.text.startswith(f"Remove the story about Talgat Baktybekova ({talgat.story_id}")
    assert talgat.story_id in [s.story_id for s in retriever.stories]

    removed = await press(chat, ActionKind.CONFIRM, asked.answer_id)
    assert removed.text == (
        f"Removed story {talgat.story_id} (Talgat Baktybekova); its file is kept aside. "
        "1 story in all."
    )
    assert f"{talgat.story_id}.txt" not in corpus(chat)
    answer = await chat.handle(msg("Who is the lead singer of Moonlight Serenaders?"))
    assert all(p.artist != "Talgat Baktybekova" for p in answer.passages)

    change = retriever.restore_story(talgat.story_id)
    assert change.story.artist == "Talgat Baktybekova"
    assert corpus(chat)[f"{talgat.story_id}.txt"] == original
    answer = await chat.handle(msg("Who is the lead singer of Moonlight Serenaders?"))
    assert answer.passages[0].artist == "Talgat Baktybekova"


async def test_which_story_to_remove_is_never_guessed(chat: ChatService) -> None:
    unknown = await chat.command("removestory", "Talgat Baktybekovaa", msg())
    assert unknown.text == "No story is called “Talgat Baktybekovaa”. /stories lists them."
    await chat.command("addstory", "", msg(file=File("one.txt", STORY)))
    await chat.command("addstory", "", msg(file=File("two.md", STORY + b"\nShe also paints.\n")))
    both = await chat.command("removestory", ARUZHAN, msg())
    assert both.text == f"“{ARUZHAN}” names 2 stories: one, two. Please give the id of one."
    by_id = await chat.command("removestory", "two", msg())
    assert by_id.actions == (ActionKind.CONFIRM, ActionKind.CANCEL)


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("poster.png.txt", PNG, "I can't add poster.png.txt: it looks binary; send the story "),
        ("empty.txt", b"", "I can't add empty.txt: it has no text; send the story as plain text"),
        ("blank.md", b" \n\n\t\n", "I can't add blank.md: it has no text; send the story "),
        (
            "notes.pdf",
            b"%PDF-1.4 text",
            "I can't add notes.pdf: only .md or .txt files are stories; save it as one",
        ),
    ],
)
async def test_files_that_are_no_story_are_refused_and_nothing_changes(
    chat: ChatService, name: str, data: bytes, says: str
) -> None:
    before = corpus(chat)
    reply = await chat.command("addstory", "", msg(file=File(name, data)))
    assert reply.kind is ReplyKind.REFUSED
    assert reply.text.startswith(says)
    assert corpus(chat) == before and len(chat.retriever.stories) == 2


async def test_a_file_over_the_limit_is_refused_without_fetching_it(chat: ChatService) -> None:
    big = File("big.txt", STORY * (3 * 1024 * 1024 // len(STORY) + 1))
    reply = await chat.command("addstory", "", msg(file=big))
    assert reply.text == (
        "I can't add big.txt: it is 3.0 MB, over the limit of 2.0 MB. Please send a shorter story."
    )
    assert big.reads == 0
    # A platform that does not say the size: fetched, then refused all the same.
    undeclared = File("big.txt", big.data, declared=0)
    reply = await chat.command("addstory", "", msg(file=undeclared))
    assert "over the limit of 2.0 MB" in reply.text and len(chat.retriever.stories) == 2


async def test_a_latin_1_file_is_read_and_says_so(chat: ChatService) -> None:
    latin = story_file("Zhanar Dauletova", "Café Steppe", "a café owner").decode()
    reply = await chat.command(
        "addstory", "", msg(file=File("zhanar.txt", latin.encode("latin-1")))
    )
    assert reply.text.startswith("Added story zhanar.")
    assert "Note: zhanar.txt is not UTF-8; read it as Windows-1252." in reply.text
    assert "Band: Café Steppe" in reply.text


async def test_only_named_admins_may_change_the_stories(chat: ChatService) -> None:
    for message_of in (
        lambda f: msg(file=f, editor=False),  # e.g. a Discord server's Administrator
        lambda f: Incoming("test", "c1", "u9", "", attachment=f.attachment()),
    ):
        file = File("aruzhan.txt", STORY)
        reply = await chat.command("addstory", "", message_of(file))
        assert reply.kind is ReplyKind.REFUSED
        assert reply.text.startswith("Sorry, only the admins named in the bot's settings")
        assert file.reads == 0
    plain = await chat.command("stories", "", Incoming("test", "c1", "u9", ""))
    assert plain.text == "Sorry, only the bot's admins may use /stories."


async def test_a_change_while_another_is_indexed_is_refused(chat: ChatService) -> None:
    lock = chat.retriever.index._reload_lock
    with lock:
        reply = await chat.command("addstory", "", msg(file=File("aruzhan.txt", STORY)))
    assert reply.text == (
        "I can't do that right now: another change to the stories is being indexed; "
        "try again in a moment."
    )
    assert "aruzhan.txt" not in corpus(chat)


async def test_a_failed_build_changes_nothing(
    chat: ChatService, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = corpus(chat)
    encoder = chat.retriever.index.encoder

    def broken(*args: object, **kwargs: object) -> None:
        raise MemoryError("the machine ran out of memory")

    monkeypatch.setattr(encoder, "encode", broken)
    reply = await chat.command("addstory", "", msg(file=File("aruzhan.txt", STORY)))
    monkeypatch.undo()
    assert reply.text.startswith("Indexing aruzhan.txt failed, so nothing was changed")
    assert corpus(chat) == before
    answer = await chat.handle(msg("Who is the lead singer of Moonlight Serenaders?"))
    assert answer.passages[0].artist == "Talgat Baktybekova"


async def test_stories_lists_them_and_every_change_is_in_the_audit(chat: ChatService) -> None:
    listed = await chat.command("stories", "", msg())
    lines = listed.text.splitlines()
    assert lines[0] == "2 stories:"
    assert any(
        line.startswith("• 000_172f390d79c9c20b: Talgat Baktybekova (Moonlight Serenaders), “")
        and " UTC" in line
        for line in lines
    )
    added = await chat.command("addstory", "", msg(file=File("aruzhan.txt", STORY)))
    await press(chat, ActionKind.UNDO, added.answer_id)

    path = chat.settings.feedback_path
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT platform, user_id, action, story_id, file FROM story_log"
        ).fetchall()
    assert rows == [
        ("test", "ed", "added", "aruzhan", "aruzhan.txt"),
        ("test", "ed", "removed", "aruzhan", "aruzhan.txt"),
    ]


async def test_names_are_fixed_from_the_chat_and_undone(chat: ChatService) -> None:
    await chat.command("addstory", "", msg(file=File("aruzhan.txt", STORY)))
    assert not chat.retriever.find_stories("Zhanna")

    fixed = await chat.command(
        "storynames", "aruzhan artist: Aruzhan Sadykova; aliases: Aru, Zhanna", msg()
    )
    assert fixed.text.startswith("Set the names of story aruzhan. Here is what I understood:")
    assert "Also known as: Aru, Zhanna" in fixed.text
    sidecar = chat.retriever.settings.corpus_dir / "aruzhan.toml"
    assert tomllib.loads(sidecar.read_text())["aliases"] == ["Aru", "Zhanna"]
    assert [s.story_id for s in chat.retriever.find_stories("Zhanna")] == ["aruzhan"]
    answer = await chat.handle(msg("Who taught Zhanna to sing?"))
    assert answer.passages[0].artist == ARUZHAN

    undone = await press(chat, ActionKind.UNDO, fixed.answer_id)
    assert undone.text.startswith("Set the names of story aruzhan.")
    assert not chat.retriever.find_stories("Zhanna")

    how = await chat.command("storynames", "aruzhan colour: blue", msg())
    assert how.text.startswith("Write the story's id, then the names to set")
    unknown = await chat.command("storynames", "nobody artist: X", msg())
    assert unknown.text == "No story is called “nobody”. /stories lists them."
