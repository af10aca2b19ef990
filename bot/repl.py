"""The local REPL for trying retrieval: history, highlighting, k and score display."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.render_text import render_answer
from retrieval import Retriever

HELP = """Type a question, or a command:
  :k N        show N passages per answer (now {k})
  :scores     toggle each retriever's score per passage (now {scores})
  :more       the next passages for the last question
  :artists    list the artists
  :help       this text
  :quit       leave (Ctrl-D works too)"""


class Repl:
    """A line-oriented loop over the retrieval core."""

    def __init__(self, retriever: Retriever, *, top_k: int = 3, stdin: TextIO | None = None,
                 stdout: TextIO | None = None, history: Path | None = None) -> None:
        self.retriever = retriever
        self.k = top_k
        self.scores = False
        self._in = stdin or sys.stdin
        self._out = stdout or sys.stdout
        self._colour = self._out.isatty()
        self._last: str | None = None
        self._shown = 0
        self._history = history or retriever.settings.data_dir / "repl_history"

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
        self._last, self._shown = line, 0
        self._answer()
        return True

    def _command(self, words: list[str]) -> bool:
        name, args = (words[0].lower(), words[1:]) if words else ("help", [])
        if name in ("q", "quit", "exit"):
            return False
        if name == "k" and args and args[0].isdigit() and 1 <= int(args[0]) <= 20:
            self.k = int(args[0])
            self._print(f"showing {self.k} passages")
        elif name == "scores":
            self.scores = not self.scores
            self._print(f"scores {'on' if self.scores else 'off'}")
        elif name == "more":
            if self._last is None:
                self._print("Ask a question first.")
            else:
                self._answer()
        elif name == "artists":
            for story in self.retriever.stories:
                band = f" ({story.band})" if story.band else ""
                self._print(f"- {story.artist}{band}")
        else:
            self._print(HELP.format(k=self.k, scores="on" if self.scores else "off"))
        return True

    def _answer(self) -> None:
        assert self._last is not None
        answer = self.retriever.search(self._last, k=self.k, offset=self._shown)
        if not answer.found and self._shown:
            self._print("No more passages for that question.")
            return
        self._print(render_answer(answer, colour=self._colour, scores=self.scores,
                                  first=self._shown + 1))
        self._shown += len(answer.hits)

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
