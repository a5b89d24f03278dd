"""What changed in a location whose content hash changed: ``changes`` rows, in DuckDB SQL.

Inputs: ``sync_delta(id, kind, old_raw, ...)`` with ``kind`` in ``added``/``changed``/
``removed``, ``sync_new`` (the new records), ``sync_evses`` (the new EVSE rows) and the ``evses``
table (the old ones, not yet replaced). Parameters: ``$run`` (run id) and ``$at`` (observed_at).

A hash says *that* a record's bytes changed; these statements say *what*. Timestamps
(``last_updated`` at every level) are bookkeeping: operators bump them without a change, so a
record whose only difference is a timestamp yields no row (the sync counts it as refreshed). The
rows, ``field`` being a JSON path from the location:

- ``added`` / ``removed``: a whole location (``evse_id`` NULL; ``before`` is the removed JSON),
  or one EVSE of a location that stayed (``evse_id`` set).
- ``status``: an EVSE's ``status`` (``before``/``after`` the two statuses).
- ``price``: ``charging_pool.current_pricing`` (``before``/``after`` its JSON).
- ``changed``: any other field: a top-level key (``name``, ``address``, ``operator``...), a
  charging-pool key (``charging_pool.model``...), or an EVSE's connectors (``field``
  ``connectors``; ``before``/``after`` their modelled fields as JSON, timestamps left out).
  Fields inside an EVSE that paren-async does not model are not compared.

Objects are compared as DuckDB re-serialises them (minified, key order kept); string values are
written without their JSON quotes.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DIFF"]

_ROW: Final = "$run, $at"

_LOCATIONS: Final = f"""
INSERT INTO changes
SELECT {_ROW}, id, NULL, kind, NULL, CASE WHEN kind = 'removed' THEN old_raw END, NULL
FROM sync_delta WHERE kind IN ('added', 'removed')
"""

# What is left of a record without its EVSEs, pricing and timestamps (compared apart): one parse
# per document, and the key by key comparison only for the records where that rest differs.
_REST: Final = (
    """{"last_updated":null,"""
    """"charging_pool":{"evses":null,"last_updated":null,"current_pricing":null}}"""
)
_DOCS: Final = f"""
CREATE OR REPLACE TEMP TABLE sync_docs AS
SELECT id,
       json_merge_patch(old_rest, '{{"charging_pool":null}}') AS old_top,
       json_merge_patch(new_rest, '{{"charging_pool":null}}') AS new_top,
       coalesce(json_extract(old_rest, '$.charging_pool'), '{{}}') AS old_pool,
       coalesce(json_extract(new_rest, '$.charging_pool'), '{{}}') AS new_pool
FROM (
    SELECT d.id, json_merge_patch(d.old_raw, '{_REST}') AS old_rest,
           json_merge_patch(n.raw, '{_REST}') AS new_rest
    FROM sync_delta AS d JOIN sync_new AS n USING (id) WHERE d.kind = 'changed'
)
WHERE old_rest IS DISTINCT FROM new_rest
"""


def _keys(old: str, new: str, prefix: str) -> str:
    # A JSON pointer per key ("~" and "/" escaped), so any key is addressable, hyphens included.
    pointer = "'/' || replace(replace(key, '~', '~0'), '/', '~1')"
    return f"""
    SELECT id, '{prefix}' || key AS field,
           json_extract({old}, {pointer}) AS before_json,
           json_extract({new}, {pointer}) AS after_json,
           json_extract_string({old}, {pointer}) AS before,
           json_extract_string({new}, {pointer}) AS after
    FROM (
        SELECT id, {old}, {new},
               unnest(list_distinct(list_concat(json_keys({old}), json_keys({new})))) AS key
        FROM sync_docs WHERE {old} IS DISTINCT FROM {new}
    )
    """


_FIELDS: Final = f"""
INSERT INTO changes
SELECT {_ROW}, id, NULL, 'changed', field, before, after
FROM ({_keys("old_top", "new_top", "")} UNION ALL {_keys("old_pool", "new_pool", "charging_pool.")})
WHERE before_json IS DISTINCT FROM after_json
"""

_PRICE: Final = f"""
INSERT INTO changes
SELECT {_ROW}, id, NULL, 'price', 'charging_pool.current_pricing', old_pricing, new_pricing
FROM (SELECT d.id, d.old_pricing, n.charging_pool.current_pricing::VARCHAR AS new_pricing
      FROM sync_delta AS d JOIN sync_new AS n USING (id) WHERE d.kind = 'changed')
WHERE old_pricing IS DISTINCT FROM new_pricing
"""

_EVSE_PAIRS: Final = """
CREATE OR REPLACE TEMP TABLE sync_evse_pairs AS
WITH changed AS (SELECT id FROM sync_delta WHERE kind = 'changed')
SELECT coalesce(n.location_id, o.location_id) AS location_id,
       coalesce(n.evse_id, o.evse_id) AS evse_id,
       o.evse_id IS NULL AS added, n.evse_id IS NULL AS removed,
       o.status AS old_status, n.status AS new_status,
       o.content AS old_content, n.content AS new_content
FROM (SELECT * FROM sync_evses WHERE location_id IN (SELECT id FROM changed)) AS n
FULL JOIN (SELECT * FROM evses WHERE location_id IN (SELECT id FROM changed)) AS o
  ON n.location_id = o.location_id AND n.evse_id = o.evse_id
"""

_EVSES: Final = f"""
INSERT INTO changes
SELECT {_ROW}, location_id, evse_id, 'added', NULL, NULL, NULL FROM sync_evse_pairs WHERE added
UNION ALL
SELECT {_ROW}, location_id, evse_id, 'removed', NULL, NULL, NULL
FROM sync_evse_pairs WHERE removed
UNION ALL
SELECT {_ROW}, location_id, evse_id, 'status', 'status', old_status, new_status
FROM sync_evse_pairs WHERE NOT added AND NOT removed AND old_status IS DISTINCT FROM new_status
UNION ALL
SELECT {_ROW}, location_id, evse_id, 'changed', 'connectors', old_content, new_content
FROM sync_evse_pairs
WHERE NOT added AND NOT removed AND old_content IS DISTINCT FROM new_content
"""

#: The statements that write this run's ``changes`` rows, in order (before the tables change).
DIFF: Final = (_LOCATIONS, _DOCS, _FIELDS, _PRICE, _EVSE_PAIRS, _EVSES)
