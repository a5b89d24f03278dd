"""FastAPI (or Starlette) backend sharing one ParenClient per worker process.

Run:  PAREN_API_KEY=... PAREN_API_SECRET=... uvicorn fastapi_app:app --app-dir examples
Try:  curl 'http://127.0.0.1:8000/locations?state=NY&max_items=20&deadline=2'

- One client per process, created in ``lifespan`` (inside the server's event loop) and closed when
  the server shuts down. A client created at import time would belong to no loop, or the wrong
  one; every uvicorn/gunicorn worker process runs its own ``lifespan``, so each has its own client.
- Every request bounds its walk: ``max_items=`` records and ``deadline=`` seconds. The deadline
  also bounds shutdown: the server waits for requests in flight, so keep the deadline below the
  server's grace period (``uvicorn --timeout-graceful-shutdown``).
- Records go out as JSON straight from the msgspec Structs (``MsgspecResponse``), with no copy
  through dicts; FastAPI's default JSON response cannot serialise them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import msgspec
from fastapi import Depends, FastAPI, Query, Request
from starlette.responses import Response

from paren_async import Pager, ParenClient, ParenError, UsageError
from paren_async import TimeoutError as ParenTimeout

#: Upper bounds for one request: a web request never walks a whole collection.
MAX_ITEMS = 1_000
MAX_DEADLINE = 30.0


class MsgspecResponse(Response):
    """JSON encoded by msgspec: Structs, lists of Structs, dicts and plain values alike."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)


def per_worker_rate_limit() -> float | None:
    """Requests/s for this process: the account's quota shared by the worker processes.

    ``PAREN_RATE_LIMIT`` is the total for the deployment, ``WEB_CONCURRENCY`` the number of
    worker processes (the variable uvicorn and gunicorn read); unset means no limit.
    """
    total = os.environ.get("PAREN_RATE_LIMIT")
    if not total:
        return None
    return float(total) / int(os.environ.get("WEB_CONCURRENCY", "1"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Credentials and base URL from PAREN_API_KEY, PAREN_API_SECRET, PAREN_BASE_URL.
    async with ParenClient(rate_limit=per_worker_rate_limit()) as client:
        app.state.paren = client
        yield
    # Leaving ``async with`` closed the client and its connections; requests still running by
    # now were cancelled by the server, which cancels their walks too.


app = FastAPI(title="Paren locations", lifespan=lifespan)


def _client(request: Request) -> ParenClient:
    client: ParenClient = request.app.state.paren
    return client


def _failure(error: ParenError) -> MsgspecResponse:
    # The upstream URL and message stay in the server's logs; the caller learns what to retry.
    status = (
        504 if isinstance(error, ParenTimeout) else 400 if isinstance(error, UsageError) else 502
    )
    body = {"error": type(error).__name__, "resume_offset": error.resume_offset}
    return MsgspecResponse(body, status_code=status)


async def _respond(walk: Pager[Any]) -> MsgspecResponse:
    try:
        records = await walk.collect()
    except ParenError as error:
        return _failure(error)
    return MsgspecResponse(records)  # a list of Structs, encoded as is


@app.get("/healthz", response_class=MsgspecResponse)
async def healthz(request: Request) -> MsgspecResponse:
    healthy = await _client(request).healthcheck()
    return MsgspecResponse({"paren": healthy}, status_code=200 if healthy else 503)


def walk_options(
    max_items: Annotated[int, Query(ge=1, le=MAX_ITEMS)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    deadline: Annotated[float, Query(gt=0, le=MAX_DEADLINE)] = 5.0,
    state: str | None = None,
) -> dict[str, Any]:
    """The walk options both routes take from the query string."""
    return {
        "offset": offset,
        "max_items": max_items,
        "page_size": min(max_items, 100),
        "deadline": deadline,
        "state": state,  # None sends no filter
    }


WalkOptions = Annotated[dict[str, Any], Depends(walk_options)]


@app.get("/locations", response_class=MsgspecResponse)
async def locations(request: Request, options: WalkOptions) -> MsgspecResponse:
    """Metadata locations from ``offset``, at most ``max_items``, within ``deadline`` seconds."""
    return await _respond(_client(request).locations(**options))


@app.get("/realtime", response_class=MsgspecResponse)
async def realtime(request: Request, options: WalkOptions) -> MsgspecResponse:
    """Realtime locations (status and pricing); the options are those of ``/locations``."""
    return await _respond(_client(request).realtime_locations(**options))
