"""The Discord bot end to end in simcord: what a user sees in a channel, a DM, a button.

The bot runs unmodified against simcord's in-memory Discord, with only the
non-privileged intents approved (no Message Content intent), over the real
retriever and a real SQLite feedback store.
"""

from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace
from typing import Any

import discord
import pytest
import simcord

from bot.chat import ActionKind, ChatService, FeedbackStore, PassageView, Reply, ReplyKind
from bot.chat.texts import APOLOGY, FORGED, STALE
from bot.discord import ArtistBot
from bot.discord.render import CONTENT_LIMIT, DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT
from bot.settings import Settings
from retrieval import Span

pytestmark = pytest.mark.simcord(approved_intents=discord.Intents.default())

QUESTION = "What influenced Talgat Baktybekova's style of rock music?"  # eval/seeds
ANSWER = "folk songs"
TALGAT = "Talgat Baktybekova"


def setting_up(env: simcord.Env) -> tuple[simcord.ChannelHandle, simcord.MemberActor]:
    channel = env.create_guild().create_text_channel("general")
    alice = env.guild.add_member(env.create_user("alice"))
    return channel, alice


def bot_of(env: simcord.Env) -> ArtistBot:
    assert isinstance(env.bot, ArtistBot)
    return env.bot


def mention(env: simcord.Env) -> str:
    user = env.bot.user
    assert user is not None
    return user.mention


def sent_bodies(env: simcord.Env) -> list[dict[str, Any]]:
    """The JSON of every message the bot posted: sends, interaction responses, follow-ups."""
    bodies = []
    for request in env.http_requests:
        body = request.json
        if request.method != "POST" or not isinstance(body, dict):
            continue
        if request.path.endswith("/callback"):
            body = body.get("data")
        elif not (request.path.endswith("/messages") or request.path.startswith("/webhooks/")):
            continue
        if body and ("content" in body or "embeds" in body):
            bodies.append(body)
    return bodies


def button_ids(message: simcord.ResponseMessage) -> list[str]:
    """The custom ids of the buttons under a message."""
    return [
        button["custom_id"]
        for row in message.components
        for button in row.get("components", [])
        if "custom_id" in button
    ]


async def test_ask_gives_the_right_passage_in_an_embed(simcord_env: simcord.Env) -> None:
    channel, alice = setting_up(simcord_env)

    result = await alice.slash(channel, "ask", question=QUESTION)

    message = result.response
    assert message is not None and not message.ephemeral
    assert message.content == f"❓ {QUESTION}"
    first = message.embeds[0]
    assert first.title == TALGAT
    assert "**" in (first.description or "")
    assert ANSWER in " ".join(e.description or "" for e in message.embeds)
    assert first.footer.text is not None and first.footer.text.startswith(TALGAT)
    assert any(i.startswith("artistbot:u:") for i in button_ids(message))


async def test_a_slow_reply_is_deferred_with_thinking(simcord_env: simcord.Env) -> None:
    channel, alice = setting_up(simcord_env)
    chat = bot_of(simcord_env).chat
    command = chat.command

    async def slow(*args: Any) -> Any:
        await asyncio.sleep(5)  # longer than Discord's 3-second window (simulated time)
        return await command(*args)

    chat.command = slow  # type: ignore[method-assign,assignment]
    result = await alice.slash(channel, "ask", question=QUESTION)
    await simcord_env.advance_time(5)

    callbacks = [r.json for r in simcord_env.http_requests if r.path.endswith("/callback")]
    assert callbacks == [{"type": 5}]  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "thinking…"
    assert result.response is not None and result.response.embeds[0].title == TALGAT


async def test_a_mention_is_answered_and_a_plain_message_is_not(simcord_env: simcord.Env) -> None:
    channel, alice = setting_up(simcord_env)

    await alice.send(channel, "What was Bakhyt Camara wearing on stage?")
    assert channel.last_message is not None
    assert channel.last_message.author.id == alice.id  # no reply to a message not for the bot

    question = await alice.send(
        channel, f"{mention(simcord_env)} What was Bakhyt Camara wearing on stage?"
    )

    reply = channel.last_message
    assert reply is not None and reply.author.id == simcord_env.bot.user.id  # type: ignore[union-attr]
    assert reply.reference is not None and reply.reference.message_id == question.id
    assert reply.embeds, reply.content
    assert reply.embeds[0].title == "Bakhyt Camara"
    assert "blue and white" in " ".join(e.description or "" for e in reply.embeds)


async def test_a_mention_of_the_bots_own_role_addresses_it(simcord_env: simcord.Env) -> None:
    # simcord gives the bot's managed role no bot tag, so guild.self_role is None there;
    # the pattern is checked directly with a stand-in message.
    bot = bot_of(simcord_env)
    role = SimpleNamespace(id=987654321098765432)
    message = SimpleNamespace(guild=SimpleNamespace(self_role=role))
    pattern = bot._addressing(message)  # type: ignore[arg-type]

    assert re.search(pattern, f"<@&{role.id}> who?") and re.search(pattern, mention(simcord_env))
    assert not re.search(pattern, "<@&123456789012345678> who?")


async def test_a_dm_is_answered(simcord_env: simcord.Env) -> None:
    setting_up(simcord_env)
    bob = simcord_env.create_user("bob")

    await bob.send_dm("where was Talgat Baktybekova born?")

    reply = bob.dm_channel.last_message
    assert reply is not None and reply.author.bot
    assert reply.embeds[0].title == TALGAT
    assert "Central Asia" in " ".join(e.description or "" for e in reply.embeds)


async def test_more_shows_further_passages(simcord_env: simcord.Env) -> None:
    channel, alice = setting_up(simcord_env)
    first = await alice.slash(channel, "ask", question=QUESTION)
    assert first.response is not None
    shown = {e.description for e in first.response.embeds}
    more_id = next(i for i in button_ids(first.response) if i.startswith("artistbot:m:"))

    result = await alice.click(first.response.message, custom_id=more_id)

    message = result.response
    assert message is not None and not message.ephemeral
    assert message.embeds and not shown & {e.description for e in message.embeds}


async def test_feedback_is_recorded(simcord_env: simcord.Env, feedback: FeedbackStore) -> None:
    channel, alice = setting_up(simcord_env)
    asked = await alice.slash(channel, "ask", question=QUESTION)
    assert asked.response is not None

    thanks = await alice.click(asked.response.message, label="Helpful")

    assert thanks.response is not None and thanks.response.ephemeral
    assert "Thanks" in thanks.response.content
    [vote] = list(feedback.votes())
    assert (vote.vote, vote.platform, vote.user_id, vote.artist) == (
        1,
        "discord",
        str(alice.id),
        TALGAT,
    )
    await alice.click(asked.response.message, label="Not helpful")
    assert [v.vote for v in feedback.votes()] == [-1]  # the last vote wins


async def test_about_autocompletes_artist_names(simcord_env: simcord.Env) -> None:
    channel, alice = setting_up(simcord_env)

    choices = await alice.autocomplete(channel, "about", "artist", "tal")
    assert [c["value"] for c in choices] == [TALGAT]
    everyone = await alice.autocomplete(channel, "about", "artist", "")
    assert {c["name"] for c in everyone} == {TALGAT, "Bakhyt Camara"}

    result = await alice.slash(channel, "about", artist=TALGAT)
    assert result.response is not None and "Moonlight Serenaders" in result.response.content


async def test_everyone_in_a_question_pings_nobody(simcord_env: simcord.Env) -> None:
    channel, alice = setting_up(simcord_env)
    role = simcord_env.guild.create_role("fans", mentionable=True)
    sneaky = f"@everyone @here <@&{role.id}> <@{alice.id}> who sings in Moonlight Serenaders?"

    await alice.send(channel, f"{mention(simcord_env)} {sneaky}")
    result = await alice.slash(channel, "ask", question=sneaky)

    answered = result.response.message if result.response else None
    for message in (channel.last_message, answered):
        assert message is not None and message.author.bot
        assert not message.mention_everyone
        assert message.role_mentions == [] and message.mentions == []
        assert "@everyone" not in message.content and "@here" not in message.content
    bodies = sent_bodies(simcord_env)
    assert len(bodies) == 2
    for body in bodies:  # AllowedMentions.none() on every send
        assert body["allowed_mentions"]["parse"] == []
        assert not body["allowed_mentions"].get("replied_user")
        assert not {"users", "roles"} & body["allowed_mentions"].keys()


async def test_reload_is_for_admins_only(
    simcord_env: simcord.Env, discord_settings: Settings
) -> None:
    channel, alice = setting_up(simcord_env)

    refused = await alice.slash(channel, "reload")
    assert refused.response is not None and refused.response.ephemeral
    assert "only the bot's admins" in refused.response.content

    admins = simcord_env.guild.create_role(
        "admins", permissions=discord.Permissions(administrator=True)
    )
    root = simcord_env.guild.add_member(simcord_env.create_user("root"), roles=[admins])
    done = await root.slash(channel, "reload")
    assert done.response is not None and "Stories reloaded" in done.response.content

    carol = simcord_env.guild.add_member(simcord_env.create_user("carol"))
    bot_of(simcord_env).settings = discord_settings.model_copy(
        update={"discord": discord_settings.discord.model_copy(update={"admins": (carol.id,)})}
    )
    configured = await carol.slash(channel, "reload")
    assert configured.response is not None and "Stories reloaded" in configured.response.content


async def test_old_buttons_answer_politely_after_a_restart(
    simcord_env: simcord.Env,
    retriever: Any,
    discord_settings: Settings,
    feedback: FeedbackStore,
    state_dir: Any,
) -> None:
    channel, alice = setting_up(simcord_env)
    asked = await alice.slash(channel, "ask", question=QUESTION)
    assert asked.response is not None
    old = asked.response.message

    fresh = ChatService(retriever, discord_settings, feedback)  # remembers no answers
    await simcord_env.restart_bot(ArtistBot(fresh, discord_settings, state_dir=state_dir))
    stale = await alice.click(old, label="More")

    assert stale.response is not None and stale.response.ephemeral
    assert stale.response.content == STALE
    syncs = [
        r for r in simcord_env.http_requests if r.method == "PUT" and r.path.endswith("/commands")
    ]
    assert len(syncs) == 1  # the unchanged command tree was not synced again


async def test_buttons_the_bot_does_not_recognise_are_acknowledged(
    simcord_env: simcord.Env,
) -> None:
    channel, alice = setting_up(simcord_env)
    # Buttons no AnswerButton matches: an unknown action, an answer id longer than the
    # template's 80 characters, another scheme altogether (an older version's, say).
    odd = ("artistbot:x:abc", "artistbot:m:" + "a" * 81, "someoneelse:1")
    view = discord.ui.View(timeout=None)
    for number, custom_id in enumerate(odd):
        view.add_item(discord.ui.Button(label=f"odd {number}", custom_id=custom_id))
    sender = bot_of(simcord_env).get_channel(channel.id)
    assert isinstance(sender, discord.TextChannel)
    message = await sender.send("buttons of another kind", view=view)
    view.stop()  # nothing in the bot listens to these buttons any more

    for custom_id in odd:
        pressed = await alice.click(message, custom_id=custom_id)
        assert pressed.acknowledged, custom_id  # else Discord says "This interaction failed"
        assert pressed.response is not None and pressed.response.ephemeral
        assert pressed.response.content == FORGED

    asked = await alice.slash(channel, "ask", question=QUESTION)  # real buttons: one answer each
    assert asked.response is not None
    thanks = await alice.click(asked.response.message, label="Helpful")
    assert thanks.response is not None and thanks.response.content.startswith("Thanks")
    more_id = next(i for i in button_ids(asked.response) if i.startswith("artistbot:m:"))
    more = await alice.click(asked.response.message, custom_id=more_id)
    assert more.response is not None and more.response.embeds


async def test_sync_flag_forces_a_sync_of_an_unchanged_tree(
    simcord_env: simcord.Env,
    chat: ChatService,
    discord_settings: Settings,
    state_dir: Any,
) -> None:
    await simcord_env.restart_bot(ArtistBot(chat, discord_settings, state_dir=state_dir, sync=True))

    syncs = [
        r for r in simcord_env.http_requests if r.method == "PUT" and r.path.endswith("/commands")
    ]
    assert len(syncs) == 2
    assert (state_dir / "discord_commands.sha256").is_file()


async def test_a_failure_gets_an_apology_and_the_bot_keeps_running(
    simcord_env: simcord.Env,
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel, alice = setting_up(simcord_env)
    chat = bot_of(simcord_env).chat

    async def broken(*args: object, **kwargs: object) -> Any:
        raise RuntimeError("the core fell over")

    original = chat.command
    chat.command = broken  # type: ignore[method-assign]
    failed = await alice.slash(channel, "artists")
    chat.command = original  # type: ignore[method-assign]
    handle = chat.handle
    chat.handle = broken  # type: ignore[method-assign]
    await alice.send(channel, f"{mention(simcord_env)} who?")
    chat.handle = handle  # type: ignore[method-assign]

    assert failed.response is not None and failed.response.content == APOLOGY
    assert channel.last_message is not None and channel.last_message.content == APOLOGY
    assert "the core fell over" in caplog.text and "Traceback" in caplog.text
    simcord_env.errors  # acknowledge the captured errors  # noqa: B018

    works = await alice.slash(channel, "artists")
    assert works.response is not None and TALGAT in works.response.content


async def test_an_over_long_answer_is_split_within_the_limits(simcord_env: simcord.Env) -> None:
    channel, alice = setting_up(simcord_env)
    chunk = "**Loud** _music_ @everyone <@&123456789012345678> filled the hall. "
    text = chunk * 300  # about 20,000 characters of markdown and mention strings
    huge = PassageView(
        text=text,
        best_sentence=Span(len(chunk), 8 * len(chunk)),
        artist=TALGAT,
        story_title="Moonlight",
        score=1.0,
    )
    reply = Reply(
        ReplyKind.ANSWER,
        passages=(huge, huge),
        answer_id="long",
        actions=(ActionKind.MORE, ActionKind.HELPFUL),
        question="@here tell me all",
    )

    async def long_answer(*args: object, **kwargs: object) -> Reply:
        return reply

    bot_of(simcord_env).chat.handle = long_answer  # type: ignore[method-assign]
    await alice.send(channel, f"{mention(simcord_env)} tell me everything")
    result = await alice.slash(channel, "ask", question="tell me everything")

    mentioned = [m for m in channel.history() if m.author.bot and not m.interaction_metadata]
    answered = [result.response, *result.followups]
    for messages in (mentioned, [m.message for m in answered if m is not None]):
        assert len(messages) > 2
        for message in messages:
            assert len(message.content) <= CONTENT_LIMIT
            assert sum(len(e) for e in message.embeds) <= EMBED_TOTAL_LIMIT
            assert all(len(e.description or "") <= DESCRIPTION_LIMIT for e in message.embeds)
            assert all(e.footer.text == f"{TALGAT}, “Moonlight”" for e in message.embeds)
            assert not message.mention_everyone and not message.role_mentions
        shown = "".join(e.description or "" for m in messages for e in m.embeds)
        assert shown.count("filled the hall") == 600  # nothing lost
        assert [bool(m.components) for m in messages] == [False] * (len(messages) - 1) + [True]
