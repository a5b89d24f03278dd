"""The emulator misbehaves on demand, exactly as documented, and reproducibly for a seed."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import pytest
from emulator_support import METADATA, REALTIME, api_for

from paren_async.testing import DEFAULT_FAULT_MIX, EmulatorFactory, Fault, ParenEmulator


@pytest.mark.parametrize(
    ("fault", "status", "content_type", "marker"),
    [
        pytest.param(
            Fault.SERVER_ERROR, 500, "application/json", b'"status_code":500', id="500-envelope"
        ),
        pytest.param(Fault.BAD_GATEWAY, 502, "text/html", b"502 Bad Gateway", id="502-html"),
        pytest.param(Fault.SERVICE_UNAVAILABLE, 503, None, b"", id="503-empty"),
        pytest.param(Fault.GATEWAY_TIMEOUT, 504, "text/html", b"504 Gateway", id="504-html"),
        pytest.param(
            Fault.RATE_LIMITED, 429, "application/json", b'"status_code":429', id="429-envelope"
        ),
        pytest.param(Fault.HTML_200, 200, "text/html", b"<!DOCTYPE html>", id="html-with-200"),
        pytest.param(
            Fault.ERROR_IN_200,
            200,
            "application/json",
            b'"status_code":500',
            id="error-envelope-with-200",
        ),
    ],
)
async def test_status_faults_on_the_wire(
    paren_emulator: ParenEmulator,
    fault: Fault,
    status: int,
    content_type: str | None,
    marker: bytes,
) -> None:
    """Each status fault sends its status, content type and body; the next request is normal."""
    paren_emulator.inject(fault)
    async with api_for(paren_emulator) as api:
        faulty = await api.get(METADATA)
        normal = await api.get(METADATA)
    assert faulty.status == status
    if content_type is None:
        assert faulty.body == b""
    else:
        assert faulty.headers["Content-Type"].startswith(content_type)
        assert marker in faulty.body
    assert b'"data"' not in faulty.body
    assert normal.status == 200 and len(normal.data) == 100
    assert [r.fault for r in paren_emulator.requests] == [fault, None]


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [pytest.param(1.0, "1", id="default-1s"), pytest.param(0.25, "0.25", id="fraction")],
)
async def test_rate_limit_sends_retry_after(
    paren_emulator_factory: EmulatorFactory, retry_after: float, header: str
) -> None:
    """429 carries Retry-After with the configured number of seconds."""
    emulator = await paren_emulator_factory(locations=10, retry_after=retry_after)
    emulator.inject(Fault.RATE_LIMITED)
    async with api_for(emulator) as api:
        reply = await api.get(METADATA)
    assert reply.status == 429
    assert reply.headers["Retry-After"] == header


async def test_connection_reset_sends_no_response(paren_emulator: ParenEmulator) -> None:
    """A reset closes the connection before any byte; the next request works on a new one."""
    # aiohttp >= 3.10 silently resends an idempotent request once after a reset: two resets in a
    # row are what a client's own error handling sees.
    paren_emulator.inject(Fault.CONNECTION_RESET, times=2)
    async with api_for(paren_emulator) as api:
        with pytest.raises(aiohttp.ClientConnectionError):
            await api.get(METADATA)
        after = await api.get(METADATA)
    assert after.status == 200
    assert [r.status for r in paren_emulator.requests] == [None, None, 200]
    assert paren_emulator.statistics().faults == {Fault.CONNECTION_RESET: 2}


async def test_truncated_body_is_a_payload_error(paren_emulator: ParenEmulator) -> None:
    """Headers promise the full Content-Length, half the body arrives, then the connection ends."""
    paren_emulator.inject(Fault.TRUNCATED_BODY)
    async with api_for(paren_emulator) as api:
        async with api.session.get(
            paren_emulator.url + METADATA,
            headers={"Authorization": _auth(paren_emulator)},
        ) as response:
            assert response.status == 200
            announced = int(response.headers["Content-Length"])
            received = b""
            with pytest.raises(aiohttp.ClientPayloadError):
                async for chunk in response.content.iter_any():
                    received += chunk
        after = await api.get(METADATA)
    assert 0 < len(received) < announced
    assert after.status == 200
    assert abs(len(after.body) - announced) <= 3  # the same page; only "duration" may differ


async def test_hang_delays_then_serves_the_page(paren_emulator_factory: EmulatorFactory) -> None:
    """A hang holds the response for `hang` seconds, then sends the normal page."""
    emulator = await paren_emulator_factory(locations=10, hang=0.2)
    emulator.inject(Fault.HANG)
    async with api_for(emulator) as api:
        started = time.monotonic()
        reply = await api.get(METADATA)
    assert time.monotonic() - started >= 0.2
    assert reply.status == 200 and len(reply.data) == 10


async def test_hang_outlasts_a_client_timeout(paren_emulator: ParenEmulator) -> None:
    """With the default 30 s hang, a client with a short timeout times out."""
    paren_emulator.inject(Fault.HANG)
    async with api_for(paren_emulator) as api:
        with pytest.raises(asyncio.TimeoutError):
            await api.get(METADATA, timeout=0.2)


async def test_close_is_prompt_with_hanging_requests_and_idle_connections() -> None:
    """aclose() returns within a second although requests hang and keep-alive connections idle."""
    async with ParenEmulator(locations=10, hang=60.0) as emulator, api_for(emulator) as api:
        await api.get(METADATA)  # leaves an idle keep-alive connection
        emulator.inject(Fault.HANG, times=3)
        hanging = [asyncio.ensure_future(api.get(METADATA, timeout=30)) for _ in range(3)]
        while emulator.statistics().in_flight < 3:  # noqa: ASYNC110 - polling the server's view
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await emulator.aclose()
        elapsed = time.monotonic() - started
        results = await asyncio.gather(*hanging, return_exceptions=True)
    assert elapsed < 1.0
    assert all(isinstance(r, aiohttp.ClientConnectionError) for r in results), results
    assert emulator.statistics().in_flight == 0
    assert [r.status for r in emulator.requests] == [200, None, None, None]


async def test_ignore_offset_serves_the_first_page(paren_emulator: ParenEmulator) -> None:
    """IGNORE_OFFSET answers any offset with the offset-0 page; the setting does it every time."""
    async with api_for(paren_emulator) as api:
        first = await api.get(METADATA, limit=10)
        paren_emulator.inject(Fault.IGNORE_OFFSET)
        ignored = await api.get(METADATA, limit=10, offset=300)
        honoured = await api.get(METADATA, limit=10, offset=300)
        paren_emulator.configure(ignore_offset=True)
        always = [await api.get(METADATA, limit=10, offset=n) for n in (10, 20)]
    assert ignored.ids == first.ids
    assert honoured.ids != first.ids
    assert all(reply.ids == first.ids for reply in always)


async def test_page_cap_returns_short_pages(paren_emulator: ParenEmulator) -> None:
    """PAGE_CAP halves one page; page_cap=N silently caps every page at N."""
    async with api_for(paren_emulator) as api:
        paren_emulator.inject(Fault.PAGE_CAP)
        halved = await api.get(METADATA, limit=100)
        paren_emulator.configure(page_cap=7)
        capped = await api.get(METADATA, limit=100, offset=50)
        small = await api.get(METADATA, limit=3)
        paren_emulator.configure(page_cap=None)
        full = await api.get(METADATA, limit=100)
    assert len(halved.data) == 50
    assert len(capped.data) == 7 and capped.ids == full.ids[50:57]
    assert len(small.data) == 3
    assert len(full.data) == 100


async def test_schedule_counts_times_and_matches_offset_and_path(
    paren_emulator: ParenEmulator,
) -> None:
    """inject() honours times, offset and path, and applies only to otherwise valid requests."""
    paren_emulator.inject(Fault.SERVER_ERROR, times=2, offset=300, path=REALTIME)
    async with api_for(paren_emulator) as api:
        unauthorized = await api.get(REALTIME, offset=300, auth=None)
        other_path = await api.get(METADATA, offset=300)
        other_offset = await api.get(REALTIME, offset=200)
        hits = [await api.get(REALTIME, offset=300) for _ in range(3)]
    assert unauthorized.status == 401
    assert other_path.status == 200 and other_offset.status == 200
    assert [reply.status for reply in hits] == [500, 500, 200]


async def test_unlimited_schedule_lasts_until_cleared(paren_emulator: ParenEmulator) -> None:
    """times=None keeps failing until clear_faults()."""
    paren_emulator.inject(Fault.SERVICE_UNAVAILABLE, times=None)
    async with api_for(paren_emulator) as api:
        failing = [(await api.get(METADATA)).status for _ in range(4)]
        paren_emulator.clear_faults()
        recovered = await api.get(METADATA)
    assert failing == [503] * 4
    assert recovered.status == 200


async def _statuses(emulator: ParenEmulator, offsets: list[int]) -> dict[int, int | str]:
    outcome: dict[int, int | str] = {}
    async with api_for(emulator) as api:
        for offset in offsets:
            try:
                outcome[offset] = (await api.get(METADATA, limit=10, offset=offset)).status
            except aiohttp.ClientError as exc:
                outcome[offset] = type(exc).__name__
    return outcome


async def test_fault_rate_is_deterministic_per_request_not_per_arrival(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """Same seed: the same requests fail, in any order; another seed: other requests fail."""
    offsets = list(range(0, 1_000, 10))
    forward = await _statuses(await paren_emulator_factory(seed=7, fault_rate=0.3), offsets)
    backward = await _statuses(await paren_emulator_factory(seed=7, fault_rate=0.3), offsets[::-1])
    reseeded = await _statuses(await paren_emulator_factory(seed=8, fault_rate=0.3), offsets)
    assert forward == backward
    assert forward != reseeded
    failed = [offset for offset, status in forward.items() if status != 200]
    assert 15 <= len(failed) <= 45


async def test_default_mix_holds_only_retryable_faults(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """fault_rate alone draws from the default mix; a repeated request gets a fresh draw."""
    emulator = await paren_emulator_factory(locations=10, fault_rate=0.5, seed=3)
    async with api_for(emulator) as api:
        for _ in range(60):
            with contextlib.suppress(aiohttp.ClientError):
                await api.get(METADATA)
    served = emulator.statistics().faults
    assert set(served) <= set(DEFAULT_FAULT_MIX)
    assert len(served) >= 4
    assert 0 < sum(served.values()) < 60


async def test_custom_mix_and_runtime_configure(paren_emulator: ParenEmulator) -> None:
    """configure() switches fault rate and mix from the next request on."""
    async with api_for(paren_emulator) as api:
        before = await api.get(METADATA)
        paren_emulator.configure(fault_rate=1.0, faults={Fault.BAD_GATEWAY: 1})
        during = [(await api.get(METADATA)).status for _ in range(3)]
        paren_emulator.configure(fault_rate=0.0)
        after = await api.get(METADATA)
    assert (before.status, during, after.status) == (200, [502] * 3, 200)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"fault_rate": 1.5}, id="rate-above-1"),
        pytest.param({"latency": -1}, id="negative-latency"),
        pytest.param({"faults": {Fault.HANG: 0}}, id="no-positive-weight"),
        pytest.param({"page_cap": 0}, id="page-cap-zero"),
    ],
)
def test_invalid_options_are_rejected(options: dict[str, object]) -> None:
    """Out-of-range options raise ValueError, in the constructor and in configure()."""
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked by eye, the type here
        ParenEmulator(**options)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # noqa: PT011
        ParenEmulator().configure(**options)  # type: ignore[arg-type]


async def test_latency_and_jitter_delay_each_request(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """Each API request takes latency +- jitter; the healthcheck is never delayed."""
    emulator = await paren_emulator_factory(locations=10, latency=0.08, jitter=0.02)
    async with api_for(emulator) as api:
        await api.get("/healthcheck", auth=None)
        for _ in range(5):
            await api.get(METADATA)
    health, *pages = emulator.requests
    assert health.finished - health.started < 0.05
    assert all(0.06 - 0.005 <= r.finished - r.started <= 0.1 + 0.05 for r in pages)


async def test_concurrent_requests_are_served_concurrently(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """Latency overlaps: eight requests in flight take about one latency, and are all counted."""
    emulator = await paren_emulator_factory(locations=1_000, latency=0.2)
    async with api_for(emulator) as api:
        started = time.monotonic()
        replies = await asyncio.gather(*(api.get(METADATA, offset=100 * n) for n in range(8)))
        elapsed = time.monotonic() - started
    assert all(reply.status == 200 for reply in replies)
    assert elapsed < 0.2 * 3
    assert emulator.statistics().max_in_flight == 8


def _auth(emulator: ParenEmulator) -> str:
    from emulator_support import basic

    return basic(emulator.api_key, emulator.api_secret)
