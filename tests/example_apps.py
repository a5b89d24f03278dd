"""Run the recipes in examples/ as real servers in their own processes, the way people run them.

Each app runs in a child interpreter with ``-W default`` (so ResourceWarnings and the like are
printed), its output going to files, pointed at an emulator through the ``PAREN_*`` variables
exactly as a deployment would be. ``App.request`` speaks each app's protocol (HTTP for the web
apps, a JSON line over TCP for the plain asyncio service) and returns status and body.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from paren_async.testing import ParenEmulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: Seconds an app may take to start answering (importing FastAPI alone takes ~1 s here).
START_TIMEOUT = 20.0
#: Shutdown grace given to the apps (seconds, whole for uvicorn): above the walks' deadlines, so
#: no request is cut off.
GRACE = 3


def command(kind: str, port: int, grace: float) -> list[str]:
    """The command line that serves the ``kind`` example on ``port``."""
    if kind == "fastapi":
        return [
            "-m", "uvicorn", "fastapi_app:app", "--app-dir", str(EXAMPLES), "--host", "127.0.0.1",
            "--port", str(port), "--timeout-graceful-shutdown", str(int(grace)),
        ]  # fmt: skip
    script, grace_option = {
        "aiohttp": ("aiohttp_app.py", "--shutdown-timeout"),
        "asyncio": ("asyncio_service.py", "--grace"),
    }[kind]
    return [str(EXAMPLES / script), "--port", str(port), grace_option, str(grace)]


#: What must never appear in an app's output: leaks, lost tasks, warnings, tracebacks.
TROUBLE = re.compile(
    r"Unclosed|Task was destroyed|never awaited|Warning|WARNING|Traceback|ERROR|[Ee]xception"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def app_environment(emulator: ParenEmulator) -> dict[str, str]:
    """The caller's environment, with the Paren variables pointing at ``emulator`` only."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PAREN_")}
    env.update(
        PAREN_BASE_URL=emulator.url,
        PAREN_API_KEY=emulator.api_key,
        PAREN_API_SECRET=emulator.api_secret,
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


class App:
    """A running example app: its process, its port, its output files."""

    def __init__(self, kind: str, process: asyncio.subprocess.Process, port: int, logs: Path):
        self.kind = kind
        self.process = process
        self.port = port
        self.logs = logs
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=30)
        )

    def output(self) -> str:
        return "".join(
            (self.logs / name).read_text(errors="replace") for name in ("stdout", "stderr")
        )

    def stderr(self) -> str:
        return (self.logs / "stderr").read_text(errors="replace")

    async def request(self, path: str, params: Mapping[str, Any]) -> Reply:
        """GET ``path`` with ``params``; the TCP service gets them as one JSON line."""
        if self.kind != "asyncio":
            url = f"http://127.0.0.1:{self.port}{path}"
            query = {name: str(value) for name, value in params.items()}
            async with self.session.get(url, params=query) as response:
                return Reply(response.status, await response.read())
        line = dict(params, realtime=path == "/realtime")
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**26)
        try:
            writer.write(msgspec.json.encode(line) + b"\n")
            body = await reader.readline()
        finally:
            writer.close()
            await writer.wait_closed()
        answer = msgspec.json.decode(body)
        error = str(answer.get("error", ""))
        status = (
            200 if "items" in answer
            else 504 if error == "timeout"
            else 400 if error.startswith("bad request")
            else 503 if error == "shutting down"
            else 502
        )  # fmt: skip
        return Reply(status, msgspec.json.encode(answer.get("items", answer)))

    async def ready(self) -> None:
        """Wait until the app answers (its client is then open), or fail with its output."""
        give_up = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.returncode is not None:
                raise AssertionError(f"{self.kind} app exited early:\n{self.output()}")
            with contextlib.suppress(OSError, aiohttp.ClientError):
                if self.kind == "asyncio":
                    reply = await self.request("/locations", {"max_items": 1})
                else:
                    reply = await self.request("/healthz", {})
                if reply.status == 200:
                    return
            if time.monotonic() > give_up:
                raise AssertionError(f"{self.kind} app did not start:\n{self.output()}")
            await asyncio.sleep(0.05)

    async def stop(self) -> float:
        """SIGTERM, then the seconds until the process has exited."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 10)
        return time.monotonic() - started


@contextlib.asynccontextmanager
async def running(
    kind: str, emulator: ParenEmulator, logs: Path, *, grace: float = GRACE
) -> AsyncIterator[App]:
    """Start the ``kind`` example app against ``emulator``; killed on the way out if still up."""
    port = free_port()
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-W", "default", *command(kind, port, grace),
            env=app_environment(emulator), stdout=out, stderr=err, cwd=logs,
        )  # fmt: skip
    app = App(kind, process, port, logs)
    try:
        await app.ready()
        yield app
    finally:
        await app.session.close()
        if process.returncode is None:
            process.kill()
            await process.wait()
