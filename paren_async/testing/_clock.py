"""``FakeClock`` and ``StatusChange``: move the emulator's time by hand, know what changed."""

from __future__ import annotations

import math
import time
from typing import NamedTuple

__all__ = ["FakeClock", "StatusChange"]


class FakeClock:
    """A clock for ``ParenEmulator(clock=...)`` that moves only when told to.

    Calling it returns the current epoch seconds (``start`` defaults to the real time, floored to
    a whole status period so that the first ``advance(30)`` crosses exactly one). Realtime EVSE
    statuses change once per ``ParenEmulator.STATUS_PERIOD`` seconds of this clock, and envelope
    timestamps follow it too.
    """

    def __init__(self, start: float | None = None, *, period: float = 30.0) -> None:
        now = time.time() if start is None else start
        if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
            raise ValueError(f"start must be finite epoch seconds, got {start!r}")
        self._now = float(now if start is not None else now // period * period)

    def __call__(self) -> float:
        return self._now

    def __repr__(self) -> str:
        return f"<FakeClock {self._now:.6f}>"

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (>= 0); returns the new time."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be finite and >= 0, got {seconds!r}")
        self._now += seconds
        return self._now


class StatusChange(NamedTuple):
    """One EVSE whose realtime status differs between two clock values."""

    location_id: str
    evse_id: str
    before: str
    after: str
