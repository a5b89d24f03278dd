"""What one harvest is asked to do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ._export import Format
from ._rows import Family

__all__ = ["HarvestOptions"]


@dataclass(frozen=True, slots=True)
class HarvestOptions:
    out: Path
    format: Format = "ndjson"
    realtime: bool = False
    offset: int = 0
    max_items: int | None = None
    page_size: int = 100
    concurrency: int | None = None
    filters: Mapping[str, str] = field(default_factory=dict)
    resume: bool = False
    #: Discard an unfinished harvest of the same output instead of refusing (the demo's choice).
    fresh: bool = False
    #: Records expected, for the progress bar's ETA (default: ``max_items``).
    expected: int | None = None
    #: Seconds between background fsync + checkpoint: about the most a crash can cost.
    checkpoint_interval: float = 1.0

    @property
    def family(self) -> Family:
        return "realtime" if self.realtime else "metadata"

    def run(self) -> dict[str, object]:
        """What the checkpoint's fingerprint covers: what is harvested, and into what format."""
        return {
            "endpoint": self.family,
            "filters": dict(sorted(self.filters.items())),
            "format": self.format,
            "max_items": self.max_items,
            "offset": self.offset,
            "page_size": self.page_size,
        }
