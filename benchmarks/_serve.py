"""The benchmark's emulator process: ``paren-async serve`` plus a side door for its statistics.

``python -m benchmarks._serve --locations N --latency MS`` runs the package's ``ParenEmulator``
on 127.0.0.1 (a free port) until SIGTERM or SIGINT, and prints one line::

    Paren emulator listening on http://127.0.0.1:PORT (statistics: http://127.0.0.1:PORT2/)

``GET`` on the statistics address answers the emulator's ``statistics()`` as JSON (``requests``,
``in_flight``, ``pages_served``, ``records_served``, ``bytes_sent``). It listens on a port of its
own, so reading it is never counted as an API request: the benchmark reads it before and after
each walk to learn how many requests that walk cost the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Final

import msgspec
from aiohttp import web

from paren_async.testing import ParenEmulator

__all__ = ["main"]

HOST: Final = "127.0.0.1"
#: Where the client-facing stats fields come from: ``EmulatorStatistics`` attribute names.
FIELDS: Final = ("requests", "in_flight", "pages_served", "records_served", "bytes_sent")


def _statistics_app(emulator: ParenEmulator) -> web.Application:
    async def statistics(_: web.Request) -> web.Response:
        snapshot = emulator.statistics()
        body = msgspec.json.encode({name: getattr(snapshot, name) for name in FIELDS})
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/", statistics)
    return app


async def _serve(locations: int, latency_ms: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with ParenEmulator(locations=locations, latency=latency_ms / 1000, host=HOST) as emu:
        runner = web.AppRunner(_statistics_app(emu), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, HOST, 0)
            await site.start()
            port = runner.addresses[0][1]
            print(
                f"Paren emulator listening on {emu.url} (statistics: http://{HOST}:{port}/)",
                flush=True,
            )
            # Like `paren-async serve`: encode the record templates before the first walk.
            preparing = asyncio.create_task(emu.prepare())
            try:
                await stop.wait()
            finally:
                preparing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await preparing
        finally:
            await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._serve", description=__doc__)
    parser.add_argument("--locations", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0, help="milliseconds per request")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.locations, args.latency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
