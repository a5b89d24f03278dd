"""The loopback Paren emulator in its own process: client and server never share a loop or core.

Started as ``python -m benchmarks._serve --locations N --latency MS`` (the package's emulator plus
a statistics address); its first stdout line says where it listens and where its statistics are.
One server per (latency, size): latency is fixed for a server's life.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
import urllib.request
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
_STATISTICS: Final = re.compile(r"\(statistics: (http://127\.0\.0\.1:\d+/)\)")
_START_TIMEOUT: Final = 60.0
#: Idle: under this share of a core over a window of this many seconds.
_IDLE_SHARE: Final = 0.05
_IDLE_WINDOW: Final = 0.2
#: How long a finished walk's last requests may take to leave the server (100 ms latency and
#: cancelled speculative requests that the server still answers).
_SETTLE_TIMEOUT: Final = 2.0
_SETTLE_POLL: Final = 0.01
#: Replaces the serve command (for instance to try a server build elsewhere); split like a shell
#: and given ``paren-async serve``'s options. Such a server has no statistics address, so
#: requests per walk are then not measured.
ENV_COMMAND: Final = "PAREN_BENCH_SERVE"
_ROOT: Final = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _command(locations: int, latency_ms: float) -> list[str]:
    override = os.environ.get(ENV_COMMAND)
    if override:
        return [
            *shlex.split(override),
            *("--port", "0", "--locations", str(locations), "--latency", f"{latency_ms:g}ms"),
        ]
    return [
        sys.executable, "-m", "benchmarks._serve",
        "--locations", str(locations), "--latency", f"{latency_ms:g}",
    ]  # fmt: skip


@dataclass
class Server:
    """A running emulator: ``url`` to point clients at, ``cpu_seconds()`` to see how busy it was."""

    locations: int
    latency_ms: float
    url: str = ""
    #: Where the emulator's counters can be read, or "" when the server has no such address.
    statistics_url: str = ""
    _process: subprocess.Popen[str] | None = field(default=None, repr=False)
    _ps: psutil.Process | None = field(default=None, repr=False)

    def start(self) -> Server:
        if self._process is not None:
            return self  # already running (``with Server(...).start() as server`` is fine)
        command = _command(self.locations, self.latency_ms)
        process = subprocess.Popen(
            command,
            cwd=_ROOT,  # `-m benchmarks._serve` finds these benchmarks and their paren_async
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
        found = _STATISTICS.search(line)
        self.statistics_url = found.group(1) if found else ""
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
        return float(times.user + times.system)

    def statistics(self) -> dict[str, int] | None:
        """The emulator's counters now (``requests``, ``in_flight``, ...), None if unavailable."""
        if not self.statistics_url:
            return None
        with urllib.request.urlopen(self.statistics_url, timeout=10) as response:  # loopback
            found: dict[str, int] = json.loads(response.read())
        return found

    def requests_served(self, *, settle: bool = False) -> int | None:
        """HTTP requests the emulator has received so far, None if it cannot say.

        ``settle``: first wait (up to 2 s) until no request is in flight, so that a walk that
        just ended has all its requests counted, including cancelled ones the server still
        answers.
        """
        deadline = time.monotonic() + _SETTLE_TIMEOUT
        while True:
            found = self.statistics()
            if found is None:
                return None
            if not settle or found["in_flight"] == 0 or time.monotonic() > deadline:
                return found["requests"]
            time.sleep(_SETTLE_POLL)

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
