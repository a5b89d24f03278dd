"""How a sync ended: the exit code (harvest's codes), a summary for people and one JSON line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from paren_async._harvest import EXIT_OUTPUT

from ._apply import Counts
from ._walk import Walk

__all__ = ["Status", "SyncOutcome"]

#: ``done``: a complete walk applied. ``partial``: the walk stopped early (an API error) or met
#: drift it could not repair; what it saw was applied, nothing was removed. ``failed``: nothing
#: was applied. ``interrupted``: SIGINT/SIGTERM before the commit; nothing was applied.
Status = Literal["done", "partial", "failed", "interrupted"]


@dataclass(slots=True)
class SyncOutcome:
    into: Path
    endpoint: str
    status: Status = "failed"
    exit_code: int = EXIT_OUTPUT
    counts: Counts | None = None
    walk: Walk | None = None
    #: Seconds from the start of the walk to the commit (or the failure).
    elapsed: float = 0.0
    error: str | None = None
    error_type: str | None = None

    @property
    def rate(self) -> float:
        """Records per second, walk and database work together."""
        records = self.counts.records if self.counts else 0
        return records / self.elapsed if self.elapsed > 0 else 0.0

    def as_json(self) -> dict[str, object]:
        """The machine-readable summary: one JSON object for schedulers."""
        c, w = self.counts, self.walk
        return {
            "event": f"sync.{self.status}",
            "exit": self.exit_code,
            "run_id": c.run_id if c else None,
            "records": c.records if c else (w.records if w else 0),
            "added": c.added if c else 0,
            "changed": c.changed if c else 0,
            "removed": c.removed if c else 0,
            "status_changes": c.status_changes if c else 0,
            "price_changes": c.price_changes if c else 0,
            "changes": c.changes if c else 0,
            "refreshed": c.refreshed if c else 0,
            "rejected": c.rejected if c else 0,
            "duplicates": c.duplicates if c else 0,
            "complete": bool(w and w.complete and c),
            "unrecovered_drift": w.unrecovered_drift if w else 0,
            "pages": w.pages if w else 0,
            "requests": w.requests if w else 0,
            "retries": w.retries if w else 0,
            "walk_s": round(w.elapsed, 3) if w else 0.0,
            "elapsed_s": round(self.elapsed, 3),
            "records_per_s": round(self.rate, 1),
            "into": str(self.into),
            "endpoint": self.endpoint,
            "error": self.error,
            "error_type": self.error_type,
        }

    def lines(self) -> list[str]:
        """The human summary."""
        c, w = self.counts, self.walk
        if c is None:
            head = "sync interrupted" if self.status == "interrupted" else "sync failed"
            lines = [f"{head}: {self.error}; {self.into} is unchanged"]
            if w is not None and w.records:
                lines.append(f"  walked {w.records:,} records in {w.pages:,} pages first")
            return lines
        lines = [
            f"sync {'done' if self.status == 'done' else 'partial'}: {c.records:,} records "
            f"into {self.into} (run {c.run_id}) in {self.elapsed:.1f} s ({self.rate:,.0f}/s)",
            f"  {c.added:,} added, {c.changed:,} changed, {c.removed:,} removed; "
            f"{c.status_changes:,} status and {c.price_changes:,} price changes "
            f"({c.changes:,} change rows)",
        ]
        if c.refreshed:
            lines.append(f"  {c.refreshed:,} records differed only in timestamps")
        if c.duplicates or c.rejected:
            lines.append(
                f"  {c.duplicates:,} repeated ids kept once; "
                f"{c.rejected:,} records without an id skipped"
            )
        if self.status == "partial":
            why = self.error or f"{w.unrecovered_drift if w else 0} unrepaired drift events"
            lines.append(f"  the walk was incomplete ({why}): nothing was marked removed")
        return lines
