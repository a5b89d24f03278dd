"""What a person or a log collector sees while a harvest runs.

On a terminal: a tqdm bar (records, rate, pages, retries; an ETA when the total is known). tqdm is
the ``cli`` extra: a bar that handles terminal width, rate smoothing and redraws is not worth
writing again. Elsewhere (cron, Airflow, containers): a plain line every few seconds. Quiet:
nothing. The engine calls ``update()`` a few times a second, never per record.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, TextIO

__all__ = ["NO_BAR_HINT", "Progress", "Tally", "library_logs", "make_progress"]

LOG_INTERVAL: Final = 5.0
#: On a terminal without tqdm: a progress line this often (seconds), after this hint.
NO_BAR_INTERVAL: Final = 1.0
NO_BAR_HINT: Final = (
    "paren-async: no progress bar (tqdm is missing): pip install 'paren-async[cli]' for one"
)
Mode = Literal["auto", "bar", "log", "quiet"]


@dataclass(slots=True)
class Tally:
    """The harvest's running counters; totals include earlier runs of a resumed harvest."""

    records: int = 0
    pages: int = 0
    walked: int = 0
    duplicates: int = 0
    retries: int = 0
    offset: int = 0
    #: ``records`` when this run started, and when (monotonic), for this run's rate.
    first_records: int = 0
    started: float = 0.0

    def rate(self, now: float) -> float:
        elapsed = now - self.started
        return (self.records - self.first_records) / elapsed if elapsed > 0 else 0.0


class Progress(Protocol):
    def update(self, tally: Tally, now: float) -> None: ...

    def message(self, text: str) -> None: ...

    def close(self) -> None: ...


class Silent:
    def update(self, tally: Tally, now: float) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class LogLines:
    """A plain line every ``interval`` seconds: what schedulers' log viewers show well."""

    def __init__(self, stream: TextIO, *, total: int | None, interval: float = LOG_INTERVAL):
        self._stream = stream
        self._total = total
        self._interval = interval
        self._next: float | None = None

    def update(self, tally: Tally, now: float) -> None:
        if self._next is None:
            self._next = tally.started + self._interval
        if now < self._next:
            return
        self._next = now + self._interval
        of = f"/{self._total:,}" if self._total is not None else ""
        self.message(
            f"{tally.records:,}{of} records, {tally.pages:,} pages, "
            f"{tally.rate(now):,.0f} records/s, {tally.retries} retries, "
            f"{tally.duplicates} duplicates, offset {tally.offset:,}"
        )

    def message(self, text: str) -> None:
        print(f"paren-async harvest: {text}", file=self._stream, flush=True)

    def close(self) -> None:
        pass


class Bar:
    """A tqdm bar on ``stream``, counting records written."""

    def __init__(self, tqdm: Any, stream: TextIO, *, total: int | None, initial: int) -> None:
        self._bar = tqdm(
            total=total,
            initial=initial,
            desc="harvest",
            unit=" rec",
            unit_scale=True,
            dynamic_ncols=True,
            mininterval=0.2,
            smoothing=0.2,
            file=stream,
        )

    def update(self, tally: Tally, now: float) -> None:
        self._bar.set_postfix_str(
            f"{tally.pages:,} pages, {tally.retries} retries, {tally.duplicates} dup",
            refresh=False,
        )
        self._bar.update(tally.records - self._bar.n)

    def message(self, text: str) -> None:
        self._bar.write(f"paren-async harvest: {text}", file=self._bar.fp)

    def close(self) -> None:
        self._bar.close()


def make_progress(mode: Mode, stream: TextIO, *, total: int | None, initial: int) -> Progress:
    """The progress display for ``mode``; ``auto`` is a bar on a terminal, else log lines."""
    if mode == "quiet":
        return Silent()
    if mode == "auto":
        mode = "bar" if stream.isatty() else "log"
    if mode == "bar":
        try:
            from tqdm import tqdm
        except ImportError:
            # The cli extra is not installed: say how to get the bar, and show a line often
            # enough that a person watching does not see a silent terminal.
            print(NO_BAR_HINT, file=stream, flush=True)
            return LogLines(stream, total=total, interval=NO_BAR_INTERVAL)
        return Bar(tqdm, stream, total=total, initial=initial)
    return LogLines(stream, total=total)


class _ToProgress(logging.Handler):
    def __init__(self, progress: Progress, level: int) -> None:
        super().__init__(level)
        self._progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._progress.message(record.getMessage())
        except Exception:  # pragma: no cover - never let a log line break the harvest
            self.handleError(record)


@contextlib.contextmanager
def library_logs(progress: Progress) -> Iterator[None]:
    """Show the client's own log lines (retries, drift) through ``progress`` while a run lasts.

    Log lines get retries too (INFO); a bar only warnings; quiet nothing, not even Python's
    last-resort printing of warnings.
    """
    logger = logging.getLogger("paren_async")
    if isinstance(progress, Silent):
        handler: logging.Handler = logging.NullHandler()
    else:
        handler = _ToProgress(
            progress, logging.INFO if isinstance(progress, LogLines) else logging.WARNING
        )
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(min(handler.level or logging.WARNING, logger.getEffectiveLevel()))
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
