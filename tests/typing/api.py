"""Type-checked, never run: the public API as users write it must satisfy mypy --strict."""

from __future__ import annotations

import aiohttp
from typing_extensions import assert_type

from paren_async import (
    ClientStatistics,
    Location,
    Page,
    ParenClient,
    ParenError,
    RealtimeLocation,
    RetryPolicy,
    Timeout,
)


async def walk(session: aiohttp.ClientSession) -> None:
    async with ParenClient(
        "key",
        "secret",
        base_url="http://127.0.0.1:8080",
        concurrency=16,
        timeout=Timeout(attempt=30, connect=5, read=10),
        retry=RetryPolicy(max_attempts=6),
        session=session,
    ) as client:
        assert_type(await client.healthcheck(), bool)
        async for loc in client.locations(state="NY"):
            assert_type(loc, Location)
            assert_type(loc.address.city, str | None)
            for evse in loc.charging_pool.evses:
                assert_type(evse.status, str | None)
        first = await client.realtime_locations(page_size=50)
        assert_type(first, Page[RealtimeLocation])
        pricing = first.items[0].charging_pool.current_pricing
        if pricing is not None and pricing.non_member is not None:
            for element in pricing.non_member.elements:
                for component in element.pricing_components:
                    assert_type(component.price, float | None)
        async for page in client.locations().pages():
            assert_type(page.offset, int)
            assert_type(page.items, tuple[Location, ...])
        assert_type(await client.locations(max_items=10).collect(), list[Location])
        async for raw in client.locations().raw():
            assert_type(raw, bytes)
        try:
            await client.locations().collect()
        except ParenError as error:
            assert_type(error.resume_offset, int | None)
        assert_type(client.statistics(), ClientStatistics)


async def timeout_forms() -> None:
    ParenClient(timeout=10)
    ParenClient(timeout=None, retry=None)
