"""The Telegram adapter (python-telegram-bot): handlers, rendering, in-order update processing.

:func:`build_application` wires the handlers of :mod:`bot.telegram.handlers` and
:mod:`bot.telegram.inline` to one :class:`~bot.chat.ChatService`; :func:`run` polls
until a stop event is set
(:mod:`bot.runner` calls it for ``artistbot telegram`` and ``artistbot run``).
"""

from bot.telegram.app import build_application, run

__all__ = ["build_application", "run"]
