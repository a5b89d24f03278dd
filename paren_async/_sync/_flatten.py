"""Flat rows from raw location JSON, in DuckDB SQL over the temp table ``sync_new(id, raw, hash)``.

Each JSON document is parsed as few times as possible: DuckDB's ``json_extract_string`` takes a
list of paths and parses once for all of them. Values are coerced where the meaning is clear
(numbers sent as strings, with spaces; statuses in any case or with stray whitespace; zone-less
timestamps are UTC) and become NULL otherwise: one messy field never fails a sync. Records whose
``evses`` or ``connectors`` are ``null`` or not lists simply have none.

Outputs, all temp tables: ``sync_evses`` and ``sync_connectors`` (rows for ``evses`` and
``connectors``) and ``sync_rows`` (rows for ``locations``, without ``first_seen``/``last_changed``).
"""

from __future__ import annotations

from typing import Final

from ._schema import LOCATION_COLUMNS, STANDARDS, STATUSES

__all__ = ["FLATTEN"]


def _number(expression: str) -> str:
    return f"TRY_CAST(trim({expression}) AS DOUBLE)"


def _timestamp(expression: str) -> str:
    return f"TRY_CAST(trim({expression}) AS TIMESTAMPTZ)"


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


# An EVSE's content apart from its live status and timestamps: a change here is a `changed` row.
_EVSE_CONTENT: Final = """md5(json_merge_patch(evse, '{"status":null,"last_updated":null,"connectors":null}')
    || list_transform(json_extract(evse, '$.connectors[*]'),
                      lambda c: json_merge_patch(c, '{"last_updated":null}'))::VARCHAR)"""

_EVSES_RAW: Final = f"""
CREATE OR REPLACE TEMP TABLE sync_evse_docs AS
SELECT n.id AS location_id, e.position::INTEGER AS position, e.evse::VARCHAR AS evse,
       json_extract_string(e.evse, ['$.id', '$.status', '$.last_updated']) AS v,
       {_EVSE_CONTENT} AS content_hash
FROM sync_new AS n,
     unnest(json_extract(n.raw, '$.charging_pool.evses[*]')) WITH ORDINALITY AS e(evse, position)
"""

# An EVSE without an id is keyed by its position, so its connectors still have a home; a second
# EVSE with the same id in one location is dropped (the first one wins).
_EVSES: Final = """
CREATE OR REPLACE TEMP TABLE sync_evse_rows AS
SELECT location_id, coalesce(v[1], '#' || position) AS evse_id, position,
       upper(trim(v[2])) AS status, v[3] AS last_updated, evse, content_hash
FROM sync_evse_docs
QUALIFY row_number() OVER (PARTITION BY location_id, coalesce(v[1], '#' || position)
                           ORDER BY position) = 1
"""

_CONNECTORS: Final = f"""
CREATE OR REPLACE TEMP TABLE sync_connectors AS
SELECT location_id, evse_id, coalesce(v[1], '#' || position) AS connector_id,
       upper(trim(v[2])) AS standard, upper(trim(v[3])) AS format,
       upper(trim(v[4])) AS power_type, {_number("v[5]")} AS max_voltage,
       {_number("v[6]")} AS max_amperage, {_number("v[7]")} / 1000 AS max_power_kw,
       {_timestamp("v[8]")} AS last_updated
FROM (
    SELECT e.location_id, e.evse_id, c.position,
           json_extract_string(c.connector, ['$.id', '$.standard', '$.format', '$.power_type',
               '$.max_voltage', '$.max_amperage', '$.max_electric_power', '$.last_updated']) AS v
    FROM sync_evse_rows AS e,
         unnest(json_extract(e.evse, '$.connectors[*]')) WITH ORDINALITY AS c(connector, position)
)
QUALIFY row_number() OVER (PARTITION BY location_id, evse_id, connector_id ORDER BY position) = 1
"""

# An EVSE's power type: DC if any of its connectors is DC, else AC if any is AC.
_EVSES_FINAL: Final = f"""
CREATE OR REPLACE TEMP TABLE sync_evses AS
SELECT e.location_id, e.evse_id, e.position, e.status, {_timestamp("e.last_updated")} AS last_updated,
       coalesce(c.connectors, 0)::INTEGER AS connectors,
       CASE WHEN c.dc THEN 'DC' WHEN c.ac THEN 'AC' END AS power_type,
       c.max_power_kw, e.evse AS raw, e.content_hash
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
    SELECT id, unnest(json_extract(raw,
        '$.charging_pool.current_pricing."non-member".elements[*]')) AS element
    FROM sync_new
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

_PATHS: Final = (
    "$.name",
    "$.operator.name",
    "$.last_updated",
    "$.address.address",
    "$.address.city",
    "$.address.postal_code",
    "$.address.state",
    "$.address.country",
    "$.address.coordinates.latitude",
    "$.address.coordinates.longitude",
    "$.charging_pool.id",
    "$.charging_pool.model",
    "$.charging_pool.program",
    "$.charging_pool.last_updated",
    '$.charging_pool.current_pricing."non-member".currency',
)


def _counts() -> str:
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
    return f"""
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
    """


def _rows() -> str:
    v = {name: f"v[{i}]" for i, name in enumerate(("name", "operator", "last_updated",
         "address", "city", "postal_code", "state", "country", "latitude", "longitude",
         "pool_id", "pool_model", "pool_program", "pool_last_updated", "currency"), 1)}  # fmt: skip
    special = {
        "id": "n.id",
        "last_updated": _timestamp(v["last_updated"]),
        "pool_last_updated": _timestamp(v["pool_last_updated"]),
        "latitude": _number(v["latitude"]),
        "longitude": _number(v["longitude"]),
        "max_power_kw": "e.max_power_kw",
        "energy_price_min": "p.energy_price_min",
        "energy_price_max": "p.energy_price_max",
    }
    columns = []
    for name, kind in LOCATION_COLUMNS:
        if name in special:
            columns.append(f"{special[name]} AS {name}")
        elif name in v:
            columns.append(f"{v[name]} AS {name}")
        else:  # a count from the EVSE/connector aggregates; no EVSE means 0
            columns.append(f"coalesce({name}, 0)::{kind} AS {name}")
    paths = ", ".join(f"'{path}'" for path in _PATHS)
    return f"""
    CREATE OR REPLACE TEMP TABLE sync_rows AS
    SELECT {", ".join(columns)}, n.raw, n.hash
    FROM (SELECT id, raw, hash, json_extract_string(raw, [{paths}]) AS v FROM sync_new) AS n
    {_counts()}
    LEFT JOIN sync_prices AS p ON p.id = n.id
    """


#: The statements that flatten ``sync_new``, in order.
FLATTEN: Final = (_EVSES_RAW, _EVSES, _CONNECTORS, _EVSES_FINAL, _PRICES, _rows())
