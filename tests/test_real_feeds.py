"""Real operators' OCPI feeds, rewrapped into Paren's nesting: data no one here wrote.

The feeds live in the workspace's ``shared/data/ocpi-feeds`` beside the repository (with their
licence); the test is skipped where they are not.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from paren_async import MockTransport, ParenClient, Request, Response

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ocpi-feeds"
FILES = sorted(FEEDS.glob("*.json.gz")) if FEEDS.is_dir() else []


def paren_shaped(location: dict[str, Any]) -> dict[str, Any]:
    """An OCPI location in Paren's nesting: address block with coordinates, EVSEs in a pool."""
    address = {k: location.get(k) for k in ("address", "city", "postal_code", "state", "country")}
    address["coordinates"] = location.get("coordinates")
    return {
        "id": location.get("id"),
        "name": location.get("name"),
        "address": address,
        "last_updated": location.get("last_updated"),
        "operator": location.get("operator"),
        "charging_pool": {"id": location.get("id"), "evses": location.get("evses")},
        "opening_times": location.get("opening_times"),  # a field Paren never documents
    }


@pytest.mark.skipif(not FILES, reason="shared/data/ocpi-feeds is not beside the repository")
@pytest.mark.parametrize("feed", FILES, ids=[f.name.split("-")[-1].split(".")[0] for f in FILES])
async def test_real_feeds_walk_typed_and_raw(feed: Path) -> None:
    """Every record either decodes (timestamps aware) or is reported; raw bytes come back exact."""
    locations = json.loads(gzip.decompress(feed.read_bytes()))["data"]  # noqa: ASYNC240
    records = [json.dumps(paren_shaped(loc)).encode() for loc in locations]

    def handler(request: Request) -> Response:
        query = dict(part.split("=") for part in request.url.split("?")[1].split("&"))
        offset, limit = int(query["offset"]), int(query["limit"])
        page = records[offset : offset + limit]
        return Response(200, {}, b'{"data": [' + b", ".join(page) + b"]}")

    client = ParenClient("k", "s", base_url="http://127.0.0.1:9", transport=MockTransport(handler))
    async with client:
        pager = client.locations()
        typed = await pager.collect()
        raw = [record async for record in client.locations().raw()]
    stats = pager.statistics()
    assert raw == records  # the lossless path: every record's bytes as sent, in order
    assert len(typed) + stats.bad_records == len(records)
    assert len(typed) >= 0.95 * len(records)  # real data decodes, messy as it is
    stamps = [loc.last_updated for loc in typed if loc.last_updated is not None]
    assert stamps and all(isinstance(s, datetime) and s.tzinfo is not None for s in stamps)
    evses = [evse for loc in typed for evse in loc.charging_pool.evses]
    assert evses and all(evse.status is None or isinstance(evse.status, str) for evse in evses)
