"""The chat layer over the real retriever: commands, follow-ups, limits, feedback."""

from __future__ import annotations

from dataclasses import replace

from bot.chat import ActionKind, ActionRequest, ChatService, FeedbackStore, Incoming, ReplyKind
from bot.settings import Settings
from retrieval import Retriever

TALGAT = "Talgat Baktybekova"
BAKHYT = "Bakhyt Camara"


def msg(text: str, *, chat: str = "c1", user: str = "u1", admin: bool = False) -> Incoming:
    return Incoming(platform="test", chat_id=chat, user_id=user, text=text, is_admin=admin)


async def test_question_gets_the_right_passage(chat: ChatService) -> None:
    reply = await chat.handle(msg("Where was Talgat Baktybekova born?"))
    assert reply.kind is ReplyKind.ANSWER
    top = reply.passages[0]
    assert top.artist == TALGAT
    assert "Central Asia" in top.text[top.best_sentence.start : top.best_sentence.end]
    assert reply.answer_id and len(reply.answer_id) <= 16
    assert ActionKind.HELPFUL in reply.actions and ActionKind.UNHELPFUL in reply.actions


async def test_follow_up_stays_with_the_artist_then_switches(chat: ChatService) -> None:
    first = await chat.handle(msg("What instrument did Bakhyt's grandmother play?"))
    assert first.passages[0].artist == BAKHYT
    follow = await chat.handle(msg("Who did she perform for?"))
    assert {p.artist for p in follow.passages} == {BAKHYT}
    assert BAKHYT in follow.text
    switched = await chat.handle(msg("Where was Talgat born?", user="u2"))
    assert switched.passages[0].artist == TALGAT
    again = await chat.handle(msg("Where was she born?", user="u2"))
    assert {p.artist for p in again.passages} == {TALGAT}


async def test_follow_up_is_per_chat(chat: ChatService) -> None:
    await chat.handle(msg("What instrument did Bakhyt's grandmother play?", chat="a"))
    other = await chat.handle(msg("Where was she born?", chat="b"))
    assert "previous question" not in other.text


async def test_out_of_corpus_question_gets_no_answer(chat: ChatService) -> None:
    reply = await chat.handle(msg("What is the capital of France?"))
    assert reply.kind is ReplyKind.NO_ANSWER
    assert not reply.passages and reply.answer_id is None


async def test_misspelt_question_says_what_was_searched(chat: ChatService) -> None:
    reply = await chat.handle(msg("Where was talgat baktybekova borrn?"))
    assert reply.kind is ReplyKind.ANSWER
    assert reply.passages[0].artist == TALGAT
    assert "Showing results for" in reply.text and "born" in reply.text


async def test_correct_question_gets_no_correction_note(chat: ChatService) -> None:
    reply = await chat.handle(msg("Where was Talgat Baktybekova born?"))
    assert "Showing results for" not in reply.text


async def test_input_limits(chat: ChatService) -> None:
    for text in ("", "   \n\t "):
        reply = await chat.handle(msg(text))
        assert reply.kind is ReplyKind.REFUSED and "question" in reply.text
    long = await chat.handle(msg("why " * 200))
    assert long.kind is ReplyKind.REFUSED and "too long" in long.text
    usage = await chat.command("ask", "  ", msg(""))
    assert usage.kind is ReplyKind.REFUSED and "/ask" in usage.text


async def test_rate_limit_is_per_user(chat: ChatService) -> None:
    for _ in range(3):
        assert (await chat.handle(msg("Who founded Moonlight Serenaders?"))).is_answer
    limited = await chat.handle(msg("Who founded Moonlight Serenaders?"))
    assert limited.kind is ReplyKind.REFUSED and "wait" in limited.text
    assert (await chat.handle(msg("Who founded Moonlight Serenaders?", user="u2"))).is_answer


async def test_inline_queries_have_their_own_limit_and_spare_the_question_limit(
    retriever: Retriever, chat_settings: Settings, feedback: FeedbackStore
) -> None:
    limits = chat_settings.chat.model_copy(update={"rate_limit_inline_queries": 5})
    chat = ChatService(retriever, chat_settings.model_copy(update={"chat": limits}), feedback)
    typing = replace(msg("Who founded Moonlight Serenaders?", chat="inline"), inline=True)

    for _ in range(5):  # more than the 3 questions a user may ask
        assert (await chat.handle(typing)).is_answer
    guarded = await chat.handle(typing)
    assert guarded.kind is ReplyKind.REFUSED and "wait" in guarded.text
    for _ in range(3):  # the user's questions were not touched
        assert (await chat.handle(msg("Who founded Moonlight Serenaders?"))).is_answer


async def test_more_pages_then_stops(chat: ChatService) -> None:
    first = await chat.handle(msg("Who plays the balalaika?"))
    assert first.answer_id is not None and ActionKind.MORE in first.actions
    seen = {p.text for p in first.passages}
    more = await chat.command("more", "", msg(""))
    assert more.is_answer and not seen & {p.text for p in more.passages}
    assert more.answer_id != first.answer_id


async def test_stale_or_foreign_action_is_refused_politely(chat: ChatService) -> None:
    stale = await chat.act(ActionRequest(ActionKind.MORE, "nope", "c1", "u1"))
    assert stale.kind is ReplyKind.REFUSED and "ask" in stale.text.lower()
    reply = await chat.handle(msg("Who founded Moonlight Serenaders?"))
    assert reply.answer_id is not None
    foreign = await chat.act(ActionRequest(ActionKind.HELPFUL, reply.answer_id, "other", "u1"))
    assert foreign.kind is ReplyKind.REFUSED
    nothing = await chat.command("more", "", msg("", chat="fresh"))
    assert nothing.kind is ReplyKind.INFO and "first" in nothing.text


async def test_feedback_one_vote_per_user_last_wins(
    chat: ChatService, feedback: FeedbackStore
) -> None:
    reply = await chat.handle(msg("Who founded Moonlight Serenaders?"))
    assert reply.answer_id is not None
    for kind in (ActionKind.HELPFUL, ActionKind.UNHELPFUL):
        thanks = await chat.act(ActionRequest(kind, reply.answer_id, "c1", "u1"))
        assert thanks.kind is ReplyKind.INFO
    await chat.act(ActionRequest(ActionKind.HELPFUL, reply.answer_id, "c1", "u2"))
    votes = {v.user_id: v for v in FeedbackStore(feedback.path).votes()}  # a fresh handle
    assert set(votes) == {"u1", "u2"}
    assert votes["u1"].vote == -1 and votes["u2"].vote == 1
    assert votes["u1"].artist == TALGAT
    assert votes["u1"].question == "Who founded Moonlight Serenaders?"


async def test_commands(chat: ChatService) -> None:
    assert "/ask" in (await chat.command("help", "", msg(""))).text
    artists = await chat.command("artists", "", msg(""))
    assert TALGAT in artists.text and "Moonlight Serenaders" in artists.text
    about = await chat.command("about", "talgat", msg(""))
    assert about.kind is ReplyKind.INFO and TALGAT in about.text
    follow = await chat.handle(msg("Where was she born?"))
    assert {p.artist for p in follow.passages} == {TALGAT}
    unknown = await chat.command("about", "Nobody Atall", msg(""))
    assert "don't know" in unknown.text
    assert chat.artist_names() == [BAKHYT, TALGAT]


async def test_reload_needs_an_admin(chat: ChatService) -> None:
    refused = await chat.command("reload", "", msg(""))
    assert refused.kind is ReplyKind.REFUSED
