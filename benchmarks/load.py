"""Latency and load measurements for the benchmark: warm single questions, concurrent askers.

Nothing here knows what is being measured: callers hand in a function (one question,
synchronously) or a coroutine function (one question, the async API the bots use).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from retrieval.evaluation import percentile

# How often the event-loop probe wakes up while askers run.
PROBE_SECONDS = 0.005


def summary(milliseconds: Sequence[float]) -> dict[str, float]:
    """p50, p99 and mean of a list of latencies in milliseconds."""
    return {
        "p50_ms": round(percentile(milliseconds, 50), 3),
        "p99_ms": round(percentile(milliseconds, 99), 3),
        "mean_ms": round(statistics.fmean(milliseconds), 3) if milliseconds else 0.0,
    }


def median_of(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each numeric field's median over repeated runs (other fields from the first run)."""
    merged = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            middle = statistics.median(r[key] for r in runs)
            merged[key] = middle if isinstance(middle, int) else round(float(middle), 3)
    if len(runs) > 1:
        merged["repeats"] = len(runs)
    return merged


def warm_latency(
    call: Callable[[str], object], questions: Sequence[str], *, repeats: int, warmup: int = 10
) -> dict[str, Any]:
    """Latency of ``call`` over ``questions``, one at a time; medians of ``repeats`` passes.

    The first pass's p50 is kept too (``first_pass_p50_ms``): there the questions are new
    to the process, as a fan's usually are, and what the core keeps per passage met
    (its sentences' terms) is still to be worked out.
    """
    for question in questions[:warmup]:
        call(question)
    runs = []
    for _ in range(repeats):
        times = []
        cpu = time.process_time()
        for question in questions:
            started = time.perf_counter()
            call(question)
            times.append((time.perf_counter() - started) * 1e3)
        cpu = time.process_time() - cpu
        runs.append(
            {
                **summary(times),
                "cpu_ms_per_question": round(cpu * 1e3 / max(1, len(times)), 3),
                "questions": len(times),
            }
        )
    return {**median_of(runs), "first_pass_p50_ms": runs[0]["p50_ms"]}


async def closed_loop(
    ask: Callable[[str], Awaitable[object]], questions: Sequence[str], *, askers: int, total: int
) -> dict[str, Any]:
    """``askers`` concurrent users, each asking its next question as soon as answered.

    Returns throughput, latency percentiles and the event loop's worst lateness (a probe
    that should wake every 5 ms; a blocked loop shows up as a large lag).
    """
    latencies: list[float] = []
    numbers = iter(range(total))
    lags: list[float] = []
    running = True

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        while running:
            due = loop.time() + PROBE_SECONDS
            await asyncio.sleep(PROBE_SECONDS)
            lags.append(max(0.0, loop.time() - due) * 1e3)

    async def asker() -> None:
        for number in numbers:
            started = time.perf_counter()
            await ask(questions[number % len(questions)])
            latencies.append((time.perf_counter() - started) * 1e3)

    prober = asyncio.create_task(probe())
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(asker() for _ in range(askers)))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    running = False
    await prober
    return {
        "askers": askers,
        "questions": len(latencies),
        "qps": round(len(latencies) / wall, 1),
        **summary(latencies),
        # CPU of the whole process (every thread) per question: what the work costs,
        # nearly independent of other processes competing for the cores.
        "cpu_ms_per_question": round(cpu * 1e3 / max(1, len(latencies)), 3),
        "loop_lag_max_ms": round(max(lags, default=0.0), 2),
    }


def concurrency(
    ask: Callable[[str], Awaitable[object]],
    questions: Sequence[str],
    *,
    levels: Sequence[int],
    total: int,
    repeats: int,
) -> list[dict[str, Any]]:
    """:func:`closed_loop` at each concurrency level, each on a fresh event loop; medians."""
    results = []
    for askers in levels:
        count = max(total, askers * 4)
        asyncio.run(closed_loop(ask, questions, askers=askers, total=min(askers, 8)))  # warm-up
        runs = [
            asyncio.run(closed_loop(ask, questions, askers=askers, total=count))
            for _ in range(repeats)
        ]
        results.append(median_of(runs))
    return results
