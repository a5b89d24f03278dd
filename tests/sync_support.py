"""Helpers for the sync tests: a feed server whose records a test edits, and database snapshots."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from aiohttp import web
from aiohttp.test_utils import TestServer
from scripted_server import envelope

#: What a sync's effect is, without the times that differ between equivalent runs.
_STATE = {
    "locations": "SELECT * EXCLUDE (first_seen, last_changed) FROM locations ORDER BY id",
    "evses": "SELECT * FROM evses ORDER BY location_id, evse_id",
    "connectors": "SELECT * FROM connectors ORDER BY ALL",
    "changes": "SELECT * EXCLUDE (observed_at) FROM changes ORDER BY ALL",
    "runs": "SELECT * EXCLUDE (started_at, ended_at) FROM runs ORDER BY run_id",
}


def state(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (times left out), or {} for a database without tables."""
    if not db.exists():
        return {}
    with duckdb.connect(str(db), read_only=True) as connection:
        tables = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
        return {
            name: connection.execute(sql).fetchall()
            for name, sql in _STATE.items()
            if name in tables
        }


def files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def location(
    index: int, *, status: str = "AVAILABLE", price: float = 0.3, **extra: Any
) -> dict[str, Any]:
    """A Realtime location with two EVSEs (one connector each)."""
    record: dict[str, Any] = {
        "id": f"LOC-{index:04d}",
        "name": f"Station {index}",
        "address": {
            "city": "Albany",
            "state": "NY",
            "postal_code": "02134",
            "coordinates": {"latitude": "42.6", "longitude": -73.7},
        },
        "last_updated": "2025-05-13T20:22:24Z",
        "charging_pool": {
            "id": f"POOL-{index}",
            "current_pricing": {
                "non-member": {
                    "currency": "USD",
                    "elements": [{"pricing_components": {"type": "ENERGY", "price": price}}],
                }
            },
            "evses": [
                {
                    "id": f"E{index}-1",
                    "status": status,
                    "last_updated": "2025-05-13T20:22:24Z",
                    "connectors": [
                        {
                            "id": "1",
                            "standard": "IEC_62196_T1",
                            "power_type": "AC_1_PHASE",
                            "max_electric_power": 7200,
                        }
                    ],
                },
                {
                    "id": f"E{index}-2",
                    "status": "CHARGING",
                    "connectors": [
                        {
                            "id": "1",
                            "standard": "SAE_J3400",
                            "power_type": "DC",
                            "max_electric_power": "150000 ",
                        }
                    ],
                },
            ],
        },
    }
    record.update(extra)
    return record


@dataclass
class Feed:
    """A loopback Paren API serving ``records`` (JSON bytes, edited by the test) on both paths."""

    records: list[bytes] = field(default_factory=list)
    url: str = ""

    def set(self, documents: list[dict[str, Any] | bytes]) -> None:
        self.records = [d if isinstance(d, bytes) else json.dumps(d).encode() for d in documents]

    async def _locations(self, request: web.Request) -> web.Response:
        offset = int(request.query.get("offset", 0))
        limit = int(request.query.get("limit", 100))
        body = envelope(self.records[offset : offset + limit])
        return web.Response(body=body, content_type="application/json")


@contextlib.asynccontextmanager
async def serve_feed(feed: Feed) -> AsyncIterator[Feed]:
    app = web.Application()
    app.router.add_get("/metadata/v1/locations", feed._locations)
    app.router.add_get("/realtime/v1/locations", feed._locations)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(shutdown_timeout=0.1)
    feed.url = str(server.make_url("")).rstrip("/")
    try:
        yield feed
    finally:
        await server.close()
