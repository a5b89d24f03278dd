"""A plain asyncio service (no web framework) sharing one ParenClient: JSON lines over TCP.

Run:  PAREN_API_KEY=... PAREN_API_SECRET=... python examples/asyncio_service.py --port 8090
Try:  echo '{"max_items": 3, "state": "NY"}' | nc 127.0.0.1 8090

Each connection sends one JSON request line (``offset``, ``max_items``, ``deadline``, ``state``,
``realtime``) and receives one JSON line: ``{"items": [...]}`` or ``{"error": ..., "resume_offset":
...}``. The protocol is a stand-in for whatever feeds your service (a queue, a socket, a
scheduler); what to copy is the lifecycle:

- ``asyncio.run(serve(...))`` creates the one client inside the running loop; ``async with``
  closes it on the way out, whatever happens.
- SIGTERM and SIGINT stop accepting work, let requests in flight finish (each walk bounded by
  its ``deadline=``), cancel what is still running after ``grace`` seconds, then close the
  client: nothing is left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal

import msgspec

from paren_async import ParenClient, ParenError
from paren_async import TimeoutError as ParenTimeout

MAX_ITEMS = 1_000
MAX_DEADLINE = 30.0
#: Longest request line accepted, bytes.
MAX_LINE = 4_096


class Query(msgspec.Struct, forbid_unknown_fields=True):
    """One request line; msgspec validates types on decode."""

    offset: int = 0
    max_items: int = 100
    deadline: float = 5.0
    state: str | None = None
    realtime: bool = False


_decode_query = msgspec.json.Decoder(Query).decode


def per_worker_rate_limit() -> float | None:
    """Requests/s for this process: ``PAREN_RATE_LIMIT`` (the deployment's total) / processes."""
    total = os.environ.get("PAREN_RATE_LIMIT")
    if not total:
        return None
    return float(total) / int(os.environ.get("WEB_CONCURRENCY", "1"))


async def answer(client: ParenClient, line: bytes) -> bytes:
    """The response line for one request line."""
    try:
        query = _decode_query(line)
    except msgspec.DecodeError as error:  # not JSON, or not a valid request
        return msgspec.json.encode({"error": f"bad request: {error}"})
    if not (1 <= query.max_items <= MAX_ITEMS and 0 < query.deadline <= MAX_DEADLINE):
        return msgspec.json.encode({"error": "bad request: max_items or deadline out of range"})
    endpoint = client.realtime_locations if query.realtime else client.locations
    walk = endpoint(
        offset=query.offset,
        max_items=query.max_items,
        page_size=min(query.max_items, 100),
        deadline=query.deadline,
        state=query.state,  # None sends no filter
    )
    try:
        # Structs encode as they are: no copy through dicts.
        return msgspec.json.encode({"items": await walk.collect()})
    except ParenError as error:
        kind = "timeout" if isinstance(error, ParenTimeout) else type(error).__name__
        return msgspec.json.encode({"error": kind, "resume_offset": error.resume_offset})


async def serve(host: str, port: int, *, grace: float = 10.0) -> None:
    """Serve until SIGTERM or SIGINT, then shut down within ``grace`` seconds."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    handlers: set[asyncio.Task[None]] = set()

    async with ParenClient(rate_limit=per_worker_rate_limit()) as client:

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                line = await reader.readline()
                writer.write(await answer(client, line) + b"\n")
                await writer.drain()
            except (ConnectionError, ValueError):
                pass  # the peer left, or sent a line over MAX_LINE: nothing to answer
            except asyncio.CancelledError:
                # Shutdown outlived its grace period and cancelled the walk. asyncio owns this
                # task and awaits nothing from it, so it ends here: Python < 3.12 would log a
                # cancelled connection task as an error.
                writer.write(msgspec.json.encode({"error": "shutting down"}) + b"\n")
            finally:
                handlers.discard(task)
                writer.close()

        server = await asyncio.start_server(handle, host, port, limit=MAX_LINE)
        print(f"listening on {host}:{server.sockets[0].getsockname()[1]}", flush=True)
        await stop.wait()
        server.close()  # no new connections
        if handlers:
            _, late = await asyncio.wait(set(handlers), timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=1.0)
    # The client is closed here: its session, connections and any walk still referenced.


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="plain asyncio service for the Paren API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--grace", type=float, default=10.0, help="shutdown grace, seconds")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, grace=args.grace))


if __name__ == "__main__":
    main()
