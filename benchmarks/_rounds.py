"""Round trips a walk needs at a fixed latency, against a loop told the page count.

At 20 or 100 ms a walk's time is its round trips, not its CPU. The count-aware loop needs
``ceil(pages / concurrency)``; paren-async, which does not know the count, also pays its slow start,
the drift overlap (pages of 99 new records) and one request after the last page to confirm the end
(a short page is only a hint: ``shared/paren-api.md``). Their quotient bounds what the latency
targets can measure. Counted by running the real client on ``MockTransport`` with a fixed delay
and no network: a request's round trip is one more than the latest whose response it followed.
"""

from __future__ import annotations

import asyncio
import functools
import math
import urllib.parse
from typing import Final

from paren_async import MockTransport, ParenClient, Request, Response

#: Any delay will do (rounds are counted, not timed); long enough for a tick's sends to batch up.
_DELAY: Final = 0.005
_HEADERS: Final = {"Content-Type": "application/json"}


def count_aware(records: int, concurrency: int, page_size: int = 100) -> int:
    return math.ceil(math.ceil(records / page_size) / concurrency)


@functools.cache
def paren_async(records: int, concurrency: int, page_size: int = 100) -> int:
    """Round trips of one walk of ``records`` at ``concurrency`` (cached: deterministic)."""
    return asyncio.run(_walk(records, concurrency, page_size))


async def _walk(records: int, concurrency: int, page_size: int) -> int:
    answered = 0  # the latest round trip whose response has come back

    async def handler(request: Request) -> Response:
        nonlocal answered
        round_trip = answered + 1
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query))
        offset, limit = int(query["offset"]), int(query["limit"])
        ids = range(offset, min(records, offset + limit))
        body = b'{"data":[' + b",".join(b'{"id":"%d"}' % i for i in ids) + b'],"status_code":200}'
        await asyncio.sleep(_DELAY)
        answered = max(answered, round_trip)
        return Response(200, _HEADERS, body)

    transport = MockTransport(handler)
    async with ParenClient(
        "key", "secret", base_url="http://127.0.0.1:1", transport=transport, concurrency=concurrency
    ) as client:
        async for _ in client.locations(page_size=page_size).raw_pages():
            pass
    return answered
