"""The walk: an endpoint's raw records into a scratch NDJSON file, untouched, for DuckDB to read.

Records are never decoded here; the only per-page Python work is joining the page's records
with newlines. The file is scratch space: it is rewritten by every run and deleted after it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paren_async import ClientStatistics, ParenClient, ParenError

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


def walk_complete(
    error: BaseException | None, before: ClientStatistics, after: ClientStatistics
) -> bool:
    """Whether a walk saw every record, so that a record it did not see has been removed.

    The walk must have ended without an error, and the client must not have met a drift it
    could not repair (records inserted or removed mid-walk by more than the overlap covers) while
    it ran. The client is owned by the sync, so its statistics describe this walk alone.
    """
    return error is None and after.unrecovered_drift == before.unrecovered_drift


def as_lines(records: tuple[bytes, ...] | list[bytes]) -> bytes:
    """NDJSON for ``records``: each as is, newline-terminated.

    JSON strings cannot hold a raw line break, so a record holding one was pretty-printed and its
    line breaks are whitespace: they become spaces, keeping one record per line. The server's
    encoder settings are the same for every record, so the first and last stand for the page.
    """
    if records and any(b"\n" in r or b"\r" in r for r in (records[0], records[-1])):
        records = [r.replace(b"\r\n", b" ").replace(b"\n", b" ").replace(b"\r", b" ") for r in records]
    return b"\n".join([*records, b""])


async def walk_into(
    client: ParenClient,
    path: Path,
    *,
    realtime: bool,
    filters: dict[str, str],
    page_size: int = 100,
    concurrency: int | None = None,
) -> Walk:
    """Write every record of the endpoint to ``path``, one per line; API errors end the walk.

    An API or network error (``ParenError``) is returned in ``Walk.error``: what was walked
    before it is still worth applying. Other errors (``OSError`` writing ``path``) propagate.
    """
    endpoint = client.realtime_locations if realtime else client.locations
    extra: dict[str, Any] = dict(filters)
    pager = endpoint(page_size=page_size, concurrency=concurrency, **extra)
    before = client.statistics()
    started = time.monotonic()
    records = pages = 0
    error: ParenError | None = None
    with path.open("wb") as out:
        try:
            async with pager.raw_pages() as stream:
                async for page in stream:
                    out.write(as_lines(page.items))
                    records += len(page.items)
                    pages += 1
        except ParenError as exc:
            error = exc
    after = client.statistics()
    return Walk(
        records=records,
        pages=pages,
        elapsed=time.monotonic() - started,
        complete=walk_complete(error, before, after),
        unrecovered_drift=after.unrecovered_drift - before.unrecovered_drift,
        requests=after.requests - before.requests,
        retries=after.retries - before.retries,
        error=error,
    )
