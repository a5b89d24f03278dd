"""The column dictionary: every flat column of a location, with its type, unit and meaning.

This is data, not prose: CSV and Parquet exports, ``paren-async columns``, the README table and
any database table built from the same rows all read it, so they cannot disagree. Columns are
fixed per family whatever the data holds, so files from different runs load into one table.

Choices an analyst would otherwise have to guess:

- Power is in kW (the API sends W in ``max_electric_power``; divided by 1000).
- Postal codes are text in every format (``07030`` keeps its zero; ZIP+4 and Canadian codes
  fit). Parquet and the database tables type them as strings; CSV has no types, so read it with
  ``paren-async columns --format duckdb`` or ``--format pandas`` (see the README).
- Prices carry their unit: ``currency`` per kWh, per hour, per session.
- Realtime records carry no name, operator, pool model or funding program (the Metadata API does),
  so Realtime rows have no such columns: join with a Metadata export on ``id``.
- Open enumerations (EVSE status, connector standard) get one count column per known value plus
  an ``_other`` column: a value Paren adds later is counted, never dropped and never a new column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from paren_async.models import ConnectorStandard, EvseStatus

__all__ = [
    "ARROW_TYPES",
    "COLUMNS",
    "SQL_TYPES",
    "STANDARDS",
    "STATUSES",
    "Column",
    "Family",
    "Kind",
    "columns",
]

Family = Literal["metadata", "realtime"]
Kind = Literal["string", "float", "int", "timestamp"]

#: The type of each kind in Arrow/Parquet and in SQL (DuckDB names, standard enough elsewhere).
ARROW_TYPES: Final[dict[Kind, str]] = {
    "string": "string",
    "float": "float64",
    "int": "int32",
    "timestamp": "timestamp[us, tz=UTC]",
}
SQL_TYPES: Final[dict[Kind, str]] = {
    "string": "VARCHAR",
    "float": "DOUBLE",
    "int": "INTEGER",
    "timestamp": "TIMESTAMPTZ",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One flat column: ``name``, value ``kind``, ``unit`` ("" when none) and ``meaning``."""

    name: str
    kind: Kind
    unit: str
    meaning: str

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


def _names(constants: type) -> tuple[str, ...]:
    return tuple(sorted(value for key, value in vars(constants).items() if key.isupper()))


STATUSES: Final = _names(EvseStatus)
STANDARDS: Final = _names(ConnectorStandard)

_PORTS: Final = "ports"
_KW: Final = "kW"

_IDENTITY: Final = (
    Column("id", "string", "", "Paren location id: unique, the key to join Metadata and Realtime"),
)
_NAMING: Final = (
    Column("name", "string", "", "location name (Metadata only)"),
    Column("operator", "string", "", "network operating the location (operator.name)"),
)
_PLACE: Final = (
    Column("last_updated", "timestamp", "UTC", "when Paren last updated the location"),
    Column("address", "string", "", "street address"),
    Column("city", "string", "", "city"),
    Column(
        "postal_code",
        "string",
        "",
        "postal code as text: leading zeros kept (07030), ZIP+4 and Canadian codes fit",
    ),
    Column("state", "string", "", "state or province code, e.g. NY"),
    Column("country", "string", "", "country code, e.g. USA"),
    Column("latitude", "float", "degrees", "WGS 84 latitude"),
    Column("longitude", "float", "degrees", "WGS 84 longitude"),
    Column("pool_id", "string", "", "charging pool id (charging_pool.id)"),
)
_POOL_DETAILS: Final = (
    Column("pool_model", "string", "", "charging_pool.model, Paren's pool model, e.g. L2+DCFC"),
    Column(
        "pool_program",
        "string",
        "",
        "government funding program, NEVI or CFI; empty when not publicly funded",
    ),
)
_EQUIPMENT: Final = (
    Column("pool_last_updated", "timestamp", "UTC", "when the charging pool was last updated"),
    Column("evses", "int", _PORTS, "EVSEs (ports): each charges one vehicle at a time"),
    Column("evses_ac", "int", _PORTS, "ports with an AC connector and no DC one (Level 1 and 2)"),
    Column("evses_dc", "int", _PORTS, "ports with a DC connector (DC fast charging)"),
    Column("connectors", "int", "connectors", "connectors over all ports (plugs or sockets)"),
    Column("max_power_kw", "float", _KW, "highest max_electric_power of any connector"),
    Column("max_dc_power_kw", "float", _KW, "highest max_electric_power of a DC connector"),
    *(
        Column(f"evses_{name.lower()}", "int", _PORTS, f"ports whose status is {name}")
        for name in STATUSES
    ),
    Column("evses_other", "int", _PORTS, "ports with another or no status"),
    *(
        Column(f"connectors_{name.lower()}", "int", "connectors", f"connectors of standard {name}")
        for name in STANDARDS
    ),
    Column("connectors_other", "int", "connectors", "connectors of another or no standard"),
)
_METADATA_EXTRAS: Final = (
    Column(
        "historical_performance",
        "string",
        "JSON",
        "the historical_performance block as sent (field names not published by Paren)",
    ),
)
_PRICES: Final = (
    Column("currency", "string", "ISO 4217", "currency of the prices below (non-member tariff)"),
    Column(
        "energy_price_min_per_kwh",
        "float",
        "currency/kWh",
        "lowest non-member ENERGY price over the tariff's time-of-use elements",
    ),
    Column(
        "energy_price_max_per_kwh",
        "float",
        "currency/kWh",
        "highest non-member ENERGY price (differs from the lowest under time of use)",
    ),
    Column(
        "member_energy_price_min_per_kwh",
        "float",
        "currency/kWh",
        "lowest member ENERGY price, where the network sells memberships",
    ),
    Column("flat_fee", "float", "currency/session", "highest non-member FLAT fee per session"),
    Column(
        "time_price_per_hour", "float", "currency/hour", "highest non-member TIME (charging) price"
    ),
    Column(
        "parking_price_per_hour", "float", "currency/hour", "highest non-member PARKING_TIME price"
    ),
    Column(
        "price_types",
        "string",
        "",
        "every non-member price type present, comma-separated (types beyond the four above too)",
    ),
)
_RELIABILITY: Final = (
    Column(
        "reliability_uptime_7d",
        "float",
        "fraction 0-1",
        "reliability.uptime_7d: share of the last 7 days in service (name assumed)",
    ),
    Column(
        "reliability_failed_sessions_7d",
        "int",
        "sessions",
        "reliability.failed_sessions_7d: failed sessions in the last 7 days (name assumed)",
    ),
    Column(
        "reliability",
        "string",
        "JSON",
        "the whole reliability block as sent, whatever its fields (Paren does not publish them)",
    ),
)

COLUMNS: Final[dict[Family, tuple[Column, ...]]] = {
    "metadata": _IDENTITY + _NAMING + _PLACE + _POOL_DETAILS + _EQUIPMENT + _METADATA_EXTRAS,
    "realtime": _IDENTITY + _PLACE + _EQUIPMENT + _PRICES + _RELIABILITY,
}


def columns(family: Family) -> tuple[Column, ...]:
    """The columns of ``family``'s rows, in order."""
    return COLUMNS[family]
