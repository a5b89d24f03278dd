"""The bulk harvest behind ``paren-async harvest`` and ``paren-async demo``.

Private: the command line is its interface. It uses only the public client API.

- ``_ids``: de-duplication keys sliced from raw records.
- ``_checkpoint``: the checkpoint file, its fingerprint, atomic replacement.
- ``_journal``: the raw NDJSON journal, its background syncs, and the atomic publication.
- ``_options`` / ``_start``: what a harvest asks for; whether it starts, resumes or is refused.
- ``_columns``: the column dictionary (name, type, unit, meaning), as data.
- ``_rows`` / ``_export``: ``flatten()``, one record's raw JSON to its flat row (the one
  flattening of every export); CSV and Parquet, with records that cannot become rows set aside
  raw in ``OUT.rejects.ndjson``.
- ``_progress``: the tqdm bar, log lines, or silence; ``_facts``: the demo's summary of the data.
- ``_outcome``: exit codes and summaries.
- ``_engine``: the walk that ties them together.
"""

from ._engine import harvest
from ._export import FORMATS, Format, parquet_missing
from ._options import HarvestOptions
from ._outcome import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_USAGE,
    Outcome,
)

__all__ = [
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_OUTPUT",
    "EXIT_USAGE",
    "FORMATS",
    "Format",
    "HarvestOptions",
    "Outcome",
    "harvest",
    "parquet_missing",
]
