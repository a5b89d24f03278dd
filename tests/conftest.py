from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from scripted_server import KEY, SECRET, ScriptedServer, serve

from paren_async import ParenClient, RetryPolicy

SAMPLES = Path(__file__).parent / "samples"
#: Retries without waiting, so fault tests take milliseconds.
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.0, max_delay=0.0)


@pytest.fixture
def sample() -> Callable[[str], bytes]:
    """Read a recorded response body from tests/samples/ by file name."""

    def read(name: str) -> bytes:
        return (SAMPLES / name).read_bytes()

    return read


MakeServer = Callable[..., Awaitable[ScriptedServer]]


@pytest.fixture
async def make_server() -> AsyncIterator[MakeServer]:
    """Start scripted loopback servers; all are stopped when the test ends."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(total: int, **options: Any) -> ScriptedServer:
            return await stack.enter_async_context(serve(ScriptedServer(total, **options)))

        yield make


def client_for(server: ScriptedServer, **options: Any) -> ParenClient:
    options.setdefault("retry", FAST_RETRY)
    return ParenClient(KEY, SECRET, base_url=server.url, **options)


async def settle() -> None:
    """Let cancelled tasks run their cancellation."""
    for _ in range(5):
        await asyncio.sleep(0)


def fetch_tasks() -> set[asyncio.Task[Any]]:
    """Every task of the test's event loop still alive, but the test's own.

    Servers run in threads of their own, so whatever is left here belongs to the client.
    """
    current = asyncio.current_task()
    return {task for task in asyncio.all_tasks() if task is not current and not task.done()}
