"""The harvest: walk an endpoint's raw pages into the journal, checkpoint, then publish atomically.

A resume reaches back before the checkpointed offset, since records removed while the harvest was
stopped shift later ones to lower offsets, past the checkpoint. It starts one page (``page_size``
records) back and drops ids already written; if the first record there is not one already
written, more than a page of records moved, so it reaches back twice as far, and so on (down to
the harvest's first offset). Because offsets follow a stable order, a first record already
written proves that every record not yet written lies after it: none is lost, whatever was
removed. Records inserted before the checkpoint while stopped are new since the walk passed there;
like insertions behind a live walk, only the next harvest sees them.

Per page the engine only slices ids (``_ids``), joins the new records and appends them: records
are never decoded, so a harvest keeps pace with ``client.locations().raw()``. Everything slower
(progress, statistics, checkpoints) happens a few times a second.

The walk runs in its own task so that SIGINT/SIGTERM cancel exactly the walk; the finishing steps
(a last fsync and checkpoint, or the publication) then run undisturbed in the caller's task.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any, Final, TextIO

from paren_async import PageStream, ParenClient

from ._checkpoint import Checkpoint, JournalError, Paths, remove
from ._export import ExportStopped
from ._ids import IdSet
from ._journal import Journal, as_lines
from ._options import HarvestOptions
from ._outcome import EXIT_INTERRUPTED, EXIT_OUTPUT, Outcome, exit_code_for, failed, fill
from ._progress import Mode, Progress, Silent, Tally, library_logs, make_progress
from ._start import open_journal

__all__ = ["harvest"]

#: Seconds between progress refreshes.
TICK: Final = 0.25


async def harvest(
    client: ParenClient,
    options: HarvestOptions,
    *,
    stream: TextIO,
    progress: Mode = "auto",
    handle_signals: bool = True,
) -> Outcome:
    """Run or resume one harvest. Failures and interruptions come back as the ``Outcome``."""
    # The checkpoint is bound to the server actually asked, whatever the options said.
    options = dataclasses.replace(options, base_url=client.base_url)
    outcome = Outcome("failed", EXIT_OUTPUT, options.out, options.format, options.family)
    try:
        journal, start = open_journal(Paths.for_output(options.out), options, outcome)
    except (JournalError, OSError) as exc:
        return failed(outcome, exc, EXIT_OUTPUT)
    if journal is None:
        return outcome  # an earlier run had done everything but remove its checkpoint
    try:
        return await _Run(client, options, journal, start, outcome).execute(
            progress, stream, handle_signals
        )
    finally:
        journal.close()


def _nothing_found(options: HarvestOptions) -> str:
    """Say plainly that an empty harvest is empty, and what may explain it."""
    if options.filters:
        shown = " ".join(f"{key}={value}" for key, value in options.filters.items())
        return f"no records: nothing matched the filters {shown} (check the names and values)"
    return "no records: the endpoint returned none" + (
        f" from offset {options.offset:,}" if options.offset else ""
    )


class _Run:
    def __init__(
        self,
        client: ParenClient,
        options: HarvestOptions,
        journal: Journal,
        start: Checkpoint,
        outcome: Outcome,
    ) -> None:
        self._client = client
        self._options = options
        self._journal = journal
        self._start = start
        self._outcome = outcome
        self._ids = IdSet()
        self._tally = Tally()
        self._base = client.statistics()
        self._walks: list[PageStream[bytes]] = []
        self._display: Progress = Silent()
        self._walk_task: asyncio.Task[None] | None = None
        self._signal: str | None = None
        self._stop = threading.Event()
        self._published = False
        #: Records dropped as already written while a resume re-read before its checkpoint.
        self._reread = 0

    async def execute(self, progress: Mode, stream: TextIO, handle_signals: bool) -> Outcome:
        start, journal, outcome, tally = self._start, self._journal, self._outcome, self._tally
        if start.size and self._ids.load_file(journal.file, start.size) != start.records:
            mismatch = JournalError(f"{journal.paths.part} does not match its checkpoint")
            return failed(outcome, mismatch, EXIT_OUTPUT)
        journal.file.seek(start.size)
        tally.records = tally.first_records = start.records
        tally.pages, tally.walked, tally.offset = start.pages, start.walked, start.offset
        tally.duplicates, tally.retries = start.duplicates, start.retries
        total = self._options.expected or self._options.max_items
        self._display = make_progress(progress, stream, total=total, initial=start.records)
        tally.started = time.monotonic()
        error: BaseException | None = None
        with self._signals(handle_signals), library_logs(self._display):
            if not start.done:
                if outcome.resumed:
                    self._display.message(
                        f"resuming at offset {start.offset:,} with {start.records:,} records "
                        f"(re-reading up to {self._options.page_size:,} records before it, for "
                        "records shifted by removals while stopped)"
                    )
                self._walk_task = asyncio.get_running_loop().create_task(self._walk())
                try:
                    await asyncio.wait({self._walk_task})
                except asyncio.CancelledError:
                    self._walk_task.cancel()
                    raise
                if not self._walk_task.cancelled():
                    error = self._walk_task.exception()
                elif self._signal is None:
                    raise asyncio.CancelledError  # cancelled by our caller: not ours to handle
            self._refresh(time.monotonic())
            self._display.close()
            try:
                error = await self._finish(error)
            except ExportStopped:
                pass  # the journal and its done checkpoint stay: --resume publishes again
            except (OSError, JournalError) as exc:
                return failed(outcome, exc, EXIT_OUTPUT)
        if self._signal is not None and not self._published:
            outcome.status, outcome.exit_code = "interrupted", EXIT_INTERRUPTED
            outcome.checkpoint = journal.paths.checkpoint
            outcome.error = f"stopped by {self._signal}"
        elif error is not None:
            code = exit_code_for(error)
            if code is None:
                raise error
            return failed(outcome, error, code)
        if outcome.status == "done" and outcome.records == 0:
            outcome.notes.append(_nothing_found(self._options))
        return outcome

    async def _finish(self, error: BaseException | None) -> BaseException | None:
        """Make what was written durable; publish it when the walk is complete."""
        start, journal, outcome, tally = self._start, self._journal, self._outcome, self._tally
        run_elapsed = 0.0 if start.done else time.monotonic() - tally.started
        done = error is None and self._signal is None
        state = self._state(done=done, elapsed=start.elapsed + run_elapsed)
        fill(outcome, state)
        outcome.run_elapsed, outcome.run_records = run_elapsed, tally.records - start.records
        if not done and tally.walked == 0:
            journal.close()  # nothing harvested: leave nothing behind to resume
            remove(journal.paths.part)
            remove(journal.paths.checkpoint)
            return error
        if isinstance(error, (OSError, JournalError)):
            # The journal itself failed: the last durable checkpoint, if any, stands.
            if journal.durable is not None and journal.durable.walked:
                outcome.checkpoint = journal.paths.checkpoint
            return error
        await journal.sync(state)
        if not done:
            outcome.checkpoint = journal.paths.checkpoint
            return error
        if self._options.format != "ndjson":
            self._display.message(f"writing {self._options.format} to {self._options.out}")
        outcome.size, rejects = await asyncio.to_thread(
            journal.publish, self._options.format, self._options.family, self._stop.is_set
        )
        if rejects is not None and rejects.count:
            outcome.rejected, outcome.rejects = rejects.count, rejects.path
            outcome.reject_examples = rejects.examples
        self._published = True  # a signal that came too late to stop anything changes nothing
        return None

    async def _walk(self) -> None:
        start, options = self._start, self._options
        back = options.page_size if start.records else 0
        while True:
            first = max(options.offset, start.offset - back)
            if await self._walk_from(first):
                return
            back *= 2
            self._display.message(
                f"the record at offset {first:,} was not harvested before: more than "
                f"{start.offset - first:,} records moved while stopped; reaching back "
                f"to offset {max(options.offset, start.offset - back):,}"
            )

    async def _walk_from(self, first: int) -> bool:
        """Walk from offset ``first``; False when a resume must reach back further (see above)."""
        start, options, ids = self._start, self._options, self._ids
        rewound = start.offset - first
        walked = max(0, start.walked - rewound)
        remaining = None if options.max_items is None else max(0, options.max_items - walked)
        endpoint = self._client.realtime_locations if options.realtime else self._client.locations
        filters: dict[str, Any] = dict(options.filters)
        pager = endpoint(
            page_size=options.page_size,
            offset=first,
            max_items=remaining,
            concurrency=options.concurrency,
            **filters,
        )
        tally, journal, fresh = self._tally, self._journal, ids.fresh
        tally.walked = walked
        check = rewound > 0 and first > options.offset
        interval = options.checkpoint_interval
        tick = time.monotonic() + min(TICK, interval)
        next_sync = time.monotonic() + interval
        pages = pager.raw_pages()
        self._walks.append(pages)
        async with pages:
            async for page in pages:
                records = page.items
                if check:
                    check = False
                    if page.offset != first or not records or not ids.known(records[0]):
                        return False
                dropped = ids.duplicates
                kept = fresh(records)
                if page.offset < start.offset:  # expected re-reads, not drift
                    self._reread += min(ids.duplicates - dropped, start.offset - page.offset)
                if kept:
                    tally.records += len(kept)
                    journal.append(as_lines(kept))
                tally.pages += 1
                tally.walked += len(records)
                tally.offset = page.next_offset
                now = time.monotonic()
                if now >= tick:
                    tick = now + min(TICK, interval)
                    self._refresh(now)
                    if now >= next_sync and journal.maybe_sync(self._state()):
                        next_sync = now + interval
        return not check  # an empty walk after reaching back proves nothing

    def _refresh(self, now: float) -> None:
        state = self._state()
        self._tally.retries, self._tally.duplicates = state.retries, state.duplicates
        self._display.update(self._tally, now)

    def _state(self, *, done: bool = False, elapsed: float | None = None) -> Checkpoint:
        """The checkpoint describing everything appended so far."""
        start, tally = self._start, self._tally
        now, base = self._client.statistics(), self._base
        walks = [walk.statistics() for walk in self._walks]

        def grown(name: str) -> int:
            # This run's walks' own numbers; retries are counted by the client only.
            if name == "retries":
                return now.retries - base.retries
            return sum(int(getattr(walk, name)) for walk in walks)

        return Checkpoint(
            fingerprint=start.fingerprint,
            run=start.run,
            offset=tally.offset,
            size=self._journal.size,
            records=tally.records,
            walked=tally.walked,
            duplicates=start.duplicates
            + self._ids.duplicates
            - self._reread
            + grown("duplicates_dropped"),
            pages=tally.pages,
            requests=start.requests + grown("requests"),
            retries=start.retries + grown("retries"),
            drift_events=start.drift_events + grown("drift_events"),
            recovered=start.recovered + grown("records_recovered"),
            unrecovered_drift=start.unrecovered_drift + grown("unrecovered_drift"),
            elapsed=start.elapsed + (time.monotonic() - tally.started)
            if elapsed is None
            else elapsed,
            done=done,
        )

    @contextlib.contextmanager
    def _signals(self, enabled: bool) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        if enabled:
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(sig, self._on_signal, sig.name)
                except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                    continue  # not the main thread, or no loop signal support (Windows)
                installed.append(sig)
        try:
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    def _on_signal(self, name: str) -> None:
        if self._signal is not None:
            return  # already stopping; the last checkpoint takes a moment
        self._signal = name
        self._stop.set()
        if self._walk_task is not None and not self._walk_task.done():
            self._walk_task.cancel()
