"""Type-checked, never run: the public API as users write it must satisfy mypy --strict."""

from __future__ import annotations

import ssl

import aiohttp
from typing_extensions import assert_type

from paren_async import (
    ClientStatistics,
    EventHooks,
    Location,
    Page,
    PageEvent,
    Pager,
    ParenClient,
    ParenError,
    RealtimeLocation,
    RedirectError,
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


def on_page(event: PageEvent) -> None:
    assert_type(event.records, int)


async def production(context: ssl.SSLContext) -> None:
    hooks = EventHooks(on_page=on_page, on_retry=lambda e: assert_type(e.delay, float))
    async with ParenClient(
        rate_limit=20.0,
        hooks=hooks,
        ssl_context=context,
        max_response_size=16 * 1024 * 1024,
        trace_configs=[aiohttp.TraceConfig()],
    ) as client:
        pager = client.realtime_locations(drift_check=False, deadline=60.0, state="NY")
        assert_type(pager, Pager[RealtimeLocation])
        async with pager.pages() as pages:
            async for page in pages:
                assert_type(page, Page[RealtimeLocation])
        stats = client.statistics()
        assert_type(stats.window, int)
        assert_type(stats.duplicates_dropped, int)
    try:
        await client.healthcheck()
    except RedirectError as error:
        assert_type(error.location, str | None)
