"""The local REPL for trying retrieval: history, highlighting, k and score display.

It is one more front end of :class:`bot.chat.ChatService`, so questions, follow-ups,
"more" and the artist list behave exactly as in the chat bots.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TextIO

from bot.chat import COMMANDS, ChatService, Incoming, Reply
from bot.render_text import render_reply

# A plain line is a question and :help is the REPL's own; every other command of the chat
# layer's table works as ":name", but those that take a file and ask with buttons: on the
# host, `artistbot stories add/remove` runs them (the same chat layer, asking at the prompt).
_OWN = frozenset({"ask", "help"})
_ELSEWHERE = frozenset({"addstory", "removestory"})
CHAT_COMMANDS = tuple(command for command in COMMANDS if command.name not in _OWN | _ELSEWHERE)


MAX_K = 20
NO_COMMAND = "Type a command after the colon, e.g. :more; :help lists them."
UNKNOWN = "Unknown command :{name}. :help lists the commands."
BAD_K = ":k takes a number of passages from 1 to 20, not {given} (now {k})."
_SLASH_COMMAND = re.compile(r"(?<![\w/:])/(" + "|".join(c.name for c in CHAT_COMMANDS) + r")\b")


def help_text(*, k: int, scores: bool) -> str:
    """The REPL's :help: its own commands, then the chat layer's (from the table)."""
    lines = [
        (":k N", f"show N passages per answer (now {k})"),
        (":scores", f"toggle each retriever's score per passage (now {'on' if scores else 'off'})"),
        *(
            (f":{c.name} {c.argument.name.upper()}" if c.argument else f":{c.name}", c.description)
            for c in CHAT_COMMANDS
        ),
        (":help", "this text"),
        (":quit", "leave (Ctrl-D works too)"),
    ]
    return "Type a question, or a command:\n" + "\n".join(f"  {u:<14} {t}" for u, t in lines)


class Repl:
    """A line-oriented loop over the chat layer."""

    def __init__(
        self,
        chat: ChatService,
        *,
        top_k: int = 3,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        history: Path | None = None,
    ) -> None:
        self.chat = chat
        self.retriever = chat.retriever
        self.k = top_k
        self.scores = False
        self._in = stdin or sys.stdin
        self._out = stdout or sys.stdout
        self._colour = self._out.isatty()
        self._shown = 0
        self._history = history or self.retriever.settings.data_dir / "repl_history"

    def run(self) -> None:
        """Read questions until end of input."""
        interactive = self._in.isatty() and self._out.isatty()
        if interactive:
            self._enable_history()
        self._print(f"artistbot: {len(self.retriever.stories)} stories. :help for commands.")
        while True:
            try:
                line = input("? ") if interactive else self._readline()
            except (EOFError, KeyboardInterrupt):
                break
            if line is None:
                break
            if not self.handle(line.strip()):
                break
        if interactive:
            self._save_history()
        self._print("bye")

    def handle(self, line: str) -> bool:
        """Handle one line; False means quit."""
        if not line:
            return True
        if line.startswith(":"):
            return self._command(line[1:].split())
        reply = self._run(self.chat.handle(self._message(line), k=self.k))
        self._shown = 0
        self._show(reply)
        return True

    def _command(self, words: list[str]) -> bool:
        if not words:
            self._print(NO_COMMAND)
            return True
        name, args = words[0].lower(), words[1:]
        if name in ("q", "quit", "exit"):
            return False
        if name == "k":
            self._set_k(args)
        elif name == "scores":
            self.scores = not self.scores
            self._print(f"scores {'on' if self.scores else 'off'}")
        elif name == "help":
            self._print(help_text(k=self.k, scores=self.scores))
        elif name in {c.name for c in CHAT_COMMANDS}:
            message = self._message(" ".join(args))
            self._show(self._run(self.chat.command(name, message.text, message)))
        else:
            self._print(UNKNOWN.format(name=words[0]))
        return True

    def _set_k(self, args: list[str]) -> None:
        if len(args) == 1 and args[0].isdigit() and 1 <= int(args[0]) <= MAX_K:
            self.k = int(args[0])
            self._print(f"showing {self.k} passages")
        else:
            self._print(BAD_K.format(given=" ".join(args) or "nothing", k=self.k))

    def _show(self, reply: Reply) -> None:
        text = render_reply(reply, colour=self._colour, scores=self.scores, first=self._shown + 1)
        # The chat layer names its commands as in a chat ("/more"); here they are ":more".
        self._print(_SLASH_COMMAND.sub(r":\1", text))
        self._shown += len(reply.passages)

    @staticmethod
    def _message(text: str) -> Incoming:
        return Incoming(
            platform="repl",
            chat_id="local",
            user_id="local",
            text=text,
            is_admin=True,
            private=True,
        )

    @staticmethod
    def _run(coroutine: Coroutine[Any, Any, Reply]) -> Reply:
        return asyncio.run(coroutine)

    def _readline(self) -> str | None:
        line = self._in.readline()
        return line if line else None

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def _enable_history(self) -> None:
        try:
            import readline

            readline.read_history_file(self._history)
        except (ImportError, OSError):
            pass

    def _save_history(self) -> None:
        try:
            import readline

            self._history.parent.mkdir(parents=True, exist_ok=True)
            readline.set_history_length(1000)
            readline.write_history_file(self._history)
        except (ImportError, OSError):
            pass
