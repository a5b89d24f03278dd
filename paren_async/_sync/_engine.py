"""A sync: walk the endpoint into scratch NDJSON, then one DuckDB transaction applies it.

The database is opened first: DuckDB's file lock refuses a second sync of the same file before
anything is walked, and the scratch file beside it (``INTO.sync.ndjson``) is therefore ours alone.
SIGINT/SIGTERM during the walk stop it and leave the database untouched (exit 130); during the
transaction they wait for it, so a run is either wholly applied or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Final

from paren_async import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    ParenClient,
    ParenError,
    UsageError,
)
from paren_async._harvest import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_USAGE,
)

from ._apply import Run, ScopeError, apply
from ._outcome import SyncOutcome
from ._walk import walk_into

__all__ = ["SyncOptions", "duckdb_missing", "exit_code_for", "sync"]

#: Suffix of the scratch file beside the database.
SCRATCH: Final = ".sync.ndjson"


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """What to sync: ``into`` a DuckDB file, from the Metadata (default) or Realtime endpoint."""

    into: Path
    realtime: bool = False
    filters: dict[str, str] = field(default_factory=dict)
    page_size: int = 100
    concurrency: int | None = None

    @property
    def endpoint(self) -> str:
        return "realtime" if self.realtime else "metadata"


def duckdb_missing() -> str | None:
    """A message when DuckDB is not installed, else None."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return "sync needs DuckDB: pip install 'paren-async[duckdb]'"
    return None


def exit_code_for(error: BaseException) -> int:
    """The exit code for an error that ended a sync (the codes of ``paren-async harvest``)."""
    if isinstance(error, AuthenticationError):
        return EXIT_AUTH
    if isinstance(error, (BadRequestError, NotFoundError, UsageError)):
        return EXIT_USAGE
    if isinstance(error, ParenError):
        return EXIT_API
    return EXIT_OUTPUT


def _fail(outcome: SyncOutcome, error: BaseException, code: int) -> SyncOutcome:
    outcome.status, outcome.exit_code = "failed", code
    outcome.error = str(error) or type(error).__name__
    outcome.error_type = type(error).__name__
    return outcome


async def sync(
    client: ParenClient, options: SyncOptions, *, handle_signals: bool = True
) -> SyncOutcome:
    """Run one sync. Failures and interruptions come back in the outcome, never raised.

    ``handle_signals``: stop cleanly on SIGINT/SIGTERM (main thread only).
    """
    import duckdb

    outcome = SyncOutcome(options.into, options.endpoint)
    try:
        connection = duckdb.connect(str(options.into))
    except (duckdb.Error, OSError) as exc:  # locked by another sync, unwritable, not DuckDB...
        return _fail(outcome, exc, EXIT_OUTPUT)
    scratch = options.into.with_name(options.into.name + SCRATCH)
    started = time.monotonic()
    try:
        connection.execute("SET TimeZone = 'UTC'")  # zone-less timestamps are UTC
        started_at = datetime.now(timezone.utc)
        with _signals(handle_signals) as stopped:
            try:
                walk = await walk_into(
                    client,
                    scratch,
                    realtime=options.realtime,
                    filters=options.filters,
                    page_size=options.page_size,
                    concurrency=options.concurrency,
                )
            except asyncio.CancelledError:
                if not stopped:
                    raise  # cancelled by our caller: not ours to handle
                outcome.status, outcome.exit_code = "interrupted", EXIT_INTERRUPTED
                outcome.error = f"stopped by {stopped[0]}"
                outcome.elapsed = time.monotonic() - started
                return outcome
            except OSError as exc:
                return _fail(outcome, exc, EXIT_OUTPUT)
        outcome.walk = walk
        run = Run(
            endpoint=options.endpoint,
            filters=options.filters,
            started_at=started_at,
            complete=walk.complete,
            unrecovered_drift=walk.unrecovered_drift,
            error=str(walk.error) if walk.error else None,
        )
        try:
            outcome.counts = apply(connection, scratch, run, ended_at=datetime.now(timezone.utc))
        except (ScopeError, duckdb.Error, OSError) as exc:
            return _fail(outcome, exc, EXIT_USAGE if isinstance(exc, ScopeError) else EXIT_OUTPUT)
        finally:
            outcome.elapsed = time.monotonic() - started
        if walk.error is not None:
            outcome.status, outcome.exit_code = "partial", exit_code_for(walk.error)
            outcome.error, outcome.error_type = str(walk.error), type(walk.error).__name__
        elif not walk.complete:
            outcome.status, outcome.exit_code = "partial", EXIT_OK
        else:
            outcome.status, outcome.exit_code = "done", EXIT_OK
        return outcome
    finally:
        connection.close()
        with contextlib.suppress(FileNotFoundError):
            scratch.unlink()


@contextlib.contextmanager
def _signals(enabled: bool) -> Iterator[list[str]]:
    """While walking, SIGINT/SIGTERM cancel the current task; yields the signals received."""
    received: list[str] = []
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    installed: list[signal.Signals] = []

    def stop(name: str) -> None:
        received.append(name)
        if task is not None and len(received) == 1:
            task.cancel()

    if enabled:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop, sig.name)
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                continue  # not the main thread, or no loop signal support (Windows)
            installed.append(sig)
    try:
        yield received
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
