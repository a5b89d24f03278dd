"""``paren-async sync``: every location of an endpoint into a DuckDB file, with a change history.

Credentials come from ``PAREN_API_KEY`` / ``PAREN_API_SECRET`` only, as for ``harvest``. The
summary goes to stderr; stdout carries exactly one JSON line (``{"event": "sync.done", ...}``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from . import EXIT_USAGE

__all__ = ["register"]

EPILOG = """\
credentials:
  PAREN_API_KEY and PAREN_API_SECRET, from the environment only; PAREN_BASE_URL or
  --base-url for another host.

database (DuckDB):
  locations   current state: one flat row per location, its raw JSON and content hash
  evses       current EVSEs (location_id, evse_id); connectors: (..., connector_id)
  changes     one row per change: run_id, observed_at, location_id, evse_id, change
              (added, removed, changed, status, price), field, before, after
  runs        one row per sync: times, endpoint, filters, counts, complete
  A sync is one transaction: interrupted or killed, the database keeps its previous state.
  Removals are recorded only after a complete walk. One database holds one endpoint and one
  set of filters.

exit codes:
  0    done (also a walk that met unrepaired drift: applied, nothing removed)
  2    bad arguments or configuration (also the server's 400/404, missing duckdb, a database
       holding another endpoint or other filters)
  3    authentication failed (401/403); nothing was walked
  4    the API or the network kept failing after retries: what was walked was applied
       (additions and changes, never removals); run again later
  5    database problem: locked by another process, unwritable, not a DuckDB file
  130  interrupted (SIGINT/SIGTERM) before the commit: the database is unchanged
"""


def _filter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def _count(low: int, high: int) -> type[int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer from {low} to {high}")
        return value

    return parse  # type: ignore[return-value]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="sync every location into a DuckDB database, recording what changed",
        description="Sync every location of the Metadata (default) or Realtime API into a "
        "DuckDB database: current state plus a history of additions, removals, status and "
        "price changes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--into", type=Path, required=True, metavar="DB", help="DuckDB file, e.g. stations.duckdb")
    add("--realtime", action="store_true", help="sync the Realtime API instead of Metadata")
    add("--filter", type=_filter, nargs="+", action="extend", default=[], metavar="KEY=VALUE",
        help="query filter passed to the API, e.g. state=NY (each key once)")  # fmt: skip
    add("--concurrency", type=_count(1, 64), help="pages in flight (default: 8)")
    add("--page-size", type=_count(1, 100), default=100, help="records per page (default: 100)")
    add("--base-url", help="API base URL (default: PAREN_BASE_URL or https://api.paren.app)")
    add("--max-attempts", type=_count(1, 100), default=4, help="attempts per request (default: 4)")
    add("--quiet", "-q", action="store_true", help="no summary on stderr")
    parser.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"paren-async sync: error: {message}", file=sys.stderr)
    print(json.dumps({"event": "sync.failed", "exit": EXIT_USAGE, "error": message}))
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    from paren_async import ParenClient, RetryPolicy, UsageError
    from paren_async._harvest import EXIT_INTERRUPTED
    from paren_async._sync import SyncOptions, SyncOutcome, duckdb_missing, sync

    if missing := duckdb_missing():
        return _fail(missing)
    keys = [key for key, _ in args.filter]
    if repeated := sorted({key for key in keys if keys.count(key) > 1}):
        return _fail(f"--filter {', '.join(repeated)} given more than once: the API takes one")
    key, secret = os.environ.get("PAREN_API_KEY"), os.environ.get("PAREN_API_SECRET")
    if not key or not secret:
        return _fail("set PAREN_API_KEY and PAREN_API_SECRET in the environment")
    options = SyncOptions(
        into=args.into,
        realtime=args.realtime,
        filters=dict(args.filter),
        page_size=args.page_size,
        concurrency=args.concurrency,
    )

    async def main() -> SyncOutcome:
        client = ParenClient(
            key, secret, base_url=args.base_url, retry=RetryPolicy(max_attempts=args.max_attempts)
        )
        async with client:
            return await sync(client, options)

    try:
        outcome = asyncio.run(main())
    except UsageError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:  # before the sync's own handlers were installed
        print("paren-async sync: interrupted", file=sys.stderr)
        print(json.dumps({"event": "sync.interrupted", "exit": EXIT_INTERRUPTED}))
        return EXIT_INTERRUPTED
    if not args.quiet or outcome.exit_code != 0:
        for line in outcome.lines():
            print(line, file=sys.stderr)
    print(json.dumps(outcome.as_json()), flush=True)
    return outcome.exit_code
