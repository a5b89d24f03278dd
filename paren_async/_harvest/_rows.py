"""One flat row per location, from one record's raw JSON: the single flattening of every export.

CSV, Parquet and database tables all call ``flatten()``, so a column means the same everywhere;
what each column holds is in ``_columns`` (the column dictionary). Each record is decoded on its
own: a record the typed models refuse (``last_updated: ""``, ``evses: null``, bytes that are not
UTF-8...) raises ``RowError`` for that record alone, and the caller sets it aside.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

import msgspec

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
    "metadata": msgspec.json.Decoder(_MetadataRecord, strict=False).decode,
    "realtime": msgspec.json.Decoder(_RealtimeRecord, strict=False).decode,
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
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError) as exc:
        raise RowError(str(exc) or type(exc).__name__) from None


def row(location: Location | RealtimeLocation) -> tuple[Value, ...]:
    """The flat row of one typed location (see ``_columns`` for what each column holds)."""
    address = location.address
    coordinates = address.coordinates
    pool = location.charging_pool
    statuses = [0] * (len(STATUSES) + 1)
    standards = [0] * (len(STANDARDS) + 1)
    connectors = ac = dc = 0
    max_power: float | None = None
    max_dc: float | None = None
    for evse in pool.evses:
        statuses[_STATUS_INDEX.get((evse.status or "").strip(), -1)] += 1
        has_ac = has_dc = False
        for connector in evse.connectors:
            connectors += 1
            standards[_STANDARD_INDEX.get(connector.standard or "", -1)] += 1
            power = connector.max_electric_power
            is_dc = connector.power_type == "DC"
            has_dc = has_dc or is_dc
            has_ac = has_ac or (connector.power_type or "").startswith("AC")
            if power is not None:
                max_power = power if max_power is None else max(max_power, power)
                if is_dc:
                    max_dc = power if max_dc is None else max(max_dc, power)
        dc += has_dc
        ac += has_ac and not has_dc
    values: tuple[Value, ...] = (location.id,)
    if not isinstance(location, RealtimeLocation):
        values += (location.name, location.operator.name if location.operator else None)
    values += (
        location.last_updated,
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
        pool.last_updated,
        len(pool.evses),
        ac,
        dc,
        connectors,
        _kw(max_power),
        _kw(max_dc),
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


def _kw(watts: float | None) -> float | None:
    return None if watts is None else watts / _WATTS_PER_KW


def _prices(tariff: Tariff | None, kind: str) -> list[float]:
    if tariff is None:
        return []
    return [
        component.price
        for element in tariff.elements
        for component in element.pricing_components
        if component.type == kind and component.price is not None
    ]


def _pricing(location: RealtimeLocation) -> tuple[Value, ...]:
    pricing = location.charging_pool.current_pricing
    tariff = pricing.non_member if pricing else None
    member = pricing.member if pricing else None
    energy = _prices(tariff, "ENERGY")
    types = (
        sorted(
            {
                component.type
                for element in tariff.elements
                for component in element.pricing_components
                if component.type
            }
        )
        if tariff
        else []
    )
    return (
        tariff.currency if tariff else None,
        min(energy, default=None),
        max(energy, default=None),
        min(_prices(member, "ENERGY"), default=None),
        max(_prices(tariff, "FLAT"), default=None),
        max(_prices(tariff, "TIME"), default=None),
        max(_prices(tariff, "PARKING_TIME"), default=None),
        ",".join(types) or None,
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
