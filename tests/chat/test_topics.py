"""Conversations that keep their thread: each person's topic, over the real retriever.

The dialogues are the ones people had with the bot before topics existed (issue 12):
a follow-up switched artist silently, or showed the artist's unrelated passages.
"""

from __future__ import annotations

from bot.chat import ChatService, Incoming, Reply, ReplyKind
from bot.chat.conversations import MemoryConversations
from bot.chat.topics import Topics
from retrieval import Answer, StoryInfo

TALGAT = "Talgat Baktybekova"
BAKHYT = "Bakhyt Camara"
ABOUT = "(About {}, from your previous question.)"
NOT_IN = "{}'s story doesn't mention this. From {}'s story:"


def msg(text: str, *, user: str = "u1", chat: str = "c1") -> Incoming:
    return Incoming(platform="test", chat_id=chat, user_id=user, text=text)


async def dialogue(chat: ChatService, *questions: str, user: str = "u1") -> list[Reply]:
    return [await chat.handle(msg(q, user=user)) for q in questions]


def artists(reply: Reply) -> set[str]:
    return {p.artist for p in reply.passages}


async def test_a_follow_up_her_story_cannot_answer_says_so(chat: ChatService) -> None:
    about, born, performed = await dialogue(
        chat, "tell me about bakhyt camara", "where was she born", "who did she perform for?"
    )

    assert artists(about) == {BAKHYT}
    # Before: Talgat's birth passage, silently, as if it were about Bakhyt.
    assert born.text.startswith(NOT_IN.format(BAKHYT, TALGAT))
    assert artists(born) == {TALGAT}
    assert any("Central Asia" in p.text for p in born.passages)
    # The chat is still about Bakhyt: nobody named Talgat.
    assert performed.text == ABOUT.format(BAKHYT) and artists(performed) == {BAKHYT}


async def test_a_follow_up_does_not_switch_artist_after_another_story_answered(
    chat: ChatService,
) -> None:
    singer, wearing, performed = await dialogue(
        chat,
        "who's the lead singer of moonlight serenaders",
        "what was she wearing?",
        "who did she perform for?",
    )

    assert singer.passages[0].artist == TALGAT
    assert wearing.text.startswith(NOT_IN.format(TALGAT, BAKHYT))
    assert "blue and white" in wearing.passages[0].text
    assert performed.text == ABOUT.format(TALGAT) and artists(performed) == {TALGAT}


async def test_her_unrelated_passages_are_not_shown_for_a_follow_up(chat: ChatService) -> None:
    _, grandmother = await dialogue(
        chat,
        "who is the lead singer of moonlight serenaders",
        "what instrument did her grandmother play",
    )

    # Before: Talgat's three passages, none of them about a grandmother.
    assert grandmother.text.startswith(NOT_IN.format(TALGAT, BAKHYT))
    assert "balalaika" in grandmother.passages[0].text
    assert artists(grandmother) == {BAKHYT}


async def test_naming_the_other_artist_switches(chat: ChatService) -> None:
    replies = await dialogue(
        chat, "where was talgat born", "tell me about bakhyt camara", "what was she wearing"
    )

    assert [r.passages[0].artist for r in replies] == [TALGAT, BAKHYT, BAKHYT]
    assert replies[1].text == ""  # a question that names her needs no note
    assert replies[2].text == ABOUT.format(BAKHYT)
    assert "blue and white" in replies[2].passages[0].text


async def test_naming_the_band_makes_its_singer_the_topic(chat: ChatService) -> None:
    _, band, performed = await dialogue(
        chat, "where was talgat born", "who are the steppe serenaders?", "who did she perform for?"
    )

    assert band.passages[0].artist == BAKHYT
    assert performed.text == ABOUT.format(BAKHYT) and artists(performed) == {BAKHYT}


async def test_two_people_in_a_group_keep_their_own_artists(chat: ChatService) -> None:
    await chat.handle(msg("where was talgat born", user="alice", chat="group"))
    await chat.handle(msg("what did bakhyt camara wear on stage", user="bob", chat="group"))

    alice = await chat.handle(msg("who did she perform for?", user="alice", chat="group"))
    bob = await chat.handle(msg("who did she perform for?", user="bob", chat="group"))

    assert alice.text == ABOUT.format(TALGAT) and artists(alice) == {TALGAT}
    assert bob.text == ABOUT.format(BAKHYT) and artists(bob) == {BAKHYT}


async def test_start_and_about_set_and_clear_the_topic(chat: ChatService) -> None:
    await chat.command("about", "talgat", msg(""))
    followed = await chat.handle(msg("who did she perform for?"))
    await chat.command("start", "", msg(""))
    fresh = await chat.handle(msg("who did she perform for?"))

    assert followed.text == ABOUT.format(TALGAT)
    assert fresh.kind is ReplyKind.ANSWER and "previous question" not in fresh.text


def story(story_id: str) -> StoryInfo:
    return StoryInfo(story_id=story_id, title=story_id, artist=story_id.title())


def test_a_topic_lapses_after_the_idle_time() -> None:
    now = [1000.0]
    topics = Topics(MemoryConversations(), idle_seconds=60, clock=lambda: now[0])
    alice = msg("", user="alice")
    topics.set(alice, "talgat")

    now[0] += 59
    assert topics.current(alice) == "talgat"
    # An answered follow-up keeps the topic fresh; an idle minute lets it lapse.
    topics.after(alice, Answer(question="q"), "talgat")
    now[0] += 59
    assert topics.current(alice) == "talgat"
    now[0] += 61
    assert topics.current(alice) is None
    assert topics.current(msg("", user="bob")) is None


def test_a_question_naming_a_story_sets_the_topic() -> None:
    topics = Topics(MemoryConversations(), idle_seconds=60)
    alice = msg("")
    topics.after(alice, Answer(question="q", mentioned=(story("bakhyt"),)), "talgat")
    assert topics.current(alice) == "bakhyt"


def test_about_counts_one_passage_in_the_singular() -> None:
    from bot.chat.texts import about_artist

    one = StoryInfo(story_id="s", title="A short one", artist="Aigerim", passages=1)
    assert "(1 passage)" in about_artist(one)
    assert "(2 passages)" in about_artist(StoryInfo("t", "Longer", "Dana", passages=2))
