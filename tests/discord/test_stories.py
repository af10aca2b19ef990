"""Stories managed from Discord, end to end in simcord: /addstory with a file, the buttons.

The bot runs unmodified in simcord over a retriever of its own (the test's private copy
of the seed stories); the file goes through simcord's CDN as an interaction attachment.
"""

from __future__ import annotations

import discord
import pytest
import simcord

from bot.discord import ArtistBot
from bot.settings import Settings
from retrieval import Retriever
from tests.conftest import story_file
from tests.discord.test_bot import bot_of, button_ids, setting_up

pytestmark = pytest.mark.simcord(approved_intents=discord.Intents.default())

ARUZHAN = "Aruzhan Sadykova"
STORY = story_file(ARUZHAN, "Golden Domra", "a shepherd from Taraz")


@pytest.fixture
def retriever(own_retriever: Retriever) -> Retriever:
    """The bot's stories are the test's own, to change."""
    return own_retriever


def named_admin(env: simcord.Env, settings: Settings, name: str) -> simcord.MemberActor:
    member = env.guild.add_member(env.create_user(name))
    bot: ArtistBot = bot_of(env)
    bot.settings = settings.model_copy(
        update={"discord": settings.discord.model_copy(update={"admins": (member.id,)})}
    )
    return member


async def test_a_named_admin_adds_a_story_with_a_file_and_removes_it(
    simcord_env: simcord.Env, discord_settings: Settings
) -> None:
    channel, alice = setting_up(simcord_env)
    carol = named_admin(simcord_env, discord_settings, "carol")

    added = await carol.slash(channel, "addstory", file=("aruzhan.txt", STORY))
    await simcord_env.advance_time(30)
    message = added.response
    assert message is not None and message.ephemeral  # for the admin who ran it
    assert message.content.startswith("Added story aruzhan. Here is what I understood:")
    assert f"I answer from {ARUZHAN}'s story" in message.content
    assert [i.split(":")[1] for i in button_ids(message)] == ["z"]  # Undo

    answer = await alice.slash(channel, "ask", question="Who taught Aruzhan Sadykova to sing?")
    assert answer.response is not None
    assert answer.response.embeds[0].title == ARUZHAN
    assert "shepherd from Taraz" in " ".join(e.description or "" for e in answer.response.embeds)

    asked = await carol.slash(channel, "removestory", story=ARUZHAN)
    assert asked.response is not None
    assert asked.response.content.startswith(f"Remove the story about {ARUZHAN} (aruzhan, ")
    done = await carol.click(asked.response.message, label="Yes, do it")
    await simcord_env.advance_time(30)
    assert done.response is not None
    assert done.response.content.startswith("Removed story aruzhan")
    assert ARUZHAN not in [s.artist for s in bot_of(simcord_env).chat.retriever.stories]


async def test_a_server_administrator_may_not_change_the_stories(
    simcord_env: simcord.Env,
) -> None:
    channel, _ = setting_up(simcord_env)
    admins = simcord_env.guild.create_role(
        "admins", permissions=discord.Permissions(administrator=True)
    )
    root = simcord_env.guild.add_member(simcord_env.create_user("root"), roles=[admins])

    refused = await root.slash(channel, "addstory", file=("aruzhan.txt", STORY))
    assert refused.response is not None and refused.response.ephemeral
    assert refused.response.content.startswith(
        "Sorry, only the admins named in the bot's settings may use /addstory"
    )
    listed = await root.slash(channel, "stories")  # listing is for every admin
    assert listed.response is not None and listed.response.content.startswith("2 stories:")
