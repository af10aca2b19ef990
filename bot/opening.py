"""What the commands open: the index of the configured corpus and the chat layer over it.

Its own module so that every command (``bot.cli``, ``bot.stories_cli``, ``bot.run_cli``,
``bot.web.command``) imports it without importing the command line itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.chat import ChatService
    from retrieval import Retriever


def open_retriever(
    settings: Settings, *, progress: bool = False, questions: bool = True, serving: bool = False
) -> Retriever:
    """Load (building or updating if needed) the index of the configured corpus.

    With ``progress``, a bar counts the passages embedded, with the time left; log lines
    are printed above it, never through it. With ``questions`` (questions follow), the
    query model opens while the index loads. ``serving``: a process that answers until
    it is stopped (the bots, the REPL, the web page), whose index is kept out of garbage
    collections (see :mod:`retrieval.live`).
    """
    from retrieval import Retriever

    if not progress:
        return Retriever.open(settings.retrieval, warm_queries=questions, freeze=serving)
    from bot.progress import open_with_progress

    return open_with_progress(settings, serving=serving)


def open_chat(settings: Settings, retriever: Retriever) -> ChatService:
    """The chat layer over ``retriever``, with feedback stored in the data directory."""
    from bot.chat.feedback import FeedbackStore
    from bot.chat.questionlog import open_question_log
    from bot.chat.service import ChatService

    feedback = FeedbackStore(settings.feedback_path)
    return ChatService(retriever, settings, feedback, questions=open_question_log(settings))
