"""The ``paren_async`` logger: silent unless the application or ``PAREN_LOG`` turns it on."""

from __future__ import annotations

import logging
import os
from typing import Final

from ._events import BadRecordEvent, DriftEvent, Event, RetryEvent, WalkEvent, logger

ENV_LOG: Final = "PAREN_LOG"
# Without a handler of its own, a library's warnings would reach Python's last-resort handler
# and print to stderr in applications that never configured logging.
logger.addHandler(logging.NullHandler())
_configured = False


def configure_logging_from_env() -> None:
    """``PAREN_LOG=debug|info|warning`` sends the library's log lines to stderr, once."""
    global _configured
    level = logging.getLevelName(os.environ.get(ENV_LOG, "").strip().upper())
    if _configured or not isinstance(level, int):  # unset or unknown: "Level X", not a number
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    _configured = True


def log_event(event: Event) -> None:
    """The logging subscriber: retries and walk ends at INFO; drift, rejected records at WARNING."""
    args: tuple[object, ...]
    if isinstance(event, RetryEvent):
        args = (event.method, event.url, event.delay, event.attempt, event.error.message)
        logger.info("retrying %s %s in %.2fs (attempt %d failed: %s)", *args)
    elif isinstance(event, DriftEvent) and event.complete:
        args = (event.offset, event.path, event.duplicates, event.recovered)
        logger.warning(
            "the collection changed near offset %d during a walk of %s: %d repeated record(s) "
            "dropped, %d skipped record(s) recovered",
            *args,
        )
    elif isinstance(event, DriftEvent):
        args = (event.offset, event.path)
        logger.warning(
            "the collection shifted by more than could be re-read near offset %d during a walk "
            "of %s: records there may have been skipped",
            *args,
        )
    elif isinstance(event, BadRecordEvent):
        bad = event.record
        args = (bad.id, bad.offset, event.path, bad.reason, bad.path)
        logger.warning("record %r at offset %d of %s left out: %s (at %s)", *args)
    elif isinstance(event, WalkEvent) and (stats := event.statistics) is not None:
        if event.error is None:
            args = (event.path, stats.records, stats.pages, stats.requests)
            logger.info("walk of %s done: %d records in %d pages, %d requests", *args)
        else:
            args = (event.path, stats.records, type(event.error).__name__)
            logger.info("walk of %s stopped after %d records: %s", *args)
