"""The walk: an endpoint's raw records into NDJSON chunks, untouched, for DuckDB to read.

Records are never decoded here; the only per-page Python work is joining the page's records
with newlines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from paren_async import ParenClient, ParenError, WalkStatistics

from ._chunks import Chunks

__all__ = ["Walk", "walk_complete", "walk_into"]


@dataclass(frozen=True, slots=True)
class Walk:
    """How a walk went: records written, and whether it saw the whole collection."""

    records: int
    pages: int
    elapsed: float
    complete: bool
    unrecovered_drift: int
    requests: int
    retries: int
    error: ParenError | None


def walk_complete(error: BaseException | None, statistics: WalkStatistics) -> bool:
    """Whether a walk saw every record, so that a record it did not see has been removed.

    The walk must have ended without an error, and by its own account (``complete``) reached the
    end with no drift it could not repair.
    """
    return error is None and statistics.complete


async def walk_into(
    client: ParenClient,
    chunks: Chunks,
    *,
    realtime: bool,
    filters: dict[str, str],
    page_size: int = 100,
    concurrency: int | None = None,
) -> Walk:
    """Write every record of the endpoint to ``chunks``; API errors end the walk.

    An API or network error (``ParenError``) is returned in ``Walk.error``: what was walked
    before it is still worth applying. Other errors (``OSError`` writing a chunk, errors from the
    chunks' receiver) propagate. ``chunks`` is left open: the caller closes or discards it.
    """
    endpoint = client.realtime_locations if realtime else client.locations
    extra: dict[str, Any] = dict(filters)
    pager = endpoint(page_size=page_size, concurrency=concurrency, **extra)
    before = client.statistics()
    started = time.monotonic()
    records = pages = 0
    error: ParenError | None = None
    stream = pager.raw_pages()
    try:
        async with stream:
            async for page in stream:
                chunks.write(page.items)
                records += len(page.items)
                pages += 1
    except ParenError as exc:
        error = exc
    after = client.statistics()
    return Walk(
        records=records,
        pages=pages,
        elapsed=time.monotonic() - started,
        complete=walk_complete(error, stream.statistics()),
        unrecovered_drift=stream.statistics().unrecovered_drift,
        requests=after.requests - before.requests,
        retries=after.retries - before.retries,
        error=error,
    )
