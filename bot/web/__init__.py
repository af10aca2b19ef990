"""The operator web page: what fans ask, what the stories miss, and a "try a question" box.

``artistbot web`` serves it (on 127.0.0.1 by default); :func:`create_app` builds it
over a running :class:`~bot.chat.ChatService`.
"""

from bot.web.app import create_app

__all__ = ["create_app"]
