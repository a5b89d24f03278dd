"""What one harvest is asked to do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ._export import Format
from ._rows import Family

__all__ = ["ENDPOINT_PATHS", "HarvestOptions"]

#: The path each family walks (the client's, per paren-api.md): part of a harvest's identity.
ENDPOINT_PATHS: Final[dict[Family, str]] = {
    "metadata": "/metadata/v1/locations",
    "realtime": "/realtime/v1/locations",
}


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
    #: The server harvested; ``harvest()`` sets it from the client it is given.
    base_url: str = ""
    #: Records expected, for the progress bar's ETA (default: ``max_items``).
    expected: int | None = None
    #: Seconds between background fsync + checkpoint: about the most a crash can cost.
    checkpoint_interval: float = 1.0

    @property
    def family(self) -> Family:
        return "realtime" if self.realtime else "metadata"

    def run(self) -> dict[str, object]:
        """What the checkpoint's fingerprint covers: what is harvested, from where, into what.

        A resume must match every entry: another server, path or filter would mix two datasets in
        one file.
        """
        return {
            "base_url": self.base_url.rstrip("/"),
            "endpoint": self.family,
            "path": ENDPOINT_PATHS[self.family],
            "filters": dict(sorted(self.filters.items())),
            "format": self.format,
            "max_items": self.max_items,
            "offset": self.offset,
            "page_size": self.page_size,
        }
