"""The ``paren_async`` logger: silent unless the application or ``PAREN_LOG`` turns it on."""

from __future__ import annotations

import logging
import os
from typing import Final

__all__ = ["configure_logging_from_env"]

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
