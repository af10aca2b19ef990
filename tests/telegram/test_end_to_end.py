"""The Telegram bot end to end: python-telegram-bot's real HTTP path against an emulator."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from click.testing import CliRunner

from bot.chat import COMMANDS, FeedbackStore, public_commands
from bot.cli import cli
from tests.telegram.conftest import ADMIN_ID, BOT_ID, BOT_USERNAME, TelegramHarness, User

ALICE, BOB, CAROL = User(1001, "Alice"), User(1002, "Bob"), User(1003, "Carol")
DAVE = User(1004, "Dave")
GROUP = -5001
TALGAT = "Talgat Baktybekova"


def buttons(message: dict[str, object]) -> dict[str, str]:
    """Button label -> callback data of a bot message."""
    markup = message.get("reply_markup") or {}
    assert isinstance(markup, dict)
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


async def test_private_question_gets_the_right_passage(telegram: TelegramHarness) -> None:
    await telegram.send("Where was Talgat Baktybekova born?", user=ALICE)
    reply = await telegram.reply(ALICE.id)
    assert reply["parse_mode"] == "HTML"
    bold = re.findall(r"<b>(.*?)</b>", reply["text"], re.S)
    assert any("Central Asia" in sentence for sentence in bold)
    assert f"— <i>{TALGAT}" in reply["text"]
    labels = buttons(reply)
    assert {"👍", "👎"} <= set(labels)
    assert all(len(data.encode()) <= 64 for data in labels.values())
    typing = await telegram.calls("sendChatAction")
    assert typing and typing[0]["action"] == "typing"


async def test_group_answers_only_when_addressed(telegram: TelegramHarness) -> None:
    await telegram.send("Where was Talgat Baktybekova born?", user=ALICE, chat_id=GROUP, group=True)
    mention = f"@{BOT_USERNAME}"
    await telegram.send(
        f"{mention} What instrument did Bakhyt's grandmother play?",
        user=BOB,
        chat_id=GROUP,
        group=True,
        entities=[{"type": "mention", "offset": 0, "length": len(mention)}],
    )
    replies = await telegram.replies(GROUP)
    assert len(replies) == 1  # the unaddressed question got nothing
    assert "balalaika" in replies[0]["text"] and "Bakhyt Camara" in replies[0]["text"]
    # A reply to the bot's message, and /ask, are answered too (both work in privacy mode).
    bot_message = {
        "message_id": 7,
        "date": 0,
        "chat": {"id": GROUP, "type": "group"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"},
        "text": "x",
    }
    await telegram.send(
        "Who did she perform for?", user=BOB, chat_id=GROUP, group=True, reply_to=bot_message
    )
    assert "Bakhyt Camara" in (await telegram.reply(GROUP))["text"]
    await telegram.send(
        f"/ask@{BOT_USERNAME} Who founded Moonlight Serenaders?",
        user=ALICE,
        chat_id=GROUP,
        group=True,
        command=True,
    )
    assert TALGAT in (await telegram.reply(GROUP))["text"]


async def test_more_button_shows_further_passages(telegram: TelegramHarness) -> None:
    await telegram.send("Who plays the balalaika?", user=ALICE)
    first = await telegram.reply(ALICE.id)
    more = buttons(first)["More"]  # offered only when further passages exist
    await telegram.press(more, user=ALICE)
    second = await telegram.reply(ALICE.id)
    assert "— <i>" in second["text"] and second["text"] != first["text"]
    await telegram.send("/more", user=ALICE, command=True)  # continues the last answer
    third = (await telegram.reply(ALICE.id))["text"]
    assert "— <i>" in third or "No more passages" in third


async def test_feedback_is_persisted_and_exported(
    telegram: TelegramHarness, monkeypatch: object
) -> None:
    await telegram.send("Who founded Moonlight Serenaders?", user=CAROL)
    reply = await telegram.reply(CAROL.id)
    labels = buttons(reply)
    await telegram.press(labels["👍"], user=CAROL)
    await telegram.press(labels["👎"], user=CAROL)  # the last vote wins
    answers = await telegram.calls("answerCallbackQuery", count=2)
    assert "Thanks" in answers[-1]["text"]
    votes = list(FeedbackStore(telegram.feedback_path).votes())  # as after a restart
    assert [(v.user_id, v.vote, v.platform, v.artist) for v in votes] == [
        (str(CAROL.id), -1, "telegram", TALGAT)
    ]
    result = CliRunner().invoke(
        cli,
        ["feedback", "export", "--format", "jsonl"],
        env={"ARTISTBOT_CHAT__FEEDBACK_DB": str(telegram.feedback_path)},
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.splitlines()[0])
    assert row["question"] == "Who founded Moonlight Serenaders?" and row["vote"] == -1


async def test_stale_and_forged_buttons_get_a_polite_answer(telegram: TelegramHarness) -> None:
    await telegram.press("m:stale123", user=ALICE)
    await telegram.press("garbage", user=ALICE)
    answers = await telegram.calls("answerCallbackQuery", count=2)
    assert "ask" in answers[0]["text"].lower() and "ask" in answers[1]["text"].lower()
    await telegram.send("/artists", user=ALICE, command=True)  # still running
    assert TALGAT in (await telegram.reply(ALICE.id))["text"]


async def test_commands(telegram: TelegramHarness) -> None:
    await telegram.send("/artists", user=ALICE, command=True)
    text = (await telegram.reply(ALICE.id))["text"]
    assert TALGAT in text and "Bakhyt Camara" in text
    await telegram.send("/start", user=ALICE, command=True)
    assert "/ask" in (await telegram.reply(ALICE.id))["text"]
    await telegram.send("/about talgat", user=ALICE, command=True)
    assert "Moonlight Serenaders" in (await telegram.reply(ALICE.id))["text"]


async def test_the_command_menu_is_the_tables_public_commands(telegram: TelegramHarness) -> None:
    [call] = await telegram.calls("setMyCommands")
    menu = call["commands"]
    menu = json.loads(menu) if isinstance(menu, str) else menu
    assert [(c["command"], c["description"]) for c in menu] == [
        (c.name, c.description) for c in public_commands()
    ]


async def test_every_command_and_alias_of_the_table_is_answered(telegram: TelegramHarness) -> None:
    admin = User(ADMIN_ID, "Admin")
    for command in COMMANDS:
        for name in command.names:
            argument = f" {command.argument.example}" if command.argument else ""
            await telegram.send(f"/{name}{argument}", user=admin, command=True)
            text = (await telegram.replies(admin.id, wait=30))[0]["text"]
            assert text and "Unknown command" not in text, name


async def test_rate_limit(telegram: TelegramHarness) -> None:
    for _ in range(5):
        await telegram.send("Who founded Moonlight Serenaders?", user=BOB)
    await telegram.replies(BOB.id, count=5)
    await telegram.send("Who founded Moonlight Serenaders?", user=BOB)
    assert "wait" in (await telegram.reply(BOB.id))["text"]


async def test_over_long_and_out_of_corpus_questions(telegram: TelegramHarness) -> None:
    await telegram.send("Why? " * 150, user=ALICE)
    assert "too long" in (await telegram.reply(ALICE.id))["text"]
    await telegram.send("How do I bake sourdough bread?", user=ALICE)
    reply = await telegram.reply(ALICE.id)
    assert "found nothing" in reply["text"] and not buttons(reply)


async def test_html_in_a_question_comes_back_escaped(telegram: TelegramHarness) -> None:
    await telegram.send('<b>How do I bake</b> sourdough & "bread"?', user=ALICE)
    text = (await telegram.reply(ALICE.id))["text"]
    assert '&lt;b&gt;How do I bake&lt;/b&gt; sourdough &amp; "bread"?' in text
    assert "<b>" not in text


async def test_follow_up_uses_the_previous_artist(telegram: TelegramHarness) -> None:
    await telegram.send("What instrument did Bakhyt's grandmother play?", user=ALICE)
    await telegram.reply(ALICE.id)
    await telegram.send("Who did she perform for?", user=ALICE)
    text = (await telegram.reply(ALICE.id))["text"]
    assert "from your previous question" in text
    assert set(re.findall(r"— <i>([^<,]+)", text)) == {"Bakhyt Camara"}


async def test_non_text_message_gets_a_hint(telegram: TelegramHarness) -> None:
    photo = [{"file_id": "f1", "file_unique_id": "u1", "width": 10, "height": 10}]
    await telegram.send(None, user=ALICE, extra={"photo": photo})
    assert "only read text" in (await telegram.reply(ALICE.id))["text"]


async def test_a_caption_is_a_question_in_private_and_when_addressed_in_groups(
    telegram: TelegramHarness,
) -> None:
    photo = [{"file_id": "f1", "file_unique_id": "u1", "width": 10, "height": 10}]
    await telegram.send(None, user=ALICE, extra={"photo": photo, "caption": "who is this? talgat?"})
    reply = await telegram.reply(ALICE.id)
    assert "only read text" not in reply["text"] and f"— <i>{TALGAT}" in reply["text"]

    document = {"file_id": "d1", "file_unique_id": "v1", "file_name": "poster.pdf"}
    caption = "Who founded Moonlight Serenaders?"
    mention = f"@{BOT_USERNAME}"
    await telegram.send(
        None, user=BOB, chat_id=GROUP, group=True, extra={"document": document, "caption": caption}
    )
    await telegram.send(
        None,
        user=BOB,
        chat_id=GROUP,
        group=True,
        extra={
            "document": document,
            "caption": f"{mention} {caption}",
            "caption_entities": [{"type": "mention", "offset": 0, "length": len(mention)}],
        },
    )
    replies = await telegram.replies(GROUP)
    assert len(replies) == 1  # the unaddressed caption got nothing
    assert f"— <i>{TALGAT}" in replies[0]["text"]


async def test_unknown_commands_get_the_command_list_in_private(telegram: TelegramHarness) -> None:
    for typed in ("/foo bar", "/weather"):
        await telegram.send(typed, user=ALICE, command=True)
        text = (await telegram.reply(ALICE.id))["text"]
        assert f"Unknown command {typed.split()[0]}" in text
        assert all(f"/{command.name}" in text for command in public_commands())
        assert "/reload" not in text


async def test_in_groups_unknown_commands_for_other_bots_stay_silent(
    telegram: TelegramHarness,
) -> None:
    for typed in ("/weather@OtherBot", "/weather", "/ask@OtherBot who?"):
        await telegram.send(typed, user=ALICE, chat_id=GROUP, group=True, command=True)
    await telegram.send(
        f"/weather@{BOT_USERNAME}", user=ALICE, chat_id=GROUP, group=True, command=True
    )
    replies = await telegram.replies(GROUP)
    assert len(replies) == 1  # only the command addressed to this bot
    assert "Unknown command /weather" in replies[0]["text"] and "/ask" in replies[0]["text"]


def inline_results(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The results of a recorded answerInlineQuery call."""
    results = answer["results"]
    return list(json.loads(results) if isinstance(results, str) else results)


async def inline_answer(telegram: TelegramHarness, query_id: str) -> dict[str, Any]:
    """The bot's answer to the inline query ``query_id`` (waits for it)."""
    deadline = time.monotonic() + 30
    while True:
        for call in await telegram.calls("answerInlineQuery", wait=0):
            if str(call["inline_query_id"]) == query_id:
                return call
        assert time.monotonic() < deadline, f"inline query {query_id} was never answered"
        await asyncio.sleep(0.05)


async def test_inline_typing_is_answered_once_finished_and_spares_the_question_limit(
    telegram: TelegramHarness,
) -> None:
    question = "who founded moonlight serenaders"
    typed = [question[:end] for end in range(3, len(question), 3)] + [question]
    assert len(typed) > 5  # more keystrokes than the fixture's 5 questions a minute
    ids = []
    for text in typed:  # as Telegram sends them while someone types
        ids.append(await telegram.inline(text, user=DAVE))
        await asyncio.sleep(0.3)

    finished = inline_results(await inline_answer(telegram, ids[-1]))
    assert finished[0]["title"].startswith(TALGAT), finished[0]["title"]
    assert TALGAT in finished[0]["input_message_content"]["message_text"]
    answered = await telegram.calls("answerInlineQuery", wait=0)
    assert len(answered) <= len(typed) // 2  # the prefixes were not each searched

    for _ in range(5):  # the question limit of Dave's messages is all there
        await telegram.send("Who founded Moonlight Serenaders?", user=DAVE)
    replies = await telegram.replies(DAVE.id, count=5, wait=60)
    assert all(f"— <i>{TALGAT}" in reply["text"] for reply in replies), replies


async def test_inline_mode_offers_passages(telegram: TelegramHarness) -> None:
    query_id = await telegram.inline("Where was Talgat Baktybekova born?", user=ALICE)
    results = inline_results(await inline_answer(telegram, query_id))
    assert results and results[0]["title"].startswith(TALGAT)
    assert any("Central Asia" in r["input_message_content"]["message_text"] for r in results)


async def test_reload_is_for_admins_only(telegram: TelegramHarness) -> None:
    await telegram.send("/reload", user=ALICE, command=True)
    assert "only the bot's admins" in (await telegram.reply(ALICE.id))["text"]
    admin = User(ADMIN_ID, "Admin")
    await telegram.send("/reload", user=admin, command=True)
    assert "reloaded" in (await telegram.reply(admin.id))["text"]
