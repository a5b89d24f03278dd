"""``paren-async columns``: the column dictionary of the CSV and Parquet exports.

Printed from the same data the exports are built from (``paren_async._harvest._columns``), as a
table, Markdown, JSON, or ready-made typed readers for DuckDB and pandas: CSV carries no types,
and both guess ``postal_code`` as an integer (losing leading zeros) unless told otherwise.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from . import EXIT_OK

if TYPE_CHECKING:
    from paren_async._harvest._columns import Column

__all__ = ["register", "render"]

_FORMATS = ("text", "markdown", "json", "duckdb", "pandas")
#: pandas dtypes per kind: nullable ones, so an empty cell stays missing instead of failing.
_PANDAS = {"string": "string", "float": "Float64", "int": "Int32"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "columns",
        help="the column dictionary of the CSV and Parquet exports",
        description="Print every column of a CSV or Parquet harvest: name, type, unit, meaning. "
        "--format duckdb or pandas prints a reader that keeps each column's type, postal codes "
        "as text included.",
    )
    add = parser.add_argument
    add("--realtime", action="store_true", help="the Realtime export's columns (default: Metadata)")
    add("--format", choices=_FORMATS, default="text", help="default: %(default)s")
    add("--csv", default="locations.csv", metavar="PATH",
        help="the CSV file named in duckdb and pandas readers (default: %(default)s)")  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from paren_async._harvest._columns import columns

    print(render(columns("realtime" if args.realtime else "metadata"), args.format, args.csv))
    return EXIT_OK


def render(cols: tuple[Column, ...], fmt: str, csv_path: str = "locations.csv") -> str:
    """The dictionary ``cols`` as ``fmt`` (one of ``text``, ``markdown``, ``json``, ``duckdb``,
    ``pandas``)."""
    if fmt == "json":
        return json.dumps(
            [
                {"name": c.name, "type": c.kind, "sql_type": c.sql_type, "unit": c.unit,
                 "meaning": c.meaning}
                for c in cols
            ],
            indent=2,
        )  # fmt: skip
    if fmt == "markdown":
        lines = ["| column | type | unit | meaning |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.kind} | {c.unit} | {c.meaning} |" for c in cols]
        return "\n".join(lines)
    if fmt == "duckdb":
        types = ",\n    ".join(f"'{c.name}': '{c.sql_type}'" for c in cols)
        path = csv_path.replace("'", "''")
        return f"SELECT * FROM read_csv('{path}', header = true, columns = {{\n    {types}\n}});"
    if fmt == "pandas":
        dtype = {c.name: _PANDAS[c.kind] for c in cols if c.kind in _PANDAS}
        stamps = [c.name for c in cols if c.kind == "timestamp"]
        return (
            "import pandas as pd\n\n"
            f"frame = pd.read_csv(\n    {csv_path!r},\n"
            f"    dtype={json.dumps(dtype)},\n"
            f"    parse_dates={json.dumps(stamps)},\n)"
        )
    width = max(len(c.name) for c in cols)
    unit_width = max(len(c.unit) for c in cols)
    return "\n".join(
        f"{c.name:<{width}}  {c.kind:<9}  {c.unit:<{unit_width}}  {c.meaning}" for c in cols
    )
