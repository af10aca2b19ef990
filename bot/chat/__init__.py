"""The platform-free chat layer: one message in, one neutral reply out.

Adapters (Telegram, Discord, the REPL) turn a platform event into an
:class:`Incoming` or :class:`ActionRequest`, call :class:`ChatService`, and render
the :class:`Reply` it returns. Commands come from one table (:data:`COMMANDS`);
everything the bot says is in :mod:`bot.chat.texts`. Nothing here imports a
chat platform.
"""

from bot.chat.commands import (
    COMMANDS,
    Argument,
    Command,
    command_named,
    help_text,
    public_commands,
)
from bot.chat.feedback import FeedbackStore, Vote
from bot.chat.messages import (
    Access,
    ActionKind,
    ActionRequest,
    Attachment,
    Incoming,
    PassageView,
    Reply,
    ReplyKind,
)
from bot.chat.service import ChatService

__all__ = [
    "COMMANDS",
    "Access",
    "ActionKind",
    "ActionRequest",
    "Argument",
    "Attachment",
    "ChatService",
    "Command",
    "FeedbackStore",
    "Incoming",
    "PassageView",
    "Reply",
    "ReplyKind",
    "Vote",
    "command_named",
    "help_text",
    "public_commands",
]
