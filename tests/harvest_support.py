"""Helpers for the harvest's end-to-end tests: an engine run, a CLI run, a byte-exact server."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from paren_async import ParenClient, RetryPolicy
from paren_async._harvest import HarvestOptions, Outcome, harvest
from paren_async.testing import Fault, ParenEmulator

NO_RETRY = RetryPolicy(max_attempts=1)


async def run(emulator: ParenEmulator, out: Path, **options: Any) -> Outcome:
    """One quiet harvest through the engine, without touching the process's signal handlers."""
    client = ParenClient(
        emulator.api_key, emulator.api_secret, base_url=emulator.url, retry=NO_RETRY
    )
    async with client:
        return await harvest(
            client,
            HarvestOptions(out=out, **options),
            stream=io.StringIO(),
            progress="quiet",
            handle_signals=False,
        )


def ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_bytes().splitlines()]


async def fail_from_page(emulator: ParenEmulator, page: int, **walk: Any) -> int:
    """Make every request from the walk's ``page``-th page on fail; returns that page's offset."""
    emulator.reset_statistics()
    async with ParenClient(emulator.api_key, emulator.api_secret, base_url=emulator.url) as client:
        async for _ in client.locations(**walk).raw_pages():
            pass
    offset = sorted({r.offset for r in emulator.requests if r.offset is not None})[page]
    emulator.inject(Fault.SERVER_ERROR, offset=offset, times=None)
    return offset


@contextlib.asynccontextmanager
async def records_server(records: list[bytes]) -> AsyncIterator[str]:
    """A loopback Paren serving exactly ``records`` (bytes as given) on both paths; yields its URL."""

    async def locations(request: web.Request) -> web.Response:
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        page = b",".join(records[offset : offset + limit])
        body = b'{"data":[' + page + b'],"status_code":200,"status_message":"Success"}'
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/metadata/v1/locations", locations)
    app.router.add_get("/realtime/v1/locations", locations)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(shutdown_timeout=0.1)
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def cli(cwd: Path, *args: str, base_url: str = "", **env: str) -> tuple[int, str, str]:
    """``paren-async ARGS`` in a subprocess: exit code, stdout, stderr."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAREN_")}
    environment.update(PAREN_API_KEY="key", PAREN_API_SECRET="secret")
    if base_url:
        environment["PAREN_BASE_URL"] = base_url
    environment.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "paren_async",
        *args,
        cwd=cwd,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def cli_at(emulator: ParenEmulator, cwd: Path, *args: str) -> tuple[int, str, str]:
    """``paren-async ARGS`` against ``emulator``, with its credentials."""
    return await cli(
        cwd,
        *args,
        base_url=emulator.url,
        PAREN_API_KEY=emulator.api_key,
        PAREN_API_SECRET=emulator.api_secret,
    )


def summary(stdout: str) -> dict[str, Any]:
    """The one JSON line on stdout."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    parsed: dict[str, Any] = json.loads(lines[0])
    return parsed


def files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())
