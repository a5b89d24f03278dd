"""``ParenEmulator``: the local Paren API's public face: lifecycle, controls, introspection."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import msgspec
from aiohttp import web

from ._clock import StatusChange
from ._faults import Fault, normalize_mix
from ._records import CACHE_SIZE, STATUS_PERIOD, RecordFactory
from ._server import ServerState
from ._settings import UNCHANGED, Settings, Unchanged
from ._stats import EmulatorStatistics, RequestRecord
from ._store import LocationStore

__all__ = ["EmulatorFactory", "ParenEmulator"]

# Long enough for a normal request to finish, short enough that closing is never slow: hangs and
# latency are ended explicitly before this applies.
_SHUTDOWN_TIMEOUT = 0.25


def _count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


class ParenEmulator:
    """A local Paren API server on 127.0.0.1, serving real NY station data, misbehaving on demand.

    Endpoints: ``GET /metadata/v1/locations`` and ``GET /realtime/v1/locations`` (HTTP Basic
    auth, ``limit`` 1..100, ``offset``, filters ``state``, ``city``, ``postal_code``; other
    parameters are ignored) and ``GET /healthcheck`` (no auth, never delayed or faulted:
    ``{"status": "ok", "timestamp": ...}``). Every error is Paren's error envelope.

    ``locations`` records: the 4,736 real AFDC stations, then deterministic synthetic siblings,
    byte-identical for a given ``seed``. Use as ``async with ParenEmulator() as emu:`` and point
    a client at ``emu.url`` with ``emu.api_key``/``emu.api_secret``. Behaviour options can be
    changed while it runs with ``configure()``; faults can also be scheduled with ``inject()``
    and the data changed with ``insert()``/``remove()``. ``clock`` (epoch seconds) drives
    realtime statuses and timestamps: pass a fake one to move time in tests. ``record_cache``
    bounds how many encoded records are kept per API (~2 KB each).
    """

    #: Seconds of ``clock`` during which a realtime EVSE status stays the same.
    STATUS_PERIOD = STATUS_PERIOD

    def __init__(
        self,
        *,
        locations: int = 12_000,
        seed: int = 0,
        api_key: str = "demo",
        api_secret: str = "demo",
        latency: float = 0.0,
        jitter: float = 0.0,
        fault_rate: float = 0.0,
        faults: Mapping[Fault, float] | None = None,
        retry_after: float = 1.0,
        hang: float = 30.0,
        drift_rate: float = 0.0,
        gzip: bool = False,
        page_cap: int | None = None,
        ignore_offset: bool = False,
        etag: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        record_cache: int = CACHE_SIZE,
    ) -> None:
        _count("locations", locations)
        _count("port", port)
        _count("record_cache", record_cache)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        for name, value in (("api_key", api_key), ("api_secret", api_secret)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string")
        settings = Settings(
            latency=latency,
            jitter=jitter,
            fault_rate=fault_rate,
            faults=normalize_mix(faults),
            retry_after=retry_after,
            hang=hang,
            drift_rate=drift_rate,
            gzip=gzip,
            page_cap=page_cap,
            ignore_offset=ignore_offset,
            etag=etag,
        )
        factory = RecordFactory(seed=seed, clock=clock, cache_size=record_cache)
        self._store = LocationStore(factory, locations)
        self._state = ServerState(
            factory=factory,
            store=self._store,
            seed=seed,
            api_key=api_key,
            api_secret=api_secret,
            settings=settings,
            clock=clock,
        )
        self.api_key = api_key
        self.api_secret = api_secret
        self.seed = seed
        self._host = host
        self._port = port
        self._runner: web.ServerRunner | None = None
        self._closed = False

    def __repr__(self) -> str:
        where = self.url if self._runner else "not running"
        return f"<ParenEmulator {where} locations={len(self._store)} seed={self.seed}>"

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash (available once started)."""
        if self._runner is None:
            raise RuntimeError("the emulator is not running: use `async with` or start()")
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        """The port listened on (the ephemeral one chosen for ``port=0`` once started)."""
        return self._port

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``host:port``; returns once connections are accepted."""
        if self._closed:
            raise RuntimeError("the emulator was closed; create a new one")
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        server = web.Server(self._state.handle, access_log=None)
        runner = web.ServerRunner(server, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner

    async def aclose(self) -> None:
        """Stop promptly: hanging requests are dropped, keep-alive connections closed."""
        self._closed = True
        runner, self._runner = self._runner, None
        if runner is not None:
            self._state.close()
            await runner.cleanup()

    async def __aenter__(self) -> ParenEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def prepare(self) -> None:
        """Encode every station's record templates now instead of during the first walk.

        A first walk otherwise pays ~0.3 ms per station met (4,736 of them). This takes about a
        second of CPU and yields to the event loop as it goes, so requests are served meanwhile.
        """
        stations = len(self._state.factory.stations)
        for index in range(stations):
            self._state.factory.prepare(index)
            if index % 32 == 31:
                await asyncio.sleep(0)

    # -- behaviour ---------------------------------------------------------------------------

    def configure(
        self,
        *,
        latency: float | Unchanged = UNCHANGED,
        jitter: float | Unchanged = UNCHANGED,
        fault_rate: float | Unchanged = UNCHANGED,
        faults: Mapping[Fault, float] | Unchanged | None = UNCHANGED,
        retry_after: float | Unchanged = UNCHANGED,
        hang: float | Unchanged = UNCHANGED,
        drift_rate: float | Unchanged = UNCHANGED,
        gzip: bool | Unchanged = UNCHANGED,
        page_cap: int | Unchanged | None = UNCHANGED,
        ignore_offset: bool | Unchanged = UNCHANGED,
        etag: bool | Unchanged = UNCHANGED,
    ) -> None:
        """Change behaviour options (same meaning as in the constructor) from the next request.

        Options left out keep their value; ``faults=None`` restores the default mix and
        ``page_cap=None`` removes the cap.
        """
        given: dict[str, Any] = {
            name: value
            for name, value in (
                ("latency", latency),
                ("jitter", jitter),
                ("fault_rate", fault_rate),
                ("retry_after", retry_after),
                ("hang", hang),
                ("drift_rate", drift_rate),
                ("gzip", gzip),
                ("page_cap", page_cap),
                ("ignore_offset", ignore_offset),
                ("etag", etag),
            )
            if value is not UNCHANGED
        }
        if not isinstance(faults, Unchanged):
            given["faults"] = normalize_mix(faults)
        self._state.settings = dataclasses.replace(self._state.settings, **given)

    def inject(
        self,
        fault: Fault,
        *,
        times: int | None = 1,
        offset: int | None = None,
        path: str | None = None,
    ) -> None:
        """Serve ``fault`` to the next ``times`` valid API requests (``None``: until cleared).

        ``offset`` and ``path`` (e.g. ``"/realtime/v1/locations"``) restrict which requests
        match. Schedules apply in the order injected and before any random ``fault_rate`` draw.
        """
        self._state.plan.inject(fault, times=times, offset=offset, path=path)

    def clear_faults(self) -> None:
        """Drop every scheduled fault (``fault_rate`` is unchanged)."""
        self._state.plan.clear()

    # -- data --------------------------------------------------------------------------------

    def ids(self) -> list[str]:
        """The ids of all current locations, in the order offsets count them."""
        return self._store.ids()

    @property
    def location_count(self) -> int:
        return len(self._store)

    def insert(self, count: int = 1, *, at: int = 0) -> list[str]:
        """Insert ``count`` new locations (fresh ids) before offset ``at``; returns their ids.

        Every later record moves ``count`` offsets up, as in a live database.
        """
        keys = self._store.insert(_count("count", count), _count("at", at))
        self._state.recorder.inserted += len(keys)
        return [self._state.factory.location_id(key) for key in keys]

    def remove(self, count: int = 1, *, at: int = 0) -> list[str]:
        """Remove up to ``count`` locations from offset ``at`` on; returns their ids."""
        keys = self._store.remove(_count("count", count), _count("at", at))
        self._state.recorder.removed += len(keys)
        return [self._state.factory.location_id(key) for key in keys]

    def set_price(self, location_id: str, energy: float | None, *, currency: str = "USD") -> None:
        """Serve a new ``current_pricing`` for a current location of the Realtime API.

        ``energy``: the non-member price per kWh (one ``ENERGY`` component); ``None`` serves
        ``"current_pricing": null``. ``KeyError`` for an id that is not a current location.
        """
        key = self._store.key_of(location_id)
        pricing: object = None
        if energy is not None:
            component = {"type": "ENERGY", "price": energy, "step_size": 1}
            element = {"pricing_components": [component], "restrictions": {}}
            pricing = {"non-member": {"currency": currency, "elements": [element]}}
        self._state.factory.set_pricing(key, msgspec.json.encode(pricing))

    def realtime_statuses(self, t: float) -> dict[str, tuple[tuple[str, str], ...]]:
        """Every current location's ``(EVSE id, status)`` pairs as served at clock value ``t``."""
        factory = self._state.factory
        bucket = int(t // STATUS_PERIOD)
        return {
            factory.location_id(key): tuple(factory.evse_statuses(key, bucket))
            for key in self._store.keys({})
        }

    def realtime_changes(self, t0: float, t1: float) -> frozenset[StatusChange]:
        """Every EVSE whose realtime status differs between clock values ``t0`` and ``t1``.

        The ground truth for change detection, for the locations present now (see ``ids()``).
        Statuses change only when ``clock // STATUS_PERIOD`` does.
        """
        if int(t0 // STATUS_PERIOD) == int(t1 // STATUS_PERIOD):
            return frozenset()
        before, after = self.realtime_statuses(t0), self.realtime_statuses(t1)
        return frozenset(
            StatusChange(location_id, evse_id, was, now)
            for location_id, evses in before.items()
            for (evse_id, was), (_, now) in zip(evses, after[location_id], strict=True)
            if was != now
        )

    # -- introspection -----------------------------------------------------------------------

    @property
    def requests(self) -> tuple[RequestRecord, ...]:
        """The most recent requests (up to 100,000), oldest first, credentials redacted."""
        return tuple(self._state.recorder.log)

    def statistics(self) -> EmulatorStatistics:
        return self._state.recorder.snapshot()

    def reset_statistics(self) -> None:
        """Zero the counters and clear the request log (in-flight requests still count)."""
        self._state.recorder.reset()


#: Type of the ``paren_emulator_factory`` fixture: ``await factory(**options)`` -> running emulator.
EmulatorFactory = Callable[..., Awaitable[ParenEmulator]]
