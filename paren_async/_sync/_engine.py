"""A sync: walk the endpoint into NDJSON chunks that one DuckDB transaction applies as they come.

The database is opened first: DuckDB's file lock refuses a second sync of the same file before
anything is walked, and the scratch chunks beside it (``INTO.sync.N.ndjson``) are ours alone.
SIGINT/SIGTERM during the walk stop it and roll back (exit 130); after the walk they wait for
the commit, so a run is either wholly applied or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import glob
import signal
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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

from ._apply import Run, ScopeError, Transaction
from ._chunks import Chunks
from ._connect import connect
from ._outcome import SyncOutcome
from ._walk import walk_into

__all__ = ["SyncOptions", "duckdb_missing", "exit_code_for", "sync"]

#: Scratch chunks live beside the database as ``INTO.sync.N.ndjson``.
SCRATCH: Final = ".sync"


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

    ``handle_signals``: SIGINT/SIGTERM during the walk stop the sync and leave the database
    unchanged (main thread only); once the walk is over, the commit goes ahead.
    """
    import duckdb

    outcome = SyncOutcome(options.into, options.endpoint)
    try:
        connection = connect(options.into)
    except (duckdb.Error, OSError) as exc:  # locked by another sync, unwritable, not DuckDB...
        return _fail(outcome, exc, EXIT_OUTPUT)
    stem = options.into.with_name(options.into.name + SCRATCH)
    _remove_scratch(stem)  # left by a killed run
    started = time.monotonic()
    # One worker: DuckDB applies chunks in order, in a thread (it releases the GIL), while
    # the event loop goes on walking.
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paren-async-sync")
    transaction = Transaction(
        connection, Run(options.endpoint, options.filters, datetime.now(timezone.utc))
    )
    pending: list[Future[None]] = []

    def ready(chunk: Path) -> None:
        for future in pending:
            if future.done() and (error := future.exception()) is not None:
                raise error  # stop the walk: the transaction cannot be committed
        pending.append(worker.submit(transaction.add, chunk))

    def idle() -> bool:
        return not pending or pending[-1].done()  # the worker applies chunks in order

    chunks = Chunks(stem, ready, idle=idle)
    committed = False
    try:
        connection.execute("SET TimeZone = 'UTC'")  # zone-less timestamps are UTC
        # While the walk goes on, one DuckDB thread: a chunk's statements are small (one row
        # group) and gain nothing from more, while DuckDB's idle workers take CPU from the walk
        # and the server (measured: 100,000 records at 20 ms, 5.1-5.6 s with 2 threads, 4.7-4.8 s
        # with 1). The removals and the commit after the walk get them all back.
        connection.execute("SET threads = 1")
        await asyncio.wrap_future(worker.submit(transaction.begin))
        with _signals(handle_signals) as signals:
            try:
                walk = await walk_into(
                    client,
                    chunks,
                    realtime=options.realtime,
                    filters=options.filters,
                    page_size=options.page_size,
                    concurrency=options.concurrency,
                )
                outcome.walk = walk
                chunks.close()
                for future in pending:
                    await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                if not signals.received:
                    raise  # cancelled by our caller: not ours to handle
                outcome.status, outcome.exit_code = "interrupted", EXIT_INTERRUPTED
                outcome.error = f"stopped by {signals.received[0]}"
                return outcome
            signals.cancel = False  # from here on a signal waits for the commit
            error = str(walk.error) if walk.error else None
            connection.execute("RESET threads")
            finish = functools.partial(
                transaction.finish,
                complete=walk.complete,
                unrecovered_drift=walk.unrecovered_drift,
                error=error,
                ended_at=datetime.now(timezone.utc),
            )
            outcome.counts = await asyncio.wrap_future(worker.submit(finish))
            committed = True
    except (ScopeError, duckdb.Error, OSError) as exc:
        return _fail(outcome, exc, EXIT_USAGE if isinstance(exc, ScopeError) else EXIT_OUTPUT)
    finally:
        outcome.elapsed = time.monotonic() - started
        chunks.discard()
        if not committed:
            connection.interrupt()  # the statement running in the worker, if any
        worker.shutdown(wait=True, cancel_futures=True)
        if not committed:
            with contextlib.suppress(duckdb.Error):
                transaction.rollback()
        connection.close()
        _remove_scratch(stem)
    if walk.error is not None:
        outcome.status, outcome.exit_code = "partial", exit_code_for(walk.error)
        outcome.error, outcome.error_type = str(walk.error), type(walk.error).__name__
    else:
        outcome.status, outcome.exit_code = ("done" if walk.complete else "partial"), EXIT_OK
    return outcome


def _remove_scratch(stem: Path) -> None:
    for chunk in stem.parent.glob(f"{glob.escape(stem.name)}.*.ndjson"):
        with contextlib.suppress(FileNotFoundError):
            chunk.unlink()


@dataclass
class _Signals:
    received: list[str] = field(default_factory=list)
    cancel: bool = True


@contextlib.contextmanager
def _signals(enabled: bool) -> Iterator[_Signals]:
    """SIGINT/SIGTERM cancel the current task while ``cancel`` is set; all are recorded."""
    state = _Signals()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    installed: list[signal.Signals] = []

    def stop(name: str) -> None:
        state.received.append(name)
        if task is not None and state.cancel and len(state.received) == 1:
            task.cancel()

    if enabled:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop, sig.name)
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                continue  # not the main thread, or no loop signal support (Windows)
            installed.append(sig)
    try:
        yield state
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
