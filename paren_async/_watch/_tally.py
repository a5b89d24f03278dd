"""Counting a watch's events for people and schedulers: a status line per cycle, a summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ._events import (
    CycleEnded,
    EvseStatusChanged,
    LocationAdded,
    LocationChanged,
    LocationRemoved,
    PriceChanged,
    WatchEvent,
)

__all__ = ["Tally"]

_KINDS: dict[type, str] = {
    LocationAdded: "added",
    LocationRemoved: "removed",
    EvseStatusChanged: "status",
    PriceChanged: "price",
    LocationChanged: "other",
}


@dataclass
class Tally:
    """Events counted per kind, for the current cycle and for the whole run."""

    cycle: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    cycles: int = 0
    complete_cycles: int = 0
    last: CycleEnded | None = None

    def count(self, event: WatchEvent) -> None:
        if isinstance(event, CycleEnded):
            self.cycles += 1
            self.complete_cycles += event.complete
            self.last = event
            return
        kind = _KINDS[type(event)]
        self.cycle[kind] += 1
        self.total[kind] += 1

    def status_line(self, end: CycleEnded) -> str:
        """One human line about the cycle that just ended; resets the cycle's counts."""
        counts = ", ".join(f"{self.cycle[kind]:,} {kind}" for kind in _KINDS.values())
        state = "complete" if end.complete else f"INCOMPLETE ({end.error})"
        extra = f", {end.deferred:,} removal(s) deferred" if end.deferred else ""
        extra += f", {end.bad_records:,} bad record(s)" if end.bad_records else ""
        self.cycle.clear()
        return (
            f"watch: cycle {end.cycle} {state}: {end.changes:,} changes ({counts}){extra}; "
            f"{end.records:,} records, {end.locations:,} locations known, {end.duration:.2f} s"
        )

    def summary(self) -> dict[str, Any]:
        return {
            "cycles": self.cycles,
            "complete_cycles": self.complete_cycles,
            "last_cycle": self.last.cycle if self.last else None,
            "locations": self.last.locations if self.last else None,
            "events": sum(self.total.values()),
            **{kind: self.total[kind] for kind in _KINDS.values()},
        }
