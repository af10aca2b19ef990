"""What a question must pass before it is searched: not empty, not too long, not too fast.

The refusals come in the asker's language (see :mod:`bot.chat.i18n`). Questions and
Telegram's inline queries (pauses in typing) are counted by two limiters, so that
typing never uses up a person's questions.
"""

from __future__ import annotations

from bot.chat.i18n import translate
from bot.chat.messages import Incoming, Reply, ReplyKind
from bot.chat.ratelimit import Limiter, open_limiter
from bot.chat.texts import EMPTY, RATE_LIMITED, TOO_LONG
from bot.settings import Settings

# Local, single-user front ends are not rate limited.
UNLIMITED_PLATFORMS = frozenset({"repl", "web"})


class QuestionGate:
    """The input limits and rate limits of the chat layer.

    ``limiter`` counts questions (by default where ``chat.rate_limit_storage`` says:
    this process, or a shared ``limits`` storage), ``inline_limiter`` inline queries
    (``chat.rate_limit_inline_queries``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        limiter: Limiter | None = None,
        inline_limiter: Limiter | None = None,
    ) -> None:
        chat = settings.chat
        self.max_chars = chat.max_question_chars
        self.limiter: Limiter = limiter or open_limiter(
            chat.rate_limit_questions, chat.rate_limit_seconds, storage=chat.rate_limit_storage
        )
        self.inline_limiter: Limiter = inline_limiter or open_limiter(
            chat.rate_limit_inline_queries,
            chat.rate_limit_seconds,
            storage=chat.rate_limit_storage,
            name="inline",
        )

    def check(self, question: str, message: Incoming, language: str) -> Reply | None:
        """A refusal of ``question`` (cleaned, stripped), or ``None`` when it may be searched."""
        if not question:
            return refusal(language, EMPTY)
        if len(question) > self.max_chars:
            return refusal(language, TOO_LONG, length=len(question), limit=self.max_chars)
        # An inline query is a pause in typing, not a question sent: its own, larger limit.
        limiter = self.inline_limiter if message.inline else self.limiter
        return self.check_rate(message.platform, message.user_id, language, limiter)

    def check_rate(
        self, platform: str, user_id: str, language: str, limiter: Limiter | None = None
    ) -> Reply | None:
        """A refusal when ``user_id`` asks too fast (counting this question), else ``None``."""
        limiter = limiter or self.limiter
        if platform in UNLIMITED_PLATFORMS or limiter.allow(platform, user_id):
            return None
        seconds = limiter.retry_after(platform, user_id)
        return refusal(language, RATE_LIMITED, seconds=seconds)


def refusal(language: str, message: str, /, **fields: object) -> Reply:
    """A refusal saying ``message`` (a sentence of :mod:`bot.chat.texts`) in ``language``."""
    return Reply(ReplyKind.REFUSED, translate(language, message, **fields), language=language)
