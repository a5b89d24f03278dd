"""The loopback Paren emulator in its own process: client and server never share a loop or core.

Started as ``python -m paren_async serve --port 0 --locations N --latency Xms``; its first stdout
line says where it listens. One server per (latency, size): latency is fixed for a server's life.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final

import psutil

__all__ = ["API_KEY", "API_SECRET", "PATH", "Server"]

#: The emulator's default credentials.
API_KEY: Final = "demo"
API_SECRET: Final = "demo"
#: Every contender walks the Metadata locations, the endpoint behind ``client.locations()``.
PATH: Final = "/metadata/v1/locations"

_LISTENING: Final = re.compile(r"Paren emulator listening on (http://127\.0\.0\.1:\d+)")
_START_TIMEOUT: Final = 60.0
#: Idle: under this share of a core over a window of this many seconds.
_IDLE_SHARE: Final = 0.05
_IDLE_WINDOW: Final = 0.2
#: Replaces the serve command (for instance to try a server build elsewhere); split like a shell.
ENV_COMMAND: Final = "PAREN_BENCH_SERVE"


def _command() -> list[str]:
    override = os.environ.get(ENV_COMMAND)
    if override:
        return shlex.split(override)
    return [sys.executable, "-m", "paren_async", "serve"]


@dataclass
class Server:
    """A running emulator: ``url`` to point clients at, ``cpu_seconds()`` to see how busy it was."""

    locations: int
    latency_ms: float
    url: str = ""
    _process: subprocess.Popen[str] | None = field(default=None, repr=False)
    _ps: psutil.Process | None = field(default=None, repr=False)

    def start(self) -> Server:
        if self._process is not None:
            return self  # already running (``with Server(...).start() as server`` is fine)
        command = [
            *_command(),
            "--port",
            "0",
            "--locations",
            str(self.locations),
            "--latency",
            f"{self.latency_ms:g}ms",
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self._process = process
        line = _first_line(process, _START_TIMEOUT)
        match = _LISTENING.search(line)
        if match is None:
            self.stop()
            error = process.stderr.read() if process.stderr else ""
            raise RuntimeError(
                f"emulator did not start ({' '.join(command)}): first line {line!r}\n{error}"
            )
        self.url = match.group(1)
        # Nobody reads them from here on: drain both pipes so a chatty server never blocks.
        for stream in (process.stdout, process.stderr):
            threading.Thread(target=_drain, args=(stream,), daemon=True).start()
        self._ps = psutil.Process(process.pid)
        self._wait_until_idle()
        return self

    def _wait_until_idle(self) -> None:
        """Return once the server has finished its start-up work (it encodes its record templates
        in the background after it starts listening): requests meanwhile wait tens of ms."""
        deadline = time.monotonic() + _START_TIMEOUT
        used = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(_IDLE_WINDOW)
            now = self.cpu_seconds()
            if now - used < _IDLE_WINDOW * _IDLE_SHARE:
                return
            used = now

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system)."""
        if self._ps is None:
            return 0.0
        times = self._ps.cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first stdout line, or "" if the process ends or stays silent for ``timeout``."""
    result: list[str] = []
    reader = threading.Thread(
        target=lambda: result.append(process.stdout.readline() if process.stdout else ""),
        daemon=True,
    )
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""


def _drain(stream: object) -> None:
    read = getattr(stream, "read", None)
    if read is None:
        return
    while read(65536):
        pass
