"""How long an admin waits for /addstory: a seed-sized story added through the chat layer.

``python -m benchmarks.story_add [RUNS]`` copies the seed corpus into a temporary folder,
opens a retriever there (sharing the configured data directory's exported model, read
only) and sends ``/addstory`` with a seed story whose names are changed, through
:meth:`bot.chat.ChatService.command` as both adapters do, then removes it again. It prints
the wall-clock and CPU seconds of each add (the first one also embeds the background
questions of the no-answer bar, once per process) and the machine's load average.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bot.chat import Attachment, ChatService, FeedbackStore, Incoming
from bot.settings import PROJECT_ROOT, Settings, load_settings
from retrieval import Retriever

SEED = PROJECT_ROOT / "corpus" / "000_172f390d79c9c20b.txt"


async def measure(chat: ChatService, runs: int) -> list[tuple[float, float]]:
    """Seconds of wall clock and of CPU (all threads) for each of ``runs`` adds."""
    seed = SEED.read_bytes()
    times = []
    for run in range(runs):
        data = seed.replace(b"Talgat Baktybekova", f"Aigerim Nurlanova {run:02d}".encode())

        async def read(data: bytes = data) -> bytes:
            return data

        file = Attachment(f"aigerim{run}.txt", len(data), read)
        message = Incoming("bench", "bench", "admin", "", True, True, attachment=file)
        cpu, wall = time.process_time(), time.perf_counter()
        reply = await chat.command("addstory", "", message)
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
        if not reply.text.startswith("Added story"):
            raise RuntimeError(reply.text)
        await asyncio.to_thread(chat.retriever.remove_story, f"aigerim{run}")
    return times


def main(runs: int = 5) -> None:
    """Measure ``runs`` adds and print them."""
    configured = load_settings()
    with tempfile.TemporaryDirectory(prefix="story-add-") as folder:
        root = Path(folder)
        shutil.copytree(PROJECT_ROOT / "corpus", root / "corpus")
        (root / "data").mkdir()
        models = configured.retrieval.data_dir / "models"
        if models.is_dir():
            (root / "data" / "models").symlink_to(models.resolve(), target_is_directory=True)
        retrieval = configured.retrieval.model_copy(
            update={"corpus_dir": root / "corpus", "data_dir": root / "data"}
        )
        settings = Settings(retrieval=retrieval, chat=configured.chat)
        retriever = Retriever.open(retrieval, freeze=True)  # as the bots open it
        try:
            chat = ChatService(retriever, settings, FeedbackStore(root / "feedback.sqlite3"))
            times = asyncio.run(measure(chat, runs))
        finally:
            retriever.close()
    print(f"/addstory of a seed-sized story ({SEED.stat().st_size} bytes), {runs} runs:")
    print("  wall s:", " ".join(f"{wall:.2f}" for wall, _ in times))
    print("  CPU s: ", " ".join(f"{cpu:.2f}" for _, cpu in times))
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  load average {load} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
