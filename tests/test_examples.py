"""The web recipes in examples/, each run as a real server against the emulator.

FastAPI under uvicorn, aiohttp.web under ``run_app`` and the plain asyncio service each take 200
concurrent requests, then are stopped with SIGTERM while walks are in flight: every response is
right, shutdown takes under a second, and the app prints no warning, leak or traceback.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from example_apps import TROUBLE, App, running

from paren_async import Location, ParenClient, RealtimeLocation
from paren_async.testing import ParenEmulator

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

KINDS = [pytest.param(kind, id=kind) for kind in ("fastapi", "aiohttp", "asyncio")]
LOCATIONS = 3_000
CONCURRENT = 200
IN_FLIGHT_AT_SHUTDOWN = 20
#: Deadline of the walks in flight at shutdown: below the apps' grace period (example_apps.GRACE).
SHORT_DEADLINE = 0.4


@pytest.fixture
async def emulator() -> AsyncIterator[ParenEmulator]:
    async with ParenEmulator(locations=LOCATIONS, latency=0.005, jitter=0.002) as emu:
        yield emu


def plan(number: int) -> tuple[str, dict[str, Any]]:
    """Request ``number``: a spread of offsets and sizes, one in eight from the Realtime API."""
    path = "/realtime" if number % 8 == 0 else "/locations"
    params = {"offset": (number * 37) % (LOCATIONS - 50), "max_items": 1 + (number * 13) % 120}
    return path, params


async def checked(app: App, emulator: ParenEmulator, number: int) -> int:
    """Send request ``number`` and check every record against the emulator; the record count."""
    path, params = plan(number)
    reply = await app.request(path, dict(params, deadline=10))
    assert reply.status == 200, reply.body[:300]
    model = RealtimeLocation if path == "/realtime" else Location
    records = msgspec.json.decode(reply.body, type=list[model])  # type: ignore[valid-type]
    start = params["offset"]
    assert [record.id for record in records] == emulator.ids()[start : start + params["max_items"]]
    assert all(record.address.city for record in records)
    return len(records)


async def check_records_equal_a_direct_walk(app: App, emulator: ParenEmulator) -> None:
    """Whole records, not only ids: the app's JSON decodes to what the client itself returns."""
    params = {"offset": 1_234, "max_items": 150}
    reply = await app.request("/locations", params)
    async with ParenClient(emulator.api_key, emulator.api_secret, base_url=emulator.url) as client:
        direct = await client.locations(**params).collect()
    assert msgspec.json.decode(reply.body, type=list[Location]) == direct


@pytest.mark.parametrize("kind", KINDS)
async def test_app_serves_concurrent_walks_and_shuts_down_cleanly(
    kind: str, emulator: ParenEmulator, tmp_path: Path
) -> None:
    """200 concurrent requests all right; SIGTERM mid-walk: deadlines answered, exit < 1 s, quiet."""
    async with running(kind, emulator, tmp_path) as app:
        started = time.monotonic()
        counts = await asyncio.gather(*(checked(app, emulator, n) for n in range(CONCURRENT)))
        elapsed = time.monotonic() - started
        assert sum(counts) == sum(plan(n)[1]["max_items"] for n in range(CONCURRENT))
        await check_records_equal_a_direct_walk(app, emulator)

        for bad in ({"max_items": 0}, {"max_items": 5, "deadline": -1}):
            reply = await app.request("/locations", bad)
            assert 400 <= reply.status < 500, reply.body[:300]

        # Walks in flight at shutdown: every page now takes 2 s, each walk has SHORT_DEADLINE.
        emulator.configure(latency=2.0, jitter=0.0)
        offsets = [100 * n for n in range(IN_FLIGHT_AT_SHUTDOWN)]
        late = [
            asyncio.ensure_future(
                app.request(
                    "/locations", {"offset": offset, "max_items": 500, "deadline": SHORT_DEADLINE}
                )
            )
            for offset in offsets
        ]
        # On a loaded machine a deadline may pass before all 20 have reached the emulator.
        for _ in range(500):  # polls the emulator's counter: at most 5 s
            if emulator.statistics().in_flight >= IN_FLIGHT_AT_SHUTDOWN:
                break
            if any(task.done() for task in late):
                break
            await asyncio.sleep(0.01)
        in_flight = emulator.statistics().in_flight
        shutdown = await app.stop()
        replies = await asyncio.gather(*late)
    print(
        f"\n{kind}: {CONCURRENT} requests ({sum(counts)} records) in {elapsed:.2f} s; "
        f"shutdown with {in_flight} walks in flight: {shutdown:.2f} s"
    )
    assert in_flight >= 1
    for offset, reply in zip(offsets, replies, strict=True):
        assert reply.status == 504, reply.body[:300]
        assert reply.json()["resume_offset"] == offset
    assert shutdown < 1.0
    # uvicorn ends by re-raising the signal it handled; the others return normally.
    assert app.process.returncode in {0, -signal.SIGTERM}, app.output()
    assert not TROUBLE.search(app.stderr()), app.stderr()


@pytest.mark.parametrize("kind", [pytest.param(k, id=k) for k in ("aiohttp", "asyncio")])
async def test_walks_past_the_grace_period_are_cancelled_cleanly(
    kind: str, emulator: ParenEmulator, tmp_path: Path
) -> None:
    """Walks longer than the shutdown grace are cancelled at its end: prompt exit, no leak, quiet.

    (uvicorn is left out: past its grace period it logs every cancelled request as an
    "Exception in ASGI application", which is why the recipes keep deadlines below the grace.)
    """
    grace = 0.5
    async with running(kind, emulator, tmp_path, grace=grace) as app:
        emulator.configure(latency=10.0)
        late = [
            asyncio.ensure_future(
                app.request("/locations", {"offset": 100 * n, "max_items": 500, "deadline": 30})
            )
            for n in range(10)
        ]
        for _ in range(500):  # polls the emulator's counter: at most 5 s
            if emulator.statistics().in_flight >= len(late):
                break
            await asyncio.sleep(0.01)
        assert emulator.statistics().in_flight == len(late)
        shutdown = await app.stop()
        replies = await asyncio.gather(*late, return_exceptions=True)
    for reply in replies:
        # The plain service answers "shutting down"; aiohttp.web drops the connection.
        assert isinstance(reply, (OSError, aiohttp.ClientError)) or reply.status == 503, reply
    assert shutdown < grace + 1.0
    assert app.process.returncode == 0, app.output()
    assert not TROUBLE.search(app.stderr()), app.stderr()


def test_trouble_detector_sees_an_unclosed_session(tmp_path: Path) -> None:
    """The output check has reach: a session left open is reported under the apps' -W default."""
    leak = "import asyncio, aiohttp\nasync def main():\n    aiohttp.ClientSession()\nasyncio.run(main())\n"
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", leak],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert TROUBLE.search(result.stderr), result.stderr


SECOND_LOOP = """
import asyncio
from paren_async import ParenClient, UsageError
from paren_async.testing import ParenEmulator

async def serve(ready, done):
    async with ParenEmulator(locations=50) as emu:
        ready.put(emu)
        await asyncio.get_running_loop().run_in_executor(None, done.get)

async def walk(client):
    return len(await client.locations().collect())

import queue, threading
ready, done = queue.Queue(), queue.Queue()
server = threading.Thread(target=lambda: asyncio.run(serve(ready, done)))
server.start()
emu = ready.get()
client = ParenClient(emu.api_key, emu.api_secret, base_url=emu.url)
try:
    assert asyncio.run(walk(client)) == 50
    try:
        asyncio.run(walk(client))
    except UsageError as error:
        print("UsageError:", error)
    except Exception as error:
        print("untyped:", type(error).__name__, error)
finally:
    done.put(None)
    server.join()
"""


def test_a_client_reused_in_a_second_event_loop_says_what_to_do(tmp_path: Path) -> None:
    """Reusing a client across asyncio.run() calls (a client created at import time, shared by
    workers) fails with UsageError naming the event loop, not a crash from inside aiohttp."""
    (tmp_path / "second_loop.py").write_text(SECOND_LOOP)
    result = subprocess.run(
        [sys.executable, "second_loop.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("UsageError:"), result.stdout
    assert "event loop" in result.stdout, result.stdout
