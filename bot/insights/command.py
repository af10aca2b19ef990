"""``artistbot report``: what fans asked, what was answered, and what the stories miss."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.insights.figures import Figures, Report
from bot.settings import Settings


@click.command()
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="Period.")
@click.option("--slowest", type=click.IntRange(0, 100), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--plot",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also draw questions per day and votes per artist into this PNG file.",
)
@click.pass_obj
def report(settings: Settings, days: int, slowest: int, as_json: bool, plot: Path | None) -> None:
    """Questions per day, share answered, votes per artist, slowest and unanswered questions."""
    from retrieval.models import open_encoder

    if plot is not None and plot.suffix.lower() != ".png":
        raise click.BadParameter(
            "the plot is written as PNG: name it FILE.png", param_hint="--plot"
        )
    figures = Figures(settings.feedback_path, open_encoder(settings.retrieval))
    result = figures.report(days=days, slowest=slowest)
    if plot is not None:
        from bot.insights.plots import save_plot

        save_plot(result, plot)
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render(result))
    if plot is not None and not as_json:
        click.echo(f"\nplot written to {plot}")


def render(result: Report) -> str:
    """The report as plain text for a terminal."""
    lines = [
        f"Last {result.days} days: {result.questions} questions, "
        f"{result.answered} answered ({result.share_answered:.0%})."
    ]
    if result.per_day:
        lines += ["", "Questions per day (answered):"]
        lines += [f"  {d.day}  {d.questions:>5}  ({d.answered})" for d in result.per_day]
    if result.votes:
        lines += ["", "Votes per artist (👍 / 👎):"]
        lines += [f"  {v.artist}: {v.up} / {v.down}" for v in result.votes]
    if result.slowest:
        lines += ["", "Slowest answers:"]
        lines += [f"  {a.latency_ms:8.1f} ms  {a.question}" for a in result.slowest]
    lines += ["", "Unanswered questions, grouped by meaning:"]
    if not result.unanswered:
        lines.append("  none")
    for group in result.unanswered:
        examples = " | ".join(group.examples)
        lines.append(f"  {group.count:>4} × {examples}")
    return "\n".join(lines)
