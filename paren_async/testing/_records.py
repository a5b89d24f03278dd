"""Paren location JSON, made from stations: each record's bytes are built once and reused.

Location ``key``s are integers: key ``k`` is a copy of station ``perm[k % S]`` (``S`` stations,
``perm`` a seed-dependent shuffle), and ``k // S`` says which copy. Copy 0 is the real station;
later copies are synthetic siblings (same street and city, coordinates jittered, new ids). Keys are
never reused, so every key has its own id.

Building and encoding a record costs ~100 us, far too slow for a server that must outrun its
client, so each station is encoded once per family as a *template*: the record's JSON with marked
holes where per-copy values go (ids, coordinates, EVSE UUIDs, live statuses, timestamps). A record
is then a join of fragments and small values (~8 us); finished records are cached, bounded, so a
repeated walk costs a dictionary lookup per record.
"""

from __future__ import annotations

import functools
import random
import re
from collections import OrderedDict
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

# A whole-value hole (quoted, see _documents.hole) or a hole inside a string (_documents.inline).
_HOLE: Final = re.compile(
    rb'"\xee\x80\x80([a-z_]+):(\d+)\xee\x80\x80"'  # U+E000 name:index U+E000, quoted
    rb"|\xee\x80\x81([a-z_]+)\xee\x80\x81"  # U+E001 name U+E001
)
_JSON: Final = msgspec.json.Encoder()

# Live OCPI statuses weighted by how often a network shows them; BLOCKED and RESERVED are rare on
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


def _status_table(weights: dict[str, int]) -> tuple[bytes, ...]:
    table = tuple(_JSON.encode(name) for name, n in weights.items() for _ in range(n))
    assert len(table) == 256
    return table


_REALTIME_STATUS: Final = _status_table(_REALTIME_WEIGHTS)


class _Evse(msgspec.Struct):
    id: str
    status: str


class _Pool(msgspec.Struct):
    evses: list[_Evse]


class _Statuses(msgspec.Struct):
    charging_pool: _Pool


_EVSES: Final = msgspec.json.Decoder(_Statuses)


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


# Where each hole's filling sits in the flat list a record is rendered from; status i is at
# _SLOTS["status"] + i.
_SLOTS: Final = {"copy": 0, "key": 1, "lat": 2, "lon": 3, "ts": 4, "pricing": 5, "status": 6}


@dataclass(frozen=True, slots=True)
class _Template:
    fragments: tuple[bytes, ...]
    slots: tuple[int, ...]  # what fills the hole after fragments[i]: an index into the values

    @classmethod
    def encode(cls, document: object) -> _Template:
        parts = _HOLE.split(_JSON.encode(document))
        # re.split with three groups yields fragment, name, index, inline name, fragment, ...
        slots = tuple(
            _SLOTS[parts[i].decode()] + int(parts[i + 1])
            if parts[i]
            else _SLOTS[parts[i + 2].decode()]
            for i in range(1, len(parts), 4)
        )
        return cls(tuple(parts[0::4]), slots)

    def render(self, values: list[bytes]) -> bytes:
        out: list[bytes] = [b""] * (2 * len(self.fragments) - 1)
        out[0::2] = self.fragments
        out[1::2] = [values[slot] for slot in self.slots]
        return b"".join(out)


@functools.cache
def _template(seed: int, family: str, index: int) -> _Template:
    # Shared by every emulator of the process: tests start many, all from the same stations.
    station = load_stations()[index]
    if family == "metadata":
        return _Template.encode(_documents.metadata(station, seed))
    return _Template.encode(_documents.realtime(station, seed))


@functools.cache
def _pricing(seed: int, index: int, form: int) -> bytes:
    return _JSON.encode(_documents.pricing(load_stations()[index], seed, form))


class RecordFactory:
    """Location ids and encoded records for any key, deterministic for a seed."""

    def __init__(
        self, *, seed: int, clock: Callable[[], float], cache_size: int = CACHE_SIZE
    ) -> None:
        self._seed = seed
        self._cache_size = cache_size
        self._clock = clock
        self._stations = load_stations()
        perm = list(range(len(self._stations)))
        random.Random(seed).shuffle(perm)
        self._perm = perm
        self._positions = [(float(s.latitude), float(s.longitude)) for s in self._stations]
        # By position in the shuffled order: ids() of a million locations is one pass.
        self._base_ids = [_documents.location_id(self._stations[i], "") for i in perm]
        self._metadata: OrderedDict[int, bytes] = OrderedDict()
        self._realtime: OrderedDict[int, bytes] = OrderedDict()
        self._realtime_bucket = -1
        self._stamp = (-1, b"")
        #: ``current_pricing`` set by ``set_pricing``, by key: served instead of the station's.
        self._pricing: dict[int, bytes] = {}

    @property
    def stations(self) -> tuple[Station, ...]:
        return self._stations

    def station_index(self, key: int) -> int:
        return self._perm[key % len(self._stations)]

    def location_id(self, key: int) -> str:
        copy, position = divmod(key, len(self._stations))
        base = self._base_ids[position]
        return f"{base}-{copy}" if copy else base

    def prepare(self, index: int) -> None:
        """Encode station ``index``'s templates now, not when a walk first needs them."""
        _template(self._seed, "metadata", index)
        _template(self._seed, "realtime", index)
        for form in range(3):
            _pricing(self._seed, index, form)

    def bucket(self) -> int:
        """The current realtime status period: statuses change when it does."""
        return int(self._clock() // STATUS_PERIOD)

    def metadata(self, key: int) -> bytes:
        record = self._metadata.get(key)
        if record is None:
            record = self._render("metadata", key, -1)
            self._remember(self._metadata, key, record)
        return record

    def realtime(self, key: int, bucket: int) -> bytes:
        if bucket != self._realtime_bucket:
            self._realtime.clear()  # every status may have changed
            self._realtime_bucket = bucket
        record = self._realtime.get(key)
        if record is None:
            record = self._render("realtime", key, bucket)
            self._remember(self._realtime, key, record)
        return record

    def set_pricing(self, key: int, pricing: bytes) -> None:
        """Serve ``pricing`` (encoded JSON) as location ``key``'s ``current_pricing`` from now."""
        self._pricing[key] = pricing
        self._realtime.pop(key, None)

    def evse_statuses(self, key: int, bucket: int) -> list[tuple[str, str]]:
        """(EVSE id, status) of location ``key``'s realtime record in status period ``bucket``."""
        record = _EVSES.decode(self._render("realtime", key, bucket))
        return [(evse.id, evse.status) for evse in record.charging_pool.evses]

    def _render(self, family: str, key: int, bucket: int) -> bytes:
        # The hot path of a first walk: every per-record value is one cheap operation.
        copy, position = divmod(key, len(self._stations))
        index = self._perm[position]
        latitude, longitude = self._coordinates(index, copy, key)
        values = [b"-%d" % copy if copy else b"", b"%08x" % key, latitude, longitude]
        if family == "realtime":
            evses = _documents.evse_count(self._stations[index])
            # One 64-bit draw gives eight statuses.
            base = mix(self._seed * 1_000_003 + bucket) ^ (key << 8)
            draws = b"".join(mix(base + j).to_bytes(8, "little") for j in range(0, evses, 8))
            values.append(self._bucket_stamp(bucket))
            pricing = self._pricing.get(key)
            values.append(pricing if pricing is not None else _pricing(self._seed, index, key % 3))
            values.extend([_REALTIME_STATUS[b] for b in draws[:evses]])
        return _template(self._seed, family, index).render(values)

    def _remember(self, cache: OrderedDict[int, bytes], key: int, record: bytes) -> None:
        if len(cache) >= self._cache_size:
            if not cache:
                return  # caching disabled
            # Oldest first, since walks move forward. (A plain dict would do, but finding its
            # first key after many deletions scans them all: O(n) per eviction.)
            cache.popitem(last=False)
        cache[key] = record

    def _bucket_stamp(self, bucket: int) -> bytes:
        if self._stamp[0] != bucket:
            self._stamp = (bucket, _JSON.encode(utc_iso(bucket * STATUS_PERIOD, micros=False)))
        return self._stamp[1]

    def _coordinates(self, index: int, copy: int, key: int) -> tuple[bytes, bytes]:
        draw = mix(self._seed * 7_919 + key)
        if copy == 0:
            station = self._stations[index]
            latitude, longitude = station.latitude, station.longitude
        else:
            # Within ~1 km: a sibling in the same town, not on top of the real station.
            lat, lon = self._positions[index]
            latitude = "%.6f" % (lat + ((draw & 0xFFFF) - 32_768) / 3_300_000)
            longitude = "%.6f" % (lon + (((draw >> 16) & 0xFFFF) - 32_768) / 3_300_000)
        # A deterministic ~5% send OCPI-style decimal strings: clients must accept both.
        if (draw >> 32) % 20 == 0:
            return b'"%s"' % latitude.encode(), b'"%s"' % longitude.encode()
        return latitude.encode(), longitude.encode()
