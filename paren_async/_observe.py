"""What a walk reports as it goes: statistics, the ``on_page`` hook, its span and summary log."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any, Final

from ._events import EventHooks, PageEvent, emit
from ._statistics import Counters
from ._telemetry import Telemetry

__all__ = ["WalkObserver"]

logger: Final = logging.getLogger("paren_async")


class WalkObserver:
    """Observes one walk; every method is cheap when nobody listens."""

    def __init__(
        self,
        path: str,
        *,
        counters: Counters,
        hooks: EventHooks,
        telemetry: Telemetry,
        attributes: dict[str, Any],
    ) -> None:
        self.path = path
        self.counters = counters
        self._hooks = hooks
        self._telemetry = telemetry
        self._attributes = attributes
        self._span: Any = None
        self._started: float | None = None
        self._finished = False
        self.records = 0
        self.pages = 0

    def started(self) -> None:
        if self._started is None:
            self._started = time.monotonic()
            self._span = self._telemetry.start_walk(self.path, self._attributes)

    @contextlib.contextmanager
    def activate(self) -> Iterator[None]:
        """Fetch tasks created inside become children of the walk's span."""
        with self._telemetry.activate(self._span):
            yield

    def page(self, offset: int, records: int) -> None:
        self.records += records
        self.pages += 1
        elapsed = time.monotonic() - (self._started or time.monotonic())
        emit(self._hooks.on_page, lambda: PageEvent(self.path, offset, records, elapsed))

    def finished(self, error: BaseException | None, *, resume_offset: int) -> None:
        if self._finished or self._started is None:
            return
        self._finished = True
        elapsed = time.monotonic() - self._started
        if error is None:
            logger.info(
                "walk of %s done: %d records in %d pages, %.2fs",
                self.path,
                self.records,
                self.pages,
                elapsed,
            )
        else:
            logger.info(
                "walk of %s stopped after %d records (resume with offset=%d): %s",
                self.path,
                self.records,
                resume_offset,
                type(error).__name__,
            )
        self._telemetry.end_walk(self._span, self.records, error)
