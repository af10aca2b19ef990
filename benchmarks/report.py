"""The benchmark's report as a table for people and as a plot (PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

PLOT_NAME = "bench.png"


def render(report: dict[str, Any]) -> str:
    """A plain-text table: each figure for our core, the baseline and their ratio."""
    ours, baseline = report["ours"], report.get("baseline")
    corpus, machine = report["corpus"], report["machine"]
    lines = [
        f"corpus: {corpus['dir']} ({corpus['stories']} stories, {corpus['passages']} passages, "
        f"{corpus['sentences']} sentences); {corpus['questions']} questions",
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; "
        f"load average {report['load_average_start']} -> {report['load_average_end']}",
        "",
        f"{'figure':<34}{'ours':>12}{'baseline':>12}{'ours/base':>11}",
    ]

    def row(name: str, *path: str) -> None:
        mine = dig(ours, path)
        theirs = dig(baseline, path) if baseline else None
        ratio = mine / theirs if _number(mine) and _number(theirs) and theirs else None
        lines.append(f"{name:<34}{_fmt(mine):>12}{_fmt(theirs):>12}{_fmt(ratio):>11}")

    row("build: passages/s", "build", "passages_per_s")
    row("build: model's passage-only rate/s", "build", "passage_only_per_s")
    row("  the same, after the build", "build", "passage_only_after_per_s")
    row("build: rate / passage-only rate", "build", "of_passage_only")
    row("build: words/s", "build", "words_per_s")
    row("build: wall s", "build", "wall_s")
    row("build: peak RSS MB", "build", "peak_rss_mb")
    row("update (one story added) s", "update", "wall_s")
    row("  that story removed s", "update", "remove_s")
    row("cold start to first answer s", "cold_start", "wall_s")
    row("  the same, to the process's exit", "cold_start", "exit_s")
    row("RSS after load MB", "rss_after_load_mb")
    for path in ("dense", "lexical", "core"):
        row(f"warm {path} p50 ms", "latency", path, "p50_ms")
        row(f"warm {path} p99 ms", "latency", path, "p99_ms")
    row("warm core CPU ms/question", "latency", "core", "cpu_ms_per_question")
    row("core p50 ms, first pass", "latency", "core", "first_pass_p50_ms")
    # Ours: concurrent chats through ChatService.handle (what the adapters call); the
    # baseline: concurrent askers of its search in a thread.
    for index, level in enumerate(ours["concurrency"]):
        askers = level["askers"]
        row(f"{askers} chats: questions/s", "concurrency", str(index), "qps")
        row(f"{askers} chats: p99 ms", "concurrency", str(index), "p99_ms")
        row(f"{askers} chats: CPU ms/question", "concurrency", str(index), "cpu_ms_per_question")
    for key, label in (
        ("concurrency_core", "the core alone (Retriever.asearch)"),
        ("concurrency_unbatched", "the core without batching (search in a thread)"),
    ):
        figures = ", ".join(
            f"{x['askers']}: {x['qps']} q/s p99 {x['p99_ms']} ms "
            f"CPU {x.get('cpu_ms_per_question', '-')} ms/q"
            for x in ours.get(key, [])
        )
        if figures:
            lines.append(f"{label}: {figures}")
    chats = ours["concurrency"]
    batches = ", ".join(f"{x['askers']}: {x['mean_batch']}" for x in chats)
    lines.append(f"chats: mean questions per model call: {batches}")
    if all("model_only_qps" in x for x in chats):
        model = ", ".join(
            f"{x['askers']}: {x['model_only_qps']} q/s ({x['of_model_only']} reached)"
            for x in chats
        )
        lines.append(f"chats: the bare model on their questions, same batches: {model}")
    if all("lost" in x for x in chats):
        losses = ", ".join(f"{x['askers']}: {x['lost']}/{x['duplicated']}" for x in chats)
        lines.append(f"chats: questions lost/answered twice: {losses}")
    lags = ", ".join(f"{x['askers']}: {x['loop_lag_max_ms']}" for x in chats)
    lines.append(f"chats: worst event-loop lag ms: {lags}")
    synthetic = report.get("synthetic")
    if synthetic:
        size = f"{synthetic['vectors']} vectors of {synthetic['dimension']} dimensions"
        lines += ["", f"synthetic index, {size}:"]
        for name, figures in synthetic["types"].items():
            search = figures["search_k50"]
            lines.append(
                f"  {name:<5} build {figures['build_s']} s, memory {figures['index_mb']} MB, "
                f"search p50 {search['p50_ms']} ms p99 {search['p99_ms']} ms, "
                f"recall@10 {figures['recall@10']}"
            )
    return "\n".join(lines)


def plot(report: dict[str, Any], directory: Path) -> Path:
    """Latency and throughput against concurrency, build time against corpus size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    ours, baseline = report["ours"], report.get("baseline")
    figure, (latency, throughput, build) = plt.subplots(1, 3, figsize=(15, 4.6))
    series = [("ours (batched asearch)", ours["concurrency"], "tab:blue")]
    if ours.get("concurrency_unbatched"):
        series.append(("ours, unbatched", ours["concurrency_unbatched"], "tab:cyan"))
    if baseline:
        series.append(("baseline", baseline["concurrency"], "tab:red"))
    for label, levels, colour in series:
        askers = [x["askers"] for x in levels]
        latency.plot(
            askers, [x["p50_ms"] for x in levels], "o--", color=colour, label=f"{label} p50"
        )
        latency.plot(
            askers, [x["p99_ms"] for x in levels], "s-", color=colour, label=f"{label} p99"
        )
        throughput.plot(askers, [x["qps"] for x in levels], "o-", color=colour, label=label)
    for axes, title, unit in (
        (latency, "Latency against concurrent askers", "latency (ms)"),
        (throughput, "Throughput against concurrent askers", "questions / s"),
    ):
        axes.set_xscale("log", base=2)
        axes.set_xlabel("concurrent askers")
        axes.set_ylabel(unit)
        axes.set_title(title)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=7)
    latency.set_yscale("log")
    for key, label, colour in (("ours", "ours", "tab:blue"), ("baseline", "baseline", "tab:red")):
        points = [row[key] for row in report["build_vs_size"] if key in row]
        if points:
            build.plot(
                [p["words"] for p in points],
                [p["wall_s"] for p in points],
                "o-",
                color=colour,
                label=f"{label} full build",
            )
    build.set_xlabel("corpus size (words in passages)")
    build.set_ylabel("build time (s)")
    build.set_title("Full index build against corpus size")
    build.grid(True, alpha=0.3)
    build.legend(fontsize=7)
    corpus = report["corpus"]
    figure.suptitle(
        f"artistbot bench: {Path(corpus['dir']).name} ({corpus['passages']} passages), "
        f"{report['machine']['cores']} cores {report['machine']['cpu']}",
        fontsize=10,
    )
    figure.tight_layout()
    path = directory / PLOT_NAME
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def dig(values: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` in nested dicts and lists, or None."""
    for key in path:
        if isinstance(values, list):
            values = values[int(key)] if int(key) < len(values) else None
        elif isinstance(values, dict):
            values = values.get(key)
        else:
            return None
    return values


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fmt(value: Any) -> str:
    if not _number(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
