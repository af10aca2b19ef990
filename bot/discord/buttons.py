"""The buttons under an answer (More, 👍, 👎), working even after the bot restarts.

A button's ``custom_id`` is ``artistbot:<code>:<answer_id>`` with the action's
code from the chat layer (:attr:`~bot.chat.ActionKind.code`), so a click on any
message, however old, is rebuilt into an :class:`AnswerButton` by discord.py's
dynamic items and handed to the client.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

import discord

from bot.chat import ActionKind
from bot.chat.texts import button_label


@runtime_checkable
class PressHandler(Protocol):
    """A client that handles button presses (:class:`~bot.discord.ArtistBot`)."""

    async def press(
        self, interaction: discord.Interaction[Any], kind: ActionKind, answer_id: str
    ) -> None:
        """Answer a press of ``kind`` under the answer ``answer_id``."""
        ...


# More continues the answer (the primary action); the votes are secondary.
_BUTTON_STYLES = {
    ActionKind.MORE: discord.ButtonStyle.primary,
    ActionKind.HELPFUL: discord.ButtonStyle.secondary,
    ActionKind.UNHELPFUL: discord.ButtonStyle.secondary,
    # Replacing or removing a story is the step to think twice about.
    ActionKind.CONFIRM: discord.ButtonStyle.danger,
    ActionKind.CANCEL: discord.ButtonStyle.secondary,
    ActionKind.UNDO: discord.ButtonStyle.secondary,
}
_CODES = "".join(kind.code for kind in ActionKind)
_TEMPLATE = rf"artistbot:(?P<action>[{_CODES}]):(?P<answer_id>[^:]{{1,80}})"
_PATTERN = re.compile(_TEMPLATE)


class AnswerButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=_TEMPLATE,
):
    """A button under an answer; its ``custom_id`` says it all, so it survives restarts."""

    def __init__(self, kind: ActionKind, answer_id: str, language: str = "en") -> None:
        # The label is in the answer's language; a click is rebuilt from the id alone.
        label = button_label(kind, language)
        super().__init__(
            discord.ui.Button(
                label=label.text,
                emoji=label.emoji,
                style=_BUTTON_STYLES[kind],
                custom_id=f"artistbot:{kind.code}:{answer_id}",
            )
        )
        self.kind = kind
        self.answer_id = answer_id

    @staticmethod
    def recognises(custom_id: str) -> bool:
        """True when discord.py rebuilds a click on ``custom_id`` into an :class:`AnswerButton`."""
        return _PATTERN.fullmatch(custom_id) is not None

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AnswerButton:
        """Rebuild the button from a click on any message, even one sent before a restart."""
        kind = ActionKind.from_code(match["action"])
        assert kind is not None  # the template admits only the codes
        return cls(kind, match["answer_id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the press to the bot (errors go to the bot's one error handler)."""
        client = interaction.client
        if isinstance(client, PressHandler):
            await client.press(interaction, self.kind, self.answer_id)
