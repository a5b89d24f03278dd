"""aiohttp.web backend sharing one ParenClient per process through ``cleanup_ctx``.

Run:  PAREN_API_KEY=... PAREN_API_SECRET=... python examples/aiohttp_app.py --port 8080
Try:  curl 'http://127.0.0.1:8080/locations?state=NY&max_items=20&deadline=2'

- One client per process, created by ``paren_client`` in ``app.cleanup_ctx``: its first half runs
  at start-up inside the server's event loop, its second half at shutdown after the requests in
  flight are done, and closes the client.
- Every request bounds its walk: ``max_items=`` records and ``deadline=`` seconds. The deadline
  also bounds shutdown: the server waits for requests in flight (``shutdown_timeout``, 60 s by
  default), so keep the deadline below it.
- Records go out as JSON encoded by msgspec straight from the Structs, with no copy through dicts.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from typing import Any, Final

import msgspec
from aiohttp import web

from paren_async import Pager, ParenClient, ParenError, UsageError
from paren_async import TimeoutError as ParenTimeout

PAREN: Final = web.AppKey("paren", ParenClient)
#: Upper bounds for one request: a web request never walks a whole collection.
MAX_ITEMS = 1_000
MAX_DEADLINE = 30.0


def json_response(content: Any, *, status: int = 200) -> web.Response:
    """JSON encoded by msgspec: Structs, lists of Structs, dicts and plain values alike."""
    return web.Response(
        body=msgspec.json.encode(content), status=status, content_type="application/json"
    )


def per_worker_rate_limit() -> float | None:
    """Requests/s for this process: the account's quota shared by the worker processes.

    ``PAREN_RATE_LIMIT`` is the total for the deployment, ``WEB_CONCURRENCY`` the number of
    processes running this app; unset means no limit.
    """
    total = os.environ.get("PAREN_RATE_LIMIT")
    if not total:
        return None
    return float(total) / int(os.environ.get("WEB_CONCURRENCY", "1"))


async def paren_client(app: web.Application) -> AsyncIterator[None]:
    # Credentials and base URL from PAREN_API_KEY, PAREN_API_SECRET, PAREN_BASE_URL.
    async with ParenClient(rate_limit=per_worker_rate_limit()) as client:
        app[PAREN] = client
        yield


def _number(request: web.Request, name: str, default: float, low: float, high: float) -> float:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also false for nan
        raise web.HTTPBadRequest(text=f"{name} must be a number in [{low:g}, {high:g}]")
    return value


def _walk_options(request: web.Request) -> dict[str, Any]:
    max_items = int(_number(request, "max_items", 100, 1, MAX_ITEMS))
    return {
        "offset": int(_number(request, "offset", 0, 0, 1e12)),
        "max_items": max_items,
        "page_size": min(max_items, 100),
        "deadline": _number(request, "deadline", 5.0, 0.001, MAX_DEADLINE),
        "state": request.query.get("state"),  # None sends no filter
    }


async def _respond(walk: Pager[Any]) -> web.Response:
    try:
        records = await walk.collect()
    except ParenError as error:
        # The upstream URL and message stay in the server's logs; the caller learns what to retry.
        status = (
            504
            if isinstance(error, ParenTimeout)
            else 400
            if isinstance(error, UsageError)
            else 502
        )
        body = {
            "error": type(error).__name__,
            "resume_offset": error.resume_offset,
        }
        return json_response(body, status=status)
    return json_response(records)  # a list of Structs, encoded as is


async def healthz(request: web.Request) -> web.Response:
    healthy = await request.app[PAREN].healthcheck()
    return json_response({"paren": healthy}, status=200 if healthy else 503)


async def locations(request: web.Request) -> web.Response:
    """Metadata locations from ``offset``, at most ``max_items``, within ``deadline`` seconds."""
    return await _respond(request.app[PAREN].locations(**_walk_options(request)))


async def realtime(request: web.Request) -> web.Response:
    """Realtime locations (status and pricing); the options are those of ``/locations``."""
    return await _respond(request.app[PAREN].realtime_locations(**_walk_options(request)))


def create_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(paren_client)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/locations", locations)
    app.router.add_get("/realtime", realtime)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="aiohttp.web backend for the Paren API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--shutdown-timeout", type=float, default=10.0, help="grace, seconds")
    args = parser.parse_args(argv)
    # run_app handles SIGINT and SIGTERM: stop accepting, wait for requests in flight up to the
    # grace period (cancelling the rest), then run the cleanup contexts.
    web.run_app(
        create_app(), host=args.host, port=args.port, shutdown_timeout=args.shutdown_timeout
    )


if __name__ == "__main__":
    main()
