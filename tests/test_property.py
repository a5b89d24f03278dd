"""Property: whatever the total, page size, concurrency and transient faults, a walk yields
exactly the server's records, in order."""

from __future__ import annotations

import asyncio

from conftest import FAST_RETRY, client_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scripted_server import Reply, ScriptedServer, serve

FAULTS = [
    Reply(status=500),
    Reply(status=502, body=b"<html>bad gateway</html>"),
    Reply(status=503),
    Reply(status=429, headers={"Retry-After": "0"}),
    Reply(reset=True),
    Reply(body=b'{"errors": ["flaky"], "status_code": 503}'),
]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, int, int, dict[int, list[int]], list[float]]:
    total = draw(st.integers(0, 700))
    page_size = draw(st.integers(1, 100))
    concurrency = draw(st.integers(1, 16))
    pages = total // page_size + 1
    # Up to FAST_RETRY.max_attempts - 1 faults per page, so every page succeeds in the end.
    faults = draw(
        st.dictionaries(
            st.integers(0, pages - 1).map(lambda p: p * page_size),
            st.lists(st.integers(0, len(FAULTS) - 1), max_size=FAST_RETRY.max_attempts - 1),
            max_size=5,
        )
    )
    latencies = draw(st.lists(st.sampled_from([0.0, 0.0, 0.001, 0.003]), min_size=1, max_size=8))
    return total, page_size, concurrency, faults, latencies


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_walk_yields_exactly_the_servers_records_in_order(
    scenario: tuple[int, int, int, dict[int, list[int]], list[float]],
) -> None:
    """Random totals, page sizes, concurrency 1..16 and transient faults never change what is yielded."""
    total, page_size, concurrency, faults, latencies = scenario

    async def run() -> list[str]:
        server = ScriptedServer(
            total, latency=lambda offset: latencies[(offset // page_size) % len(latencies)]
        )
        for offset, kinds in faults.items():
            server.at(offset, *(FAULTS[k] for k in kinds))
        async with serve(server), client_for(server, concurrency=concurrency) as client:
            return [loc.id async for loc in client.locations(page_size=page_size)]

    assert asyncio.run(run()) == [f"LOC-{i:07d}" for i in range(total)]
