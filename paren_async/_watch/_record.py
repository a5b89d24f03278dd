"""One Realtime record's bytes to the little a watch compares: id, EVSE statuses, price, hash.

Only what a watch needs is decoded (a small msgspec Struct, not the whole ``RealtimeLocation``),
and ``current_pricing`` is captured as raw bytes: it is compared byte for byte and decoded into
``CurrentPricing`` only when it changed. A record that cannot be read raises ``BadRecord``;
``record_id`` still tries to name it so that it keeps its previous state.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

import msgspec

from paren_async.models import CurrentPricing

__all__ = [
    "EVSE_SEP",
    "FIELD_SEP",
    "BadRecord",
    "Observation",
    "content_hash",
    "decode_pricing",
    "observe",
    "record_id",
]

#: Separators of the compact EVSE text kept per location: ``id FIELD_SEP status`` joined by
#: ``EVSE_SEP``. ASCII control characters: they do not occur in ids or statuses (a record with
#: one is refused as bad rather than misread).
FIELD_SEP: Final = "\x1f"
EVSE_SEP: Final = "\x1e"

# Values that move without the location changing (``last_updated`` heartbeats) or that have
# their own events (EVSE ``status``): left out of the content hash. Strings or null only.
_VOLATILE: Final = re.compile(rb'"(?:last_updated|status)"\s*:\s*(?:"(?:[^"\\]|\\.)*"|null)')


class BadRecord(ValueError):
    """A record a watch cannot read; it affects that record only."""


class _Evse(msgspec.Struct, gc=False):
    id: str | None = None
    status: str | None = None


class _Pool(msgspec.Struct, gc=False):
    evses: tuple[_Evse, ...] | None = None
    current_pricing: msgspec.Raw = msgspec.Raw(b"null")


class _Record(msgspec.Struct, gc=False):
    id: str
    charging_pool: _Pool | None = None


class _IdOnly(msgspec.Struct, gc=False):
    id: str


_RECORD: Final = msgspec.json.Decoder(_Record)
_ID: Final = msgspec.json.Decoder(_IdOnly)
_PRICING: Final = msgspec.json.Decoder(CurrentPricing | None, strict=False)


class Observation(msgspec.Struct, frozen=True, gc=False):
    """What one record says: ``evses`` as compact text, ``pricing`` as bytes or None."""

    id: str
    digest: int
    evses: str
    pricing: bytes | None


def record_id(raw: bytes) -> str | None:
    """The record's ``id`` when at least that can be read."""
    try:
        return _ID.decode(raw).id
    except msgspec.DecodeError:
        return None


def content_hash(raw: bytes, pricing: bytes | None) -> int:
    """64-bit BLAKE2b of the record without volatile values and without ``current_pricing``."""
    # A price reads as null here, so that a price appearing or going away is no other change.
    body = raw.replace(pricing, b"null", 1) if pricing is not None else raw
    return int.from_bytes(hashlib.blake2b(_VOLATILE.sub(b"", body), digest_size=8).digest(), "big")


def observe(raw: bytes) -> Observation:
    """Read one record; raises ``BadRecord`` (with the reason) when it cannot be read."""
    try:
        record = _RECORD.decode(raw)
    except msgspec.DecodeError as exc:
        raise BadRecord(str(exc)) from None
    pool = record.charging_pool
    parts: list[str] = []
    pricing: bytes | None = None
    if pool is not None:
        for index, evse in enumerate(pool.evses or ()):
            evse_id = evse.id if evse.id is not None else f"#{index}"
            status = (evse.status or "").strip()
            if FIELD_SEP in evse_id or EVSE_SEP in evse_id or FIELD_SEP in status:
                raise BadRecord("an EVSE id or status holds a control character")
            parts.append(f"{evse_id}{FIELD_SEP}{status}")
        text = bytes(pool.current_pricing)
        pricing = None if text == b"null" else text
    return Observation(record.id, content_hash(raw, pricing), EVSE_SEP.join(parts), pricing)


def decode_pricing(pricing: bytes | None) -> CurrentPricing | None:
    """The typed ``current_pricing``; raises ``BadRecord`` when it is not a valid one."""
    if pricing is None:
        return None
    try:
        return _PRICING.decode(pricing)
    except msgspec.DecodeError as exc:
        raise BadRecord(f"current_pricing: {exc}") from None
