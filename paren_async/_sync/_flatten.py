"""Flat rows from the typed read of the walk's NDJSON, in DuckDB SQL.

DuckDB's ``json_transform`` (with the declared ``JSON_STRUCTURE``) parses each record's text once,
straight into typed columns; every scalar is declared ``VARCHAR`` and coerced here where the
meaning is clear (numbers sent as strings, with spaces; statuses in any case or with stray
whitespace; zone-less timestamps are UTC), NULL otherwise. A value of the wrong shape (``evses``
an object, ``operator`` a string) reads as NULL: one messy field never fails a sync, and a record
whose ``evses`` are ``null`` simply has none.

Input: the temp table ``sync_new`` (typed columns plus ``raw`` and ``hash``) of the records to
(re)write. Outputs, all temp tables: ``sync_evses``, ``sync_connectors``, ``sync_prices``; then
``ROWS`` selects the rows for ``locations``.
"""

from __future__ import annotations

import json
from typing import Final

from ._schema import LOCATION_COLUMNS, STANDARDS, STATUSES

__all__ = ["FLATTEN", "JSON_COLUMNS", "JSON_STRUCTURE", "ROWS", "deduplicate"]

_V: Final = "VARCHAR"
_CONNECTOR: Final = dict.fromkeys(
    (
        "id", "standard", "format", "power_type", "max_voltage", "max_amperage",
        "max_electric_power", "last_updated",
    ),
    _V,
)  # fmt: skip
_EVSE: Final = {"id": _V, "status": _V, "last_updated": _V, "connectors": [_CONNECTOR]}

#: ``json_transform``'s structure: the parts of a location the tables use. Pricing stays JSON:
#: its ``pricing_components`` may be an object or an array.
JSON_STRUCTURE: Final = json.dumps(
    {
        "id": _V,
        "name": _V,
        "operator": {"name": _V},
        "last_updated": _V,
        "address": {
            "address": _V,
            "city": _V,
            "postal_code": _V,
            "state": _V,
            "country": _V,
            "coordinates": {"latitude": _V, "longitude": _V},
        },
        "charging_pool": {
            "id": _V,
            "model": _V,
            "program": _V,
            "last_updated": _V,
            "current_pricing": "JSON",
            "evses": [_EVSE],
        },
    },
    separators=(",", ":"),
)
#: The top-level keys of ``JSON_STRUCTURE``: the columns of ``sync_new`` besides ``raw``, ``hash``.
JSON_COLUMNS: Final = tuple(json.loads(JSON_STRUCTURE))


def _number(expression: str) -> str:
    return f"TRY_CAST(trim({expression}) AS DOUBLE)"


def _timestamp(expression: str) -> str:
    return f"TRY_CAST(trim({expression}) AS TIMESTAMPTZ)"


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


# An EVSE without an id is keyed by its position, so its connectors still have a home. `content`:
# the EVSE's connectors without timestamps, which the diff compares (a change is a `changed` row).
_EVSE_ROWS: Final = """
CREATE OR REPLACE TEMP TABLE sync_evse_rows AS
SELECT location_id, coalesce(evse.id, '#' || position) AS evse_id, position::INTEGER AS position,
       upper(trim(evse.status)) AS status, evse.last_updated,
       evse.connectors AS connector_list,
       to_json(list_transform(evse.connectors, lambda c: struct_pack(
           id := c.id, standard := c.standard, format := c.format, power_type := c.power_type,
           max_voltage := c.max_voltage, max_amperage := c.max_amperage,
           max_electric_power := c.max_electric_power)))::VARCHAR AS content
FROM (
    SELECT id AS location_id, unnest(charging_pool.evses) AS evse,
           unnest(generate_series(1, len(charging_pool.evses))) AS position
    FROM sync_new
)
"""

_CONNECTORS: Final = f"""
CREATE OR REPLACE TEMP TABLE sync_connectors AS
SELECT location_id, evse_id, coalesce(c.id, '#' || position) AS connector_id, position,
       upper(trim(c.standard)) AS standard, upper(trim(c.format)) AS format,
       upper(trim(c.power_type)) AS power_type, {_number("c.max_voltage")} AS max_voltage,
       {_number("c.max_amperage")} AS max_amperage,
       {_number("c.max_electric_power")} / 1000 AS max_power_kw,
       {_timestamp("c.last_updated")} AS last_updated
FROM (
    SELECT location_id, evse_id, unnest(connector_list) AS c,
           unnest(generate_series(1, len(connector_list))) AS position
    FROM sync_evse_rows
)
"""

# A second EVSE with the same id in one location (or connector in one EVSE) is dropped: the first
# one wins. Rare, so checked before paying for the delete.
_DUPLICATES: Final = {
    "sync_evse_rows": "location_id, evse_id",
    "sync_connectors": "location_id, evse_id, connector_id",
}


def deduplicate(table: str) -> tuple[str, str]:
    """A query counting ``table``'s repeated keys, and the statement deleting the repeats."""
    key = _DUPLICATES[table]
    return (
        f"SELECT count(*) - count(DISTINCT ({key})) FROM {table}",
        f"DELETE FROM {table} WHERE rowid NOT IN "
        f"(SELECT arg_min(rowid, position) FROM {table} GROUP BY {key})",
    )


# An EVSE's power type: DC if any of its connectors is DC, else AC if any is AC.
_EVSES: Final = f"""
CREATE OR REPLACE TEMP TABLE sync_evses AS
SELECT e.location_id, e.evse_id, e.position, e.status,
       {_timestamp("e.last_updated")} AS last_updated,
       coalesce(c.connectors, 0)::INTEGER AS connectors,
       CASE WHEN c.dc THEN 'DC' WHEN c.ac THEN 'AC' END AS power_type,
       c.max_power_kw, e.content
FROM sync_evse_rows AS e
LEFT JOIN (
    SELECT location_id, evse_id, count(*) AS connectors, max(max_power_kw) AS max_power_kw,
           bool_or(power_type = 'DC') AS dc, bool_or(power_type LIKE 'AC%') AS ac
    FROM sync_connectors GROUP BY ALL
) AS c USING (location_id, evse_id)
"""

_PRICES: Final = """
CREATE OR REPLACE TEMP TABLE sync_prices AS
WITH elements AS (
    SELECT id, unnest(json_extract(charging_pool.current_pricing,
                                   '$."non-member".elements[*]')) AS element
    FROM sync_new WHERE charging_pool.current_pricing IS NOT NULL
), components AS (
    SELECT id, unnest(CASE json_type(element, '$.pricing_components')
                      WHEN 'ARRAY' THEN json_extract(element, '$.pricing_components[*]')
                      ELSE [json_extract(element, '$.pricing_components')] END) AS component
    FROM elements
)
SELECT id, min(price) AS energy_price_min, max(price) AS energy_price_max
FROM (
    SELECT id, TRY_CAST(trim(component ->> '$.price') AS DOUBLE) AS price
    FROM components WHERE upper(trim(component ->> '$.type')) = 'ENERGY'
)
WHERE price IS NOT NULL
GROUP BY id
"""

_VALUES: Final = {
    "id": "n.id",
    "name": "n.name",
    "operator": "n.operator.name",
    "last_updated": _timestamp("n.last_updated"),
    "address": "n.address.address",
    "city": "n.address.city",
    "postal_code": "trim(n.address.postal_code)",
    "state": "n.address.state",
    "country": "n.address.country",
    "latitude": _number("n.address.coordinates.latitude"),
    "longitude": _number("n.address.coordinates.longitude"),
    "pool_id": "n.charging_pool.id",
    "pool_model": "n.charging_pool.model",
    "pool_program": "n.charging_pool.program",
    "pool_last_updated": _timestamp("n.charging_pool.last_updated"),
    "max_power_kw": "e.max_power_kw",
    "currency": "json_extract_string(n.charging_pool.current_pricing, "
    """'$."non-member".currency')""",
    "energy_price_min": "p.energy_price_min",
    "energy_price_max": "p.energy_price_max",
}


def _rows() -> str:
    statuses = [
        f"count(*) FILTER (WHERE status = '{name}') AS evses_{name.lower()}" for name in STATUSES
    ]
    statuses.append(
        f"count(*) FILTER (WHERE status IS NULL OR status NOT IN ({_quoted(STATUSES)}))"
        " AS evses_other"
    )
    standards = [
        f"count(*) FILTER (WHERE standard = '{name}') AS connectors_{name.lower()}"
        for name in STANDARDS
    ]
    standards.append(
        f"count(*) FILTER (WHERE standard IS NULL OR standard NOT IN ({_quoted(STANDARDS)}))"
        " AS connectors_other"
    )
    columns = [
        f"{_VALUES[name]} AS {name}"
        if name in _VALUES
        else f"coalesce({name}, 0)::{kind} AS {name}"
        for name, kind in LOCATION_COLUMNS
    ]
    return f"""
    SELECT {", ".join(columns)},
           n.charging_pool.current_pricing::VARCHAR AS current_pricing, n.raw, n.hash
    FROM sync_new AS n
    LEFT JOIN (
        SELECT location_id, count(*) AS evses,
               count(*) FILTER (WHERE power_type = 'AC') AS evses_ac,
               count(*) FILTER (WHERE power_type = 'DC') AS evses_dc,
               sum(connectors) AS connectors, max(max_power_kw) AS max_power_kw,
               {", ".join(statuses)}
        FROM sync_evses GROUP BY location_id
    ) AS e ON e.location_id = n.id
    LEFT JOIN (
        SELECT location_id, {", ".join(standards)} FROM sync_connectors GROUP BY location_id
    ) AS c ON c.location_id = n.id
    LEFT JOIN sync_prices AS p ON p.id = n.id
    """


#: The statements that flatten ``sync_new``, in order.
FLATTEN: Final = (_EVSE_ROWS, _CONNECTORS, _EVSES, _PRICES)
#: A query for the ``locations`` rows of ``sync_new`` (after ``FLATTEN``), without ``first_seen``
#: and ``last_changed``.
ROWS: Final = _rows()
