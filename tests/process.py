"""``artistbot`` as a real process in tests: started, its output collected, stopped."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
from pathlib import Path

ARTISTBOT = Path(sys.executable).with_name("artistbot")
START_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0


class BotProcess:
    """A running ``artistbot`` command whose output (stdout and stderr) is collected."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, args: list[str], env: dict[str, str]) -> BotProcess:
        """Run ``artistbot *args`` with exactly ``env``; no stdin."""
        process = await asyncio.create_subprocess_exec(
            str(ARTISTBOT),
            *args,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def log(self) -> str:
        """Everything the process has written so far."""
        return "".join(self.lines)

    async def wait_for_log(self, *needles: str, limit: float = START_TIMEOUT) -> None:
        """Wait until every needle has been written; fail if the process exits first."""

        async def seen() -> None:
            while not all(n in self.log for n in needles):
                if self.process.returncode is not None:
                    raise AssertionError(f"artistbot exited early:\n{self.log}")
                await asyncio.sleep(0.1)

        try:
            await asyncio.wait_for(seen(), limit)
        except TimeoutError:
            raise AssertionError(f"never logged {needles}:\n{self.log}") from None

    async def finish(self, limit: float = STOP_TIMEOUT) -> int:
        """Wait for the process to exit by itself; its exit code."""
        code = await asyncio.wait_for(self.process.wait(), limit)
        await self._reader
        return code

    async def stop(self, sig: signal.Signals, limit: float = STOP_TIMEOUT) -> int:
        """Send ``sig`` and wait for the exit; its exit code."""
        self.process.send_signal(sig)
        return await self.finish(limit)

    def kill(self) -> None:
        """Kill the process if it still runs (test clean-up)."""
        if self.process.returncode is None:
            self.process.kill()


def copy_data_dir(source: Path, tmp_path: Path) -> Path:
    """A private copy of a data directory whose index is built and model exported."""
    target = tmp_path / "data"
    shutil.copytree(source, target)
    return target
