"""The ``paren_async`` logger: silent unless the application or ``PAREN_LOG`` turns it on."""

from __future__ import annotations

import logging
import os
from typing import Final

from ._events import BadRecordEvent, DriftEvent, Event, RetryEvent, WalkEvent

__all__ = ["configure_logging_from_env", "log_event"]

ENV_LOG: Final = "PAREN_LOG"
logger: Final = logging.getLogger("paren_async")
# Without a handler of its own, a library's warnings would reach Python's last-resort handler
# and print to stderr in applications that never configured logging.
logger.addHandler(logging.NullHandler())

_configured = False


def configure_logging_from_env() -> None:
    """``PAREN_LOG=debug|info|warning`` sends the library's log lines to stderr, once."""
    global _configured
    level_name = os.environ.get(ENV_LOG, "").strip().upper()
    if _configured or not level_name:
        return
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    _configured = True


def log_event(event: Event) -> None:
    """The logging subscriber: retries at INFO, drift and rejected records at WARNING."""
    if isinstance(event, RetryEvent):
        logger.info(
            "retrying %s %s in %.2fs (attempt %d failed: %s)",
            event.method,
            event.url,
            event.delay,
            event.attempt,
            event.error.message,
        )
    elif isinstance(event, DriftEvent):
        if event.complete:
            logger.warning(
                "the collection changed near offset %d during a walk of %s: %d repeated "
                "record(s) dropped, %d skipped record(s) recovered",
                event.offset,
                event.path,
                event.duplicates,
                event.recovered,
            )
        else:
            logger.warning(
                "the collection shifted by more than could be re-read near offset %d during a "
                "walk of %s: records there may have been skipped",
                event.offset,
                event.path,
            )
    elif isinstance(event, BadRecordEvent):
        record = event.record
        logger.warning(
            "record %r at offset %d of %s left out: %s (at %s)",
            record.id,
            record.offset,
            event.path,
            record.reason,
            record.path,
        )
    elif isinstance(event, WalkEvent) and event.statistics is not None:
        stats = event.statistics
        if event.error is None:
            logger.info(
                "walk of %s done: %d records in %d pages, %d requests",
                event.path,
                stats.records,
                stats.pages,
                stats.requests,
            )
        else:
            logger.info(
                "walk of %s stopped after %d records: %s",
                event.path,
                stats.records,
                type(event.error).__name__,
            )
