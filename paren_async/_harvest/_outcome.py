"""How a harvest ended: exit codes for schedulers, a summary for people and one JSON line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from paren_async import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    ParenError,
    UsageError,
)

from ._checkpoint import Checkpoint, JournalError

__all__ = [
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_OUTPUT",
    "EXIT_USAGE",
    "Outcome",
    "exit_code_for",
    "failed",
    "fill",
]

EXIT_OK: Final = 0
#: Bad arguments or configuration, the server's 400/404 included: retrying will not help.
EXIT_USAGE: Final = 2
#: 401/403: the credentials are missing, wrong or not allowed.
EXIT_AUTH: Final = 3
#: The API or the network kept failing after retries: try again later with ``--resume``.
EXIT_API: Final = 4
#: The output, journal or checkpoint cannot be used (mismatch, disk full, locked...).
EXIT_OUTPUT: Final = 5
#: SIGINT or SIGTERM: stopped cleanly, progress checkpointed.
EXIT_INTERRUPTED: Final = 130

Status = Literal["done", "interrupted", "failed"]


@dataclass(slots=True)
class Outcome:
    status: Status
    exit_code: int
    out: Path
    format: str
    family: str
    records: int = 0
    pages: int = 0
    duplicates: int = 0
    requests: int = 0
    retries: int = 0
    drift_events: int = 0
    recovered: int = 0
    unrecovered_drift: int = 0
    #: Walk offset after the last durable record.
    offset: int = 0
    #: Seconds spent walking, over every run of this harvest.
    elapsed: float = 0.0
    #: This run alone: seconds walking and records written.
    run_elapsed: float = 0.0
    run_records: int = 0
    resumed: bool = False
    #: Size of the finished output in bytes.
    size: int = 0
    checkpoint: Path | None = None
    #: Records the CSV/Parquet export could not take, and where they were written raw.
    rejected: int = 0
    rejects: Path | None = None
    reject_examples: list[str] = field(default_factory=list)
    error: str | None = None
    error_type: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the collection was seen to change during the walk."""
        return bool(self.drift_events or self.duplicates or self.recovered)

    @property
    def rate(self) -> float:
        """Records per second written by this run: ``run_records / run_elapsed``, one span."""
        return self.run_records / self.run_elapsed if self.run_elapsed > 0 else 0.0

    def as_json(self) -> dict[str, object]:
        """The machine-readable summary: one JSON object for schedulers."""
        return {
            "event": f"harvest.{self.status}",
            "exit": self.exit_code,
            "records": self.records,
            "pages": self.pages,
            "duplicates": self.duplicates,
            "changed": self.changed,
            "recovered": self.recovered,
            "unrecovered_drift": self.unrecovered_drift,
            "requests": self.requests,
            "retries": self.retries,
            "offset": self.offset,
            # One span for time and rate: this run. A resumed harvest's earlier runs are in total.
            "run_records": self.run_records,
            "elapsed_s": round(self.run_elapsed, 3),
            "records_per_s": round(self.rate, 1),
            "total_elapsed_s": round(self.elapsed, 3),
            "resumed": self.resumed,
            "out": str(self.out),
            "format": self.format,
            "family": self.family,
            "bytes": self.size,
            "checkpoint": str(self.checkpoint) if self.checkpoint else None,
            "rejected": self.rejected,
            "rejects": str(self.rejects) if self.rejects else None,
            "error": self.error,
            "error_type": self.error_type,
            "notes": self.notes,
        }

    def lines(self) -> list[str]:
        """The human summary."""
        head = {"done": "harvest done", "interrupted": "harvest interrupted", "failed": "failed"}
        span = f"{self.run_elapsed:.1f} s, {self.rate:,.0f} records/s"
        if self.resumed:
            span = (
                f"this run {self.run_records:,} records in {span}; "
                f"{self.elapsed:.1f} s over all runs"
            )
        lines = [
            f"{head[self.status]}: {self.records:,} records in {self.pages:,} pages, "
            f"{span}, {self.retries} retries, {self.duplicates} duplicates dropped"
        ]
        if self.status == "failed" and self.error:
            lines[0] = f"harvest failed: {self.error}"
            if self.pages:
                lines.append(f"  so far: {self.records:,} records in {self.pages:,} pages")
        if self.changed:
            drift = f"  the collection changed during the walk ({self.drift_events} drift events"
            drift += f", {self.recovered} skipped records recovered)"
            lines.append(drift)
        if self.unrecovered_drift:
            lines.append(
                f"  warning: {self.unrecovered_drift} shifts were too large to repair: "
                "records may have been skipped; harvest again to be sure"
            )
        if self.status == "done":
            lines.append(f"  wrote {self.out} ({self.size / 1e6:,.1f} MB, {self.format})")
        if self.rejected:
            lines.append(
                f"  warning: {self.rejected:,} records could not become {self.format} rows; "
                f"they are in {self.rejects}, exactly as received"
            )
            lines.extend(f"    {example}" for example in self.reject_examples)
        elif self.checkpoint is not None:
            lines.append(
                f"  {self.records:,} records are safe; checkpoint at offset {self.offset:,} "
                f"in {self.checkpoint}"
            )
        lines.extend(f"  {note}" for note in self.notes)
        return lines


def fill(outcome: Outcome, state: Checkpoint) -> None:
    outcome.status, outcome.exit_code = "done", EXIT_OK
    for name in ("records", "pages", "duplicates", "requests", "retries", "offset", "elapsed"):
        setattr(outcome, name, getattr(state, name))
    outcome.drift_events, outcome.recovered = state.drift_events, state.recovered
    outcome.unrecovered_drift = state.unrecovered_drift


def exit_code_for(error: BaseException) -> int | None:
    if isinstance(error, AuthenticationError):
        return EXIT_AUTH
    if isinstance(error, (BadRequestError, NotFoundError, UsageError)):
        return EXIT_USAGE
    if isinstance(error, ParenError):
        return EXIT_API
    if isinstance(error, (OSError, JournalError)):
        return EXIT_OUTPUT
    return None


def failed(outcome: Outcome, error: BaseException, exit_code: int) -> Outcome:
    outcome.status, outcome.exit_code = "failed", exit_code
    outcome.error = str(error) or type(error).__name__
    outcome.error_type = type(error).__name__
    return outcome
