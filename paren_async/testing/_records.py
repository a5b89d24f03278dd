"""Paren location JSON, made from stations: each record's bytes are built once and reused.

Location ``key``s are integers: key ``k`` is a copy of station ``perm[k % S]`` (``S`` stations,
``perm`` a seed-dependent shuffle), and ``k // S`` says which copy. Copy 0 is the real station;
later copies are synthetic siblings (same street and city, coordinates jittered, new ids). Keys are
never reused, so every key has its own id.

Encoding a whole record costs tens of microseconds, too slow for a server that must outrun its
client, so each station is encoded once per family as a *template*: the record's JSON with marked
holes where per-copy values go (ids, coordinates, EVSE UUIDs and statuses, timestamps). A record
is then a join of fragments and small values; finished records are cached, bounded.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final

import msgspec

from . import _documents
from ._dataset import Station, load_stations

__all__ = ["CACHE_SIZE", "STATUS_PERIOD", "RecordFactory"]

#: Seconds during which a realtime EVSE status stays the same.
STATUS_PERIOD: Final = 30.0
#: Records kept encoded per family (~2 KB each): all of a default emulator, not all of 1,000,000.
CACHE_SIZE: Final = 100_000

_HOLE: Final = re.compile(rb'"\xee\x80\x80([a-z_]+):(\d+)\xee\x80\x80"')
_JSON: Final = msgspec.json.Encoder()

# OCPI statuses weighted by how often a live network shows them; BLOCKED and RESERVED are rare on
# purpose. 256 entries so that one hash byte picks one status.
_REALTIME_WEIGHTS: Final = {
    "AVAILABLE": 140,
    "CHARGING": 62,
    "OUTOFORDER": 12,
    "INOPERATIVE": 10,
    "UNKNOWN": 24,
    "BLOCKED": 4,
    "RESERVED": 4,
}
_METADATA_WEIGHTS: Final = {"AVAILABLE": 236, "OUTOFORDER": 8, "UNKNOWN": 12}


def _status_table(weights: dict[str, int]) -> tuple[bytes, ...]:
    table = tuple(_JSON.encode(name) for name, n in weights.items() for _ in range(n))
    assert len(table) == 256
    return table


_REALTIME_STATUS: Final = _status_table(_REALTIME_WEIGHTS)
_METADATA_STATUS: Final = _status_table(_METADATA_WEIGHTS)


_MASK: Final = (1 << 64) - 1


def mix(x: int) -> int:
    """splitmix64: a fast, well-spread 64-bit hash of an int (one per per-record draw)."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def utc_iso(epoch: float, *, micros: bool) -> str:
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micros else "%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class _Template:
    fragments: tuple[bytes, ...]
    holes: tuple[tuple[str, int], ...]  # (name, index) of the hole after fragments[i]
    evse_prefix: str  # the station's part of its EVSE UUIDs

    @classmethod
    def encode(cls, document: object, station: Station) -> _Template:
        parts = _HOLE.split(_JSON.encode(document))
        # re.split with two groups yields fragment, name, index, fragment, name, index, ...
        holes = tuple((parts[i].decode(), int(parts[i + 1])) for i in range(1, len(parts), 3))
        h = hashlib.shake_128(f"evse:{station.afdc_id}".encode()).hexdigest(10)
        # UUID version 4, RFC 4122 variant; the last group is the key and EVSE number.
        prefix = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}"
        return cls(tuple(parts[0::3]), holes, prefix)

    def render(self, values: dict[str, list[bytes]]) -> bytes:
        out: list[bytes] = [b""] * (2 * len(self.fragments) - 1)
        out[0::2] = self.fragments
        out[1::2] = [values[name][index] for name, index in self.holes]
        return b"".join(out)


@functools.lru_cache(maxsize=None)
def _template(seed: int, family: str, index: int) -> _Template:
    # Shared by every emulator of the process: tests start many, all from the same stations.
    station = load_stations()[index]
    if family == "metadata":
        return _Template.encode(_documents.metadata(station, seed), station)
    return _Template.encode(_documents.realtime(station, seed), station)


@functools.lru_cache(maxsize=None)
def _pricing(seed: int, index: int, form: int) -> bytes:
    return _JSON.encode(_documents.pricing(load_stations()[index], seed, form))


class RecordFactory:
    """Location ids and encoded records for any key, deterministic for a seed."""

    def __init__(self, *, seed: int, clock: Callable[[], float]) -> None:
        self._seed = seed
        self._clock = clock
        self._stations = load_stations()
        perm = list(range(len(self._stations)))
        random.Random(seed).shuffle(perm)
        self._perm = perm
        self._metadata: dict[int, bytes] = {}
        self._realtime: dict[int, bytes] = {}
        self._realtime_bucket = -1

    def station(self, key: int) -> Station:
        return self._stations[self._perm[key % len(self._stations)]]

    def location_id(self, key: int) -> str:
        copy, index = divmod(key, len(self._stations))
        base = f"PRN-{self._stations[self._perm[index]].afdc_id}"
        return base if copy == 0 else f"{base}-{copy}"

    def bucket(self) -> int:
        """The current realtime status period: statuses change when it does."""
        return int(self._clock() // STATUS_PERIOD)

    def metadata(self, key: int) -> bytes:
        record = self._metadata.get(key)
        if record is None:
            record = self._render("metadata", key, -1)
            _remember(self._metadata, key, record)
        return record

    def realtime(self, key: int, bucket: int) -> bytes:
        if bucket != self._realtime_bucket:
            self._realtime.clear()  # every status may have changed
            self._realtime_bucket = bucket
        record = self._realtime.get(key)
        if record is None:
            record = self._render("realtime", key, bucket)
            _remember(self._realtime, key, record)
        return record

    def _render(self, family: str, key: int, bucket: int) -> bytes:
        index = self._perm[key % len(self._stations)]
        station = self._stations[index]
        template = _template(self._seed, family, index)
        location_id = self.location_id(key)
        evses = _documents.evse_count(station)
        # bucket -1 stands for metadata's static status; the statuses tables differ anyway.
        base = mix(self._seed * 1_000_003 + bucket) ^ (key << 16)
        table = _METADATA_STATUS if bucket < 0 else _REALTIME_STATUS
        latitude, longitude = self._coordinates(station, key)
        values: dict[str, list[bytes]] = {
            "id": [_JSON.encode(location_id)],
            "pool_id": [_JSON.encode(f"{location_id}-P")],
            "lat": [latitude],
            "lon": [longitude],
            "evse_id": [
                f'"{template.evse_prefix}-{key:08x}{i:04x}"'.encode() for i in range(evses)
            ],
            "status": [table[mix(base | i) & 0xFF] for i in range(evses)],
        }
        if bucket >= 0:
            values["ts"] = [_JSON.encode(utc_iso(bucket * STATUS_PERIOD, micros=False))]
            values["pricing"] = [_pricing(self._seed, index, key % 3)]
        return template.render(values)

    def _coordinates(self, station: Station, key: int) -> tuple[bytes, bytes]:
        draw = mix(self._seed * 7_919 + key)
        if key < len(self._stations):
            latitude, longitude = station.latitude, station.longitude
        else:
            # Within ~1 km: a sibling in the same town, not on top of the real station.
            lat = float(station.latitude) + ((draw & 0xFFFF) - 32_768) / 3_300_000
            lon = float(station.longitude) + (((draw >> 16) & 0xFFFF) - 32_768) / 3_300_000
            latitude, longitude = f"{lat:.6f}", f"{lon:.6f}"
        # A deterministic ~5% send OCPI-style decimal strings: clients must accept both.
        if (draw >> 32) % 20 == 0:
            return _JSON.encode(latitude), _JSON.encode(longitude)
        return latitude.encode(), longitude.encode()


def _remember(cache: dict[int, bytes], key: int, record: bytes) -> None:
    if len(cache) >= CACHE_SIZE:
        del cache[next(iter(cache))]  # oldest first: walks move forward
    cache[key] = record
