"""Whether a walk that ended saw the whole collection: the one place the watch decides it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paren_async import PageStream

__all__ = ["WalkCheck"]


class WalkCheck:
    """Reads a finished walk's own statistics (``PageStream.statistics()``)."""

    def __init__(self, walk: PageStream[Any]) -> None:
        self._walk = walk

    def complete(self) -> bool:
        """No drift went unrecovered during the walk (so nothing was skipped knowingly)."""
        return self._walk.statistics().unrecovered_drift == 0

    def drifted(self) -> bool:
        """The collection changed under the walk (repaired or not)."""
        return self._walk.statistics().drift_events > 0
