"""The ``artistbot`` command line: index, ask, repl, eval, bench, telegram, discord, run,
stories, feedback.

Heavy imports happen inside the commands, so ``artistbot --help`` is instant.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from pathlib import Path
from typing import Any, ClassVar

import click

from bot.opening import open_chat, open_retriever
from bot.settings import Settings, SettingsError, load_settings
from bot.stories_cli import stories

log = logging.getLogger(__name__)


def main() -> None:
    """Entry point of the ``artistbot`` console script."""
    try:
        cli(standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"artistbot: configuration error: {exc}", err=True)
        sys.exit(2)


class _Commands(click.Group):
    """The commands; the bots', ``bench``, ``report`` and ``web`` are imported only to run them."""

    lazy: ClassVar[dict[str, tuple[str, str]]] = {
        "bench": ("benchmarks.command", "bench"),
        "telegram": ("bot.run_cli", "telegram"),
        "discord": ("bot.run_cli", "discord_command"),
        "run": ("bot.run_cli", "run_command"),
        "report": ("bot.insights.command", "report"),
        "web": ("bot.web.command", "web"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, name = self.lazy[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), name)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Config file (default: config/default.toml, or $ARTISTBOT_CONFIG).",
)
@click.option(
    "-v", "--verbose", count=True, help="Log what happens (-v: info, -vv: debug messages)."
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, verbose: int) -> None:
    """artistbot: answers questions about artists from a corpus of stories."""
    quiet = ctx.invoked_subcommand in HUMAN_COMMANDS and not verbose
    logging.basicConfig(
        level=[logging.WARNING if quiet else logging.INFO, logging.INFO, logging.DEBUG][
            min(verbose, 2)
        ],
        format=HUMAN_FORMAT if quiet else LOG_FORMAT,
        stream=sys.stderr,
    )
    for noisy in ("faiss.loader", "bm25s", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = load_settings(config_file)


# Commands a person runs and reads: warnings only, as plain lines (-v for the log).
# The bots' commands log what they do: that log is what an operator watches.
HUMAN_COMMANDS = frozenset({"index", "ask", "repl", "stories"})
HUMAN_FORMAT = "artistbot: %(message)s"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@cli.command()
@click.pass_obj
def index(settings: Settings) -> None:
    """Build the index, or update it for added, changed and removed stories.

    Then the multilingual vectors (Russian and Kazakh questions), with their own bar.
    """
    from bot.progress import Counter, open_with_progress, wait_for_multilingual

    counter = Counter()
    retriever = open_with_progress(settings, multilingual=counter, questions=False)
    passages = sum(s.passages for s in retriever.stories)
    click.echo(
        f"index ready: {len(retriever.stories)} stories, {passages} passages "
        f"in {settings.retrieval.data_dir / 'index'}"
    )
    click.echo(wait_for_multilingual(retriever, counter))


@cli.command()
@click.argument("question")
@click.option("-k", "--k", "k", type=click.IntRange(1, 20), default=None, help="Passages to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--no-limit", is_flag=True, help="Search a question longer than chat.max_question_chars."
)
@click.pass_obj
def ask(settings: Settings, question: str, k: int | None, as_json: bool, no_limit: bool) -> None:
    """Ask one question and print the best passages."""
    from bot.chat.texts import TOO_LONG
    from bot.render_text import answer_json, render_answer
    from retrieval.text import clean

    question = clean(question).strip()
    limit = settings.chat.max_question_chars
    if len(question) > limit and not no_limit:
        too_long = TOO_LONG.format(length=len(question), limit=limit)
        raise click.UsageError(f"{too_long} (--no-limit searches it anyway)")
    answer = open_retriever(settings).search(question, k=k)
    if as_json:
        click.echo(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        click.echo(render_answer(answer, colour=sys.stdout.isatty()))


@cli.command()
@click.pass_obj
def repl(settings: Settings) -> None:
    """Ask questions interactively (:help lists the commands; Ctrl-D quits)."""
    from bot.repl import Repl

    Repl(
        open_chat(settings, open_retriever(settings, progress=True, serving=True)),
        top_k=settings.retrieval.top_k,
    ).run()


corpus_option = click.option(
    "--corpus",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="Story folder (default: the configured corpus).",
)


@cli.command("eval")
@corpus_option
@click.option(
    "--questions",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="JSONL file of {id, question, answers}.",
)
@click.option("--k", "k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def eval_command(
    settings: Settings, corpus: Path | None, questions: Path, k: int, as_json: bool
) -> None:
    """Measure retrieval quality and latency on a question set (in a temporary index)."""
    from retrieval.evaluation import evaluate, read_questions

    retrieval = settings.retrieval
    if corpus is not None:
        retrieval = retrieval.model_copy(update={"corpus_dir": corpus.resolve()})
    try:
        items = read_questions(questions)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--questions") from None
    result: dict[str, Any] = evaluate(retrieval, items, k=k)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:>20}  {value}")


cli.add_command(stories)


@cli.group()
def feedback() -> None:
    """Helpful / not helpful votes on answers."""


@feedback.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to this file instead of standard output.",
)
@click.pass_obj
def feedback_export(settings: Settings, fmt: str, out: Path | None) -> None:
    """Export every stored vote (one row per user and answer)."""
    from bot.chat import FeedbackStore

    store = FeedbackStore(settings.feedback_path)
    if out is None:
        count = store.export(sys.stdout, fmt=fmt)
    else:
        with out.open("w", encoding="utf-8", newline="") as stream:
            count = store.export(stream, fmt=fmt)
    log.info("exported %d votes", count)
