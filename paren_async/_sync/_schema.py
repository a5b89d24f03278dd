"""The tables a sync keeps, as DuckDB DDL; created on first use, never altered silently.

``locations`` holds one flat row per location (the columns of ``LOCATION_COLUMNS``), plus the
record's exact JSON text and its content hash; ``evses`` and ``connectors`` hold the current ports
and plugs; ``changes`` and ``runs`` are the history. Uniqueness of ``locations.id`` and of the
``evses``/``connectors`` keys is kept by the sync itself (delete then insert, set-based): DuckDB
checks key constraints eagerly within a transaction, which a delete-then-insert of the same key
would trip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from paren_async.models import ConnectorStandard, EvseStatus

if TYPE_CHECKING:
    import duckdb

__all__ = ["LOCATION_COLUMNS", "STANDARDS", "STATUSES", "TABLES", "create_tables"]


def _names(constants: type) -> tuple[str, ...]:
    return tuple(sorted(value for key, value in vars(constants).items() if key.isupper()))


#: Known EVSE statuses and connector standards: one count column each, plus ``_other``.
STATUSES: Final = _names(EvseStatus)
STANDARDS: Final = _names(ConnectorStandard)

#: The flat columns of ``locations`` (before ``current_pricing``, ``raw``, ``hash``, ``first_seen``
#: and ``last_changed``),
#: with their DuckDB types. Power is in kW, prices in ``currency`` per kWh.
LOCATION_COLUMNS: Final = (
    ("id", "VARCHAR"),
    ("name", "VARCHAR"),
    ("operator", "VARCHAR"),
    ("last_updated", "TIMESTAMPTZ"),
    ("address", "VARCHAR"),
    ("city", "VARCHAR"),
    ("postal_code", "VARCHAR"),
    ("state", "VARCHAR"),
    ("country", "VARCHAR"),
    ("latitude", "DOUBLE"),
    ("longitude", "DOUBLE"),
    ("pool_id", "VARCHAR"),
    ("pool_model", "VARCHAR"),
    ("pool_program", "VARCHAR"),
    ("pool_last_updated", "TIMESTAMPTZ"),
    ("evses", "INTEGER"),
    ("evses_ac", "INTEGER"),
    ("evses_dc", "INTEGER"),
    ("connectors", "INTEGER"),
    ("max_power_kw", "DOUBLE"),
    *((f"evses_{name.lower()}", "INTEGER") for name in STATUSES),
    ("evses_other", "INTEGER"),
    *((f"connectors_{name.lower()}", "INTEGER") for name in STANDARDS),
    ("connectors_other", "INTEGER"),
    ("currency", "VARCHAR"),
    ("energy_price_min", "DOUBLE"),
    ("energy_price_max", "DOUBLE"),
)

_LOCATIONS: Final = ",\n  ".join(f"{name} {kind}" for name, kind in LOCATION_COLUMNS)

TABLES: Final = {
    "locations": f"""
        {_LOCATIONS},
        current_pricing VARCHAR,
        raw VARCHAR USING COMPRESSION zstd,
        hash VARCHAR,
        first_seen TIMESTAMPTZ,
        last_changed TIMESTAMPTZ
    """,
    "evses": """
        location_id VARCHAR,
        evse_id VARCHAR,
        position INTEGER,
        status VARCHAR,
        last_updated TIMESTAMPTZ,
        connectors INTEGER,
        power_type VARCHAR,
        max_power_kw DOUBLE,
        content VARCHAR
    """,
    "connectors": """
        location_id VARCHAR,
        evse_id VARCHAR,
        connector_id VARCHAR,
        position INTEGER,
        standard VARCHAR,
        format VARCHAR,
        power_type VARCHAR,
        max_voltage DOUBLE,
        max_amperage DOUBLE,
        max_power_kw DOUBLE,
        last_updated TIMESTAMPTZ
    """,
    "changes": """
        run_id INTEGER,
        observed_at TIMESTAMPTZ,
        location_id VARCHAR,
        evse_id VARCHAR,
        change VARCHAR,
        field VARCHAR,
        before VARCHAR,
        after VARCHAR
    """,
    "runs": """
        run_id INTEGER,
        started_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ,
        endpoint VARCHAR,
        filters VARCHAR,
        records INTEGER,
        added INTEGER,
        changed INTEGER,
        removed INTEGER,
        status_changes INTEGER,
        price_changes INTEGER,
        changes INTEGER,
        rejected INTEGER,
        duplicates INTEGER,
        unrecovered_drift INTEGER,
        complete BOOLEAN,
        error VARCHAR
    """,
}


def create_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the sync's tables that do not exist yet."""
    for name, columns in TABLES.items():
        connection.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
