"""Bot tokens never reach a log line: a logging filter that redacts them everywhere.

Platform-free on purpose: ``artistbot discord`` protects its token without loading
python-telegram-bot, and ``artistbot telegram`` without loading discord.py.
"""

from __future__ import annotations

import logging

REDACTED = "[REDACTED]"


class TokenFilter(logging.Filter):
    """Replaces the bot token in every log record (message, arguments and traceback)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the token in ``record``; never drops a record."""
        message = record.getMessage()
        if self._token in message:
            record.msg, record.args = message.replace(self._token, REDACTED), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self._token in record.exc_text:
            record.exc_text = record.exc_text.replace(self._token, REDACTED)
        return True


def protect_token(token: str) -> TokenFilter:
    """Keep the token out of the logs: quiet httpx and redact it on every root handler."""
    # httpx logs every request URL at INFO, and Telegram's URLs contain the token.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    token_filter = TokenFilter(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(token_filter)
    return token_filter
