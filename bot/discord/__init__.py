"""The Discord adapter (discord.py): the client, its slash-command tree, rendering.

:class:`ArtistBot` answers slash commands (made from the chat layer's table),
@mentions, DMs and the buttons under answers; :func:`run` runs it until a stop
event is set (:mod:`bot.runner` calls it for ``artistbot discord`` and ``artistbot run``).
"""

from bot.discord.buttons import AnswerButton
from bot.discord.client import ArtistBot
from bot.discord.lifecycle import run, use_endpoints

__all__ = ["AnswerButton", "ArtistBot", "run", "use_endpoints"]
