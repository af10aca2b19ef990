"""The report as a picture (matplotlib, imported only when a plot is asked for)."""

from __future__ import annotations

from pathlib import Path

from bot.insights.figures import Report


def save_plot(report: Report, path: Path) -> None:
    """Draw questions per day (answered and not) and votes per artist into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (days, votes) = plt.subplots(2, 1, figsize=(9, 7), constrained_layout=True)
    labels = [d.day for d in report.per_day]
    answered = [d.answered for d in report.per_day]
    missed = [d.questions - d.answered for d in report.per_day]
    days.bar(labels, answered, label="answered", color="#3a7d44")
    days.bar(labels, missed, bottom=answered, label="not answered", color="#c8553d")
    days.set_title(
        f"Questions per day: {report.questions} in {report.days} days, "
        f"{report.share_answered:.0%} answered"
    )
    days.legend()
    days.tick_params(axis="x", labelrotation=45)
    artists = [v.artist for v in report.votes]
    positions = range(len(artists))
    votes.barh([p - 0.2 for p in positions], [v.up for v in report.votes], 0.4, label="helpful")
    votes.barh(
        [p + 0.2 for p in positions], [v.down for v in report.votes], 0.4, label="not helpful"
    )
    votes.set_yticks(list(positions), artists)
    votes.set_title("Votes per artist")
    votes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
