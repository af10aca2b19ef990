"""The ``artistbot bench`` command (loaded by :mod:`bot.cli` only when it is run)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.cli import corpus_option
from bot.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from benchmarks.common import ColdStart
    from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)


@click.command()
@corpus_option
@click.option(
    "--questions",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="JSONL questions (default: eval/seeds, or the shipped general questions).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write bench.png (and bench.json) into this folder.",
)
@click.option(
    "--synthetic",
    type=click.IntRange(0),
    default=0,
    help="Also measure flat, HNSW and IVF indexes of this many synthetic vectors.",
)
@click.option(
    "--concurrency",
    default="1,8,64",
    show_default=True,
    help="Concurrent askers to measure, comma-separated.",
)
@click.option(
    "--requests",
    type=click.IntRange(1),
    default=640,
    show_default=True,
    help="Questions per concurrency level and run.",
)
@click.option(
    "--latency-questions",
    type=click.IntRange(1),
    default=300,
    show_default=True,
    help="Questions in each warm latency run.",
)
@click.option(
    "--repeats",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Runs of each measurement (medians are reported).",
)
@click.option(
    "--sizes",
    default="0.25,0.5,1",
    show_default=True,
    help="Shares of the corpus built for build time against size.",
)
@click.option(
    "--baseline/--no-baseline",
    default=True,
    show_default=True,
    help="Also measure the plain baseline (torch, whole paragraphs, flat).",
)
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Keep the bench's indexes here (default: a temporary folder in the data directory).",
)
@click.pass_context
def bench(
    ctx: click.Context,
    corpus: Path | None,
    questions: Path | None,
    as_json: bool,
    plot_dir: Path | None,
    synthetic: int,
    concurrency: str,
    requests: int,
    latency_questions: int,
    repeats: int,
    sizes: str,
    baseline: bool,
    work_dir: Path | None,
) -> None:
    """Measure build, update, cold start, latency and concurrency against a plain baseline."""
    from benchmarks.common import BenchOptions
    from benchmarks.report import plot, render
    from benchmarks.run import run

    settings: Settings = ctx.obj
    retrieval = settings.retrieval
    if corpus is not None:
        retrieval = retrieval.model_copy(update={"corpus_dir": corpus.resolve()})
    elif questions is None and (PROJECT_ROOT / "eval" / "seeds" / "questions.jsonl").is_file():
        questions = PROJECT_ROOT / "eval" / "seeds" / "questions.jsonl"
    options = BenchOptions(
        questions=questions,
        work_dir=work_dir,
        levels=_numbers(concurrency, int, "--concurrency"),
        requests=requests,
        latency_questions=latency_questions,
        repeats=repeats,
        sizes=_numbers(sizes, float, "--sizes"),
        baseline=baseline,
        synthetic=synthetic,
        cold_start=_cold_start_command(ctx),
    )
    report = run(retrieval, options)
    if plot_dir is not None:
        path = plot(report, plot_dir)
        (plot_dir / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
        log.info("wrote %s and bench.json", path)
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(render(report))


def _numbers(text: str, kind: type[int] | type[float], option: str) -> tuple[Any, ...]:
    try:
        values = tuple(kind(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or any(v <= 0 for v in values):
        raise click.BadParameter(
            f"expected positive numbers separated by commas, got {text!r}", param_hint=option
        )
    return values


def _cold_start_command(ctx: click.Context) -> ColdStart:
    """How the bench starts a fresh ``artistbot ask`` over its own index (same config)."""
    script = Path(sys.executable).with_name("artistbot")
    prefix = (
        [str(script)]
        if script.is_file()
        else [sys.executable, "-c", "from bot.cli import main; main()"]
    )
    config = ctx.parent.params.get("config_file") if ctx.parent else None
    if config is not None:
        prefix += ["--config", str(config)]

    def command(retrieval: RetrievalSettings, question: str) -> tuple[list[str], dict[str, str]]:
        env = {
            "ARTISTBOT_RETRIEVAL__CORPUS_DIR": str(retrieval.corpus_dir),
            "ARTISTBOT_RETRIEVAL__DATA_DIR": str(retrieval.data_dir),
        }
        return [*prefix, "ask", "--json", question], env

    return command
