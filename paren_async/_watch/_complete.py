"""Whether a walk that ended saw the whole collection: the one place the watch decides it.

Client-wide statistics stand in for the walk's own until the core offers a per-walk flag
(``statistics().complete`` of the walk): another walk of the same client drifting at the same
time only makes the watch more careful, never less.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paren_async import ClientStatistics, ParenClient

__all__ = ["WalkCheck"]


class WalkCheck:
    """Drift counters before a walk, compared with those after it."""

    def __init__(self, client: ParenClient) -> None:
        self._client = client
        self._before = client.statistics()

    def _after(self) -> ClientStatistics:
        return self._client.statistics()

    def complete(self) -> bool:
        """No drift went unrecovered during the walk (so nothing was skipped knowingly)."""
        return self._after().unrecovered_drift == self._before.unrecovered_drift

    def drifted(self) -> bool:
        """The collection changed under the walk (repaired or not)."""
        return self._after().drift_events != self._before.drift_events
