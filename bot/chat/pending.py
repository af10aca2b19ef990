"""Questions a command asks before it acts ("Replace the story about …?"), and Undo.

A question is a reply with buttons; :class:`PendingSteps` keeps what its Yes (or Undo)
does, for the person who asked, in that chat, for :data:`PENDING_SECONDS`. In memory:
after a restart a press says the question expired.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.chat.messages import ActionKind, ActionRequest, Incoming, Reply, ReplyKind
from bot.chat.texts import CANCELLED, EXPIRED

# Questions (replace? remove?) and Undo buttons are answered within this time, or expire.
PENDING_SECONDS = 15 * 60
MAX_PENDING = 100
PENDING_ID_BYTES = 6

Step = Callable[[], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class _Pending:
    """What a CONFIRM (or UNDO) button does, and who may press it."""

    user_id: str
    chat_id: str
    confirm: Step
    created: float


class PendingSteps:
    """The steps waiting for a button, oldest first (at most :data:`MAX_PENDING`)."""

    def __init__(self) -> None:
        self._pending: OrderedDict[str, _Pending] = OrderedDict()

    def ask(
        self,
        message: Incoming,
        text: str,
        confirm: Step,
        *,
        actions: tuple[ActionKind, ...] = (ActionKind.CONFIRM, ActionKind.CANCEL),
    ) -> Reply:
        """A reply with buttons that run ``confirm`` (or cancel) for the sender only."""
        self._expire()
        while len(self._pending) >= MAX_PENDING:
            self._pending.popitem(last=False)
        pending_id = secrets.token_urlsafe(PENDING_ID_BYTES)
        self._pending[pending_id] = _Pending(
            message.user_id, message.chat_id, confirm, time.monotonic()
        )
        return Reply(ReplyKind.INFO, text, answer_id=pending_id, actions=actions)

    async def answer(self, request: ActionRequest) -> Reply:
        """A press of Yes, Cancel or Undo: only by who asked, in that chat, in time."""
        self._expire()
        pending = self._pending.get(request.answer_id)
        if (
            pending is None
            or pending.user_id != request.user_id
            or pending.chat_id != request.chat_id
        ):
            return Reply(ReplyKind.REFUSED, EXPIRED)
        del self._pending[request.answer_id]  # each question is answered once
        if request.kind is ActionKind.CANCEL:
            return Reply(ReplyKind.INFO, CANCELLED)
        return await pending.confirm()

    def _expire(self) -> None:
        now = time.monotonic()
        for pending_id, pending in list(self._pending.items()):
            if now - pending.created > PENDING_SECONDS:
                del self._pending[pending_id]
