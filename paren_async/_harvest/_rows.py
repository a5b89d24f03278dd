"""One flat row per location for CSV and Parquet, built from the typed models.

Columns are fixed per family whatever the data holds, so files from different runs load into one
table. Open enumerations become one count column per known value plus an ``_other`` column:
a status or standard Paren adds later is counted, never dropped and never a new column.
Power is in watts, as the API sends it (``max_electric_power``); missing values stay empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import msgspec

from paren_async.models import ConnectorStandard, EvseStatus, Location, RealtimeLocation

__all__ = ["COLUMNS", "Column", "Family", "columns", "decoder_for", "row"]

Family = Literal["metadata", "realtime"]
Kind = Literal["string", "float", "int", "timestamp"]
Value = str | float | int | datetime | None


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind


def _names(constants: type) -> tuple[str, ...]:
    return tuple(sorted(value for key, value in vars(constants).items() if key.isupper()))


STATUSES: Final = _names(EvseStatus)
STANDARDS: Final = _names(ConnectorStandard)
_STATUS_INDEX: Final = {name: i for i, name in enumerate(STATUSES)}
_STANDARD_INDEX: Final = {name: i for i, name in enumerate(STANDARDS)}

_COMMON: Final = (
    Column("id", "string"),
    Column("name", "string"),
    Column("operator", "string"),
    Column("last_updated", "timestamp"),
    Column("address", "string"),
    Column("city", "string"),
    Column("postal_code", "string"),
    Column("state", "string"),
    Column("country", "string"),
    Column("latitude", "float"),
    Column("longitude", "float"),
    Column("pool_id", "string"),
    Column("pool_model", "string"),
    Column("pool_program", "string"),
    Column("pool_last_updated", "timestamp"),
    Column("evses", "int"),
    Column("connectors", "int"),
    Column("max_electric_power", "float"),
    *(Column(f"evses_{name.lower()}", "int") for name in STATUSES),
    Column("evses_other", "int"),
    *(Column(f"connectors_{name.lower()}", "int") for name in STANDARDS),
    Column("connectors_other", "int"),
)
_REALTIME: Final = (
    Column("currency", "string"),
    Column("energy_price_min", "float"),
    Column("energy_price_max", "float"),
)
COLUMNS: Final[dict[Family, tuple[Column, ...]]] = {
    "metadata": _COMMON,
    "realtime": _COMMON + _REALTIME,
}


def columns(family: Family) -> tuple[Column, ...]:
    return COLUMNS[family]


def decoder_for(family: Family) -> Callable[[bytes], Location | RealtimeLocation]:
    """One record's JSON to its typed model, as leniently as the client decodes pages."""
    if family == "metadata":
        return msgspec.json.Decoder(Location, strict=False).decode
    return msgspec.json.Decoder(RealtimeLocation, strict=False).decode


def row(location: Location | RealtimeLocation) -> tuple[Value, ...]:
    """The flat row of one location, in ``columns(family)`` order."""
    address = location.address
    coordinates = address.coordinates
    pool = location.charging_pool
    statuses = [0] * (len(STATUSES) + 1)
    standards = [0] * (len(STANDARDS) + 1)
    connectors = 0
    max_power: float | None = None
    for evse in pool.evses:
        statuses[_STATUS_INDEX.get(evse.status or "", -1)] += 1
        for connector in evse.connectors:
            connectors += 1
            standards[_STANDARD_INDEX.get(connector.standard or "", -1)] += 1
            power = connector.max_electric_power
            if power is not None and (max_power is None or power > max_power):
                max_power = power
    values: tuple[Value, ...] = (
        location.id,
        location.name,
        location.operator.name if location.operator else None,
        location.last_updated,
        address.address,
        address.city,
        address.postal_code,
        address.state,
        address.country,
        coordinates.latitude if coordinates else None,
        coordinates.longitude if coordinates else None,
        pool.id,
        pool.model,
        pool.program,
        pool.last_updated,
        len(pool.evses),
        connectors,
        max_power,
        *statuses,
        *standards,
    )
    if isinstance(location, RealtimeLocation):
        values += _pricing(location)
    return values


def _pricing(location: RealtimeLocation) -> tuple[Value, ...]:
    pricing = location.charging_pool.current_pricing
    tariff = pricing.non_member if pricing else None
    if tariff is None:
        return (None, None, None)
    energy = [
        component.price
        for element in tariff.elements
        for component in element.pricing_components
        if component.type == "ENERGY" and component.price is not None
    ]
    return (tariff.currency, min(energy, default=None), max(energy, default=None))
