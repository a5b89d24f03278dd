"""One flat row per location, from one record's raw JSON: the single flattening of every export.

CSV, Parquet and database tables all call ``flatten()``, so a column means the same everywhere;
what each column holds is in ``_columns`` (the column dictionary). Each record is decoded on its
own: a record the typed models refuse (``last_updated: ""``, ``evses: null``, bytes that are not
UTF-8...) raises ``RowError`` for that record alone, and the caller sets it aside.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Final

import msgspec

from paren_async import ParenError, RecordError, decode_record
from paren_async.models import Location, RealtimeLocation, Tariff

from ._columns import COLUMNS, STANDARDS, STATUSES, Column, Family, columns

__all__ = [
    "COLUMNS",
    "STANDARDS",
    "STATUSES",
    "Column",
    "Family",
    "RowError",
    "Value",
    "columns",
    "decoder_for",
    "flatten",
    "row",
]

Value = str | float | int | datetime | None

_STATUS_INDEX: Final = {name: i for i, name in enumerate(STATUSES)}
_STANDARD_INDEX: Final = {name: i for i, name in enumerate(STANDARDS)}
_WATTS_PER_KW: Final = 1000.0
_INT32: Final = 2**31


class RowError(ValueError):
    """One record cannot become a row; ``str()`` says why (msgspec's message and JSON path)."""


# Extras the typed models ignore (unknown names, paren-api.md section 2), kept as raw JSON.
class _MetadataRecord(Location, frozen=True):
    historical_performance: msgspec.Raw = msgspec.Raw()


class _RealtimeRecord(RealtimeLocation, frozen=True):
    reliability: msgspec.Raw = msgspec.Raw()


# Decoders are built once: building one costs more than decoding a record.
_DECODERS: Final[dict[Family, Callable[[bytes], Location | RealtimeLocation]]] = {
    "metadata": functools.partial(decode_record, model=_MetadataRecord),
    "realtime": functools.partial(decode_record, model=_RealtimeRecord),
}


def decoder_for(family: Family) -> Callable[[bytes], Location | RealtimeLocation]:
    """One record's JSON to its typed model, as leniently as the client decodes pages."""
    return _DECODERS[family]


def flatten(record: bytes, family: Family) -> tuple[Value, ...]:
    """The row of one record's raw JSON, in ``columns(family)`` order; ``RowError`` if it can't.

    Never raises anything else for bad data: whatever the record holds, it affects itself only.
    """
    try:
        return row(_DECODERS[family](record))
    except RecordError as exc:
        raise RowError(exc.record.reason) from None
    except (ParenError, msgspec.MsgspecError, ValueError, TypeError) as exc:
        raise RowError(str(exc) or type(exc).__name__) from None


def row(location: Location | RealtimeLocation) -> tuple[Value, ...]:
    """The flat row of one typed location (see ``_columns`` for what each column holds)."""
    address = location.address
    coordinates = address.coordinates
    pool = location.charging_pool
    statuses = [0] * (len(STATUSES) + 1)
    standards = [0] * (len(STANDARDS) + 1)
    connectors = ac = dc = 0
    powers: list[float] = []
    dc_powers: list[float] = []
    for evse in pool.evses:
        statuses[_STATUS_INDEX.get((evse.status or "").strip(), -1)] += 1
        has_ac = has_dc = False
        connectors += len(evse.connectors)
        for connector in evse.connectors:
            standards[_STANDARD_INDEX.get(connector.standard or "", -1)] += 1
            power = connector.max_electric_power
            if power is not None:
                powers.append(power)
            kind = connector.power_type
            if kind == "DC":
                has_dc = True
                if power is not None:
                    dc_powers.append(power)
            elif kind is not None and kind.startswith("AC"):
                has_ac = True
        dc += has_dc
        ac += has_ac and not has_dc
    values: tuple[Value, ...] = (location.id,)
    if not isinstance(location, RealtimeLocation):
        values += (location.name, location.operator.name if location.operator else None)
    values += (
        _utc(location.last_updated),
        address.address,
        address.city,
        address.postal_code,
        address.state,
        address.country,
        coordinates.latitude if coordinates else None,
        coordinates.longitude if coordinates else None,
        pool.id,
    )
    if not isinstance(location, RealtimeLocation):
        values += (pool.model, pool.program)
    values += (
        _utc(pool.last_updated),
        len(pool.evses),
        ac,
        dc,
        connectors,
        _kw(max(powers, default=None)),
        _kw(max(dc_powers, default=None)),
        *statuses,
        *standards,
    )
    # A plain model (not decoded here) has no extras: their columns stay empty.
    if isinstance(location, RealtimeLocation):
        values += _pricing(location)
        values += _reliability(getattr(location, "reliability", None))
    else:
        values += (_json_text(getattr(location, "historical_performance", None)),)
    return values


def _utc(moment: datetime | None) -> datetime | None:
    """In UTC, as the dictionary promises; a zone-less timestamp means UTC (paren-api.md 3.7)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _kw(watts: float | None) -> float | None:
    return None if watts is None else watts / _WATTS_PER_KW


def _by_type(tariff: Tariff | None) -> dict[str, list[float]]:
    """A tariff's prices per component type (a type without a price maps to an empty list)."""
    prices: dict[str, list[float]] = {}
    if tariff is not None:
        for element in tariff.elements:
            for component in element.pricing_components:
                if component.type:
                    found = prices.setdefault(component.type, [])
                    if component.price is not None:
                        found.append(component.price)
    return prices


def _pricing(location: RealtimeLocation) -> tuple[Value, ...]:
    pricing = location.charging_pool.current_pricing
    tariff = pricing.non_member if pricing else None
    prices = _by_type(tariff)
    member = _by_type(pricing.member if pricing else None).get("ENERGY", ())
    energy = prices.get("ENERGY", ())
    return (
        tariff.currency if tariff else None,
        min(energy, default=None),
        max(energy, default=None),
        min(member, default=None),
        max(prices.get("FLAT", ()), default=None),
        max(prices.get("TIME", ()), default=None),
        max(prices.get("PARKING_TIME", ()), default=None),
        ",".join(sorted(prices)) or None,
    )


_ANY: Final = msgspec.json.Decoder()


def _json_text(raw: msgspec.Raw | None) -> str | None:
    """A raw JSON block as text; absent or null is empty."""
    if raw is None or not raw or bytes(raw) == b"null":
        return None
    return bytes(raw).decode()


def _reliability(raw: msgspec.Raw | None) -> tuple[Value, ...]:
    text = _json_text(raw)
    block = _ANY.decode(text) if text else None
    if not isinstance(block, dict):
        return (None, None, text)
    return (
        _number(block.get("uptime_7d"), float),
        _number(block.get("failed_sessions_7d"), int),
        text,
    )


def _number(value: object, kind: type[float] | type[int]) -> float | int | None:
    """``value`` as ``kind`` when it is clearly one (a number or a numeric string), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if kind is int:
        # Parquet's int32: a count beyond it is not a count.
        return int(number) if number.is_integer() and abs(number) < _INT32 else None
    return number
