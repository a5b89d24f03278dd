"""The emulator's run-time behaviour: one frozen value, replaced whole by ``configure()``."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Final

from ._faults import Fault

__all__ = ["UNCHANGED", "Settings", "Unchanged"]


class Unchanged(enum.Enum):
    """Type of :data:`UNCHANGED`: an option left out of ``configure()`` keeps its value."""

    UNCHANGED = enum.auto()

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged.UNCHANGED


def _seconds(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")


def _probability(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")


@dataclass(frozen=True, slots=True)
class Settings:
    latency: float
    jitter: float
    fault_rate: float
    #: Cumulative weights, see ``_faults.normalize_mix``.
    faults: tuple[tuple[Fault, float], ...]
    retry_after: float
    hang: float
    drift_rate: float
    gzip: bool
    page_cap: int | None
    ignore_offset: bool
    #: Send a weak ``ETag`` over each page's records and answer ``If-None-Match`` with 304.
    etag: bool = False

    def __post_init__(self) -> None:
        for name in ("latency", "jitter", "retry_after", "hang"):
            _seconds(name, getattr(self, name))
        _probability("fault_rate", self.fault_rate)
        _probability("drift_rate", self.drift_rate)
        if self.page_cap is not None and (
            isinstance(self.page_cap, bool)
            or not isinstance(self.page_cap, int)
            or self.page_cap < 1
        ):
            raise ValueError(f"page_cap must be an int >= 1 or None, got {self.page_cap!r}")
