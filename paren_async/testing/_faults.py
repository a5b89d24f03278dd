"""What can go wrong on purpose: the fault kinds, the random mix, and explicit schedules.

Random faults are decided by a hash of (seed, path, query, how many times that exact request was
seen), not by arrival order: a client walking with 16 pages in flight meets the same faults at
the same offsets on every run, and its retry of a failed request gets a fresh draw.
"""

from __future__ import annotations

import enum
import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = ["DEFAULT_FAULT_MIX", "Fault", "FaultPlan"]


class Fault(enum.Enum):
    """A way for the emulator to misbehave; see each member for what goes on the wire."""

    #: HTTP 500 with the error envelope.
    SERVER_ERROR = "server_error"
    #: HTTP 502 with an HTML page, as a reverse proxy sends.
    BAD_GATEWAY = "bad_gateway"
    #: HTTP 503 with an empty body.
    SERVICE_UNAVAILABLE = "service_unavailable"
    #: HTTP 504 with an HTML page, as a reverse proxy sends.
    GATEWAY_TIMEOUT = "gateway_timeout"
    #: HTTP 429 with ``Retry-After`` (the emulator's ``retry_after`` seconds) and the envelope.
    RATE_LIMITED = "rate_limited"
    #: The connection is reset (TCP RST) before any response byte.
    CONNECTION_RESET = "connection_reset"
    #: Headers announce the full ``Content-Length``; half the body follows, then the connection
    #: closes.
    TRUNCATED_BODY = "truncated_body"
    #: HTTP 200 with an HTML maintenance page instead of JSON.
    HTML_200 = "html_200"
    #: HTTP 200 whose body is the error envelope with ``"status_code": 500``.
    ERROR_IN_200 = "error_in_200"
    #: No response for the emulator's ``hang`` seconds, then the normal page; ended at shutdown.
    HANG = "hang"
    #: The page at offset 0 is served, whatever ``offset`` was asked for.
    IGNORE_OFFSET = "ignore_offset"
    #: A short page (half the ``limit``, at least 1) though more records follow.
    PAGE_CAP = "page_cap"


#: The random mix when ``faults`` is not given: only faults a retrying client survives, so that
#: ``fault_rate`` alone never turns a good client's walk into a failure.
DEFAULT_FAULT_MIX: Final[Mapping[Fault, float]] = MappingProxyType(
    {
        Fault.SERVER_ERROR: 3,
        Fault.BAD_GATEWAY: 2,
        Fault.SERVICE_UNAVAILABLE: 2,
        Fault.GATEWAY_TIMEOUT: 1,
        Fault.RATE_LIMITED: 2,
        Fault.CONNECTION_RESET: 1,
        Fault.TRUNCATED_BODY: 1,
        Fault.ERROR_IN_200: 1,
    }
)


def normalize_mix(faults: Mapping[Fault, float] | None) -> tuple[tuple[Fault, float], ...]:
    """Validated cumulative weights, normalised to end at 1."""
    mix = DEFAULT_FAULT_MIX if faults is None else faults
    if not isinstance(mix, Mapping):
        raise TypeError("faults must be a mapping of Fault to weight")
    for fault, weight in mix.items():
        if not isinstance(fault, Fault):
            raise TypeError(f"faults keys must be Fault members, got {fault!r}")
        if not weight >= 0:
            raise ValueError(f"fault weights must be >= 0, got {weight!r} for {fault}")
    total = sum(mix.values())
    if not total > 0:
        raise ValueError("faults needs at least one positive weight")
    cumulative: list[tuple[Fault, float]] = []
    running = 0.0
    for fault, weight in mix.items():
        running += weight
        cumulative.append((fault, running / total))
    return tuple(cumulative)


@dataclass(slots=True)
class _Scheduled:
    fault: Fault
    remaining: int | None  # None: until cleared
    offset: int | None
    path: str | None

    def matches(self, path: str, offset: int) -> bool:
        return (self.path is None or self.path == path) and (
            self.offset is None or self.offset == offset
        )


class FaultPlan:
    """Decides the fault, if any, for each valid API request."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._schedule: list[_Scheduled] = []
        self._seen: Counter[str] = Counter()

    def inject(
        self, fault: Fault, *, times: int | None, offset: int | None, path: str | None
    ) -> None:
        if not isinstance(fault, Fault):
            raise TypeError(f"fault must be a Fault member, got {fault!r}")
        if times is not None and (isinstance(times, bool) or times < 1):
            raise ValueError(f"times must be >= 1 or None, got {times!r}")
        if offset is not None and offset < 0:
            raise ValueError(f"offset must be >= 0, got {offset!r}")
        self._schedule.append(_Scheduled(fault, times, offset, path))

    def clear(self) -> None:
        self._schedule.clear()

    def pending(self) -> int:
        return len(self._schedule)

    def pick(
        self,
        *,
        path: str,
        offset: int,
        request_key: str,
        rate: float,
        mix: tuple[tuple[Fault, float], ...],
    ) -> Fault | None:
        """The fault for this request: the first matching schedule, else a random draw."""
        for entry in self._schedule:
            if entry.matches(path, offset):
                if entry.remaining is not None:
                    entry.remaining -= 1
                    if entry.remaining == 0:
                        self._schedule.remove(entry)
                return entry.fault
        if rate <= 0:
            return None
        self._seen[request_key] += 1
        text = f"{self._seed}|{request_key}|{self._seen[request_key]}"
        draw = hashlib.shake_128(text.encode()).digest(16)
        if int.from_bytes(draw[:8], "big") / 2**64 >= rate:
            return None
        which = int.from_bytes(draw[8:], "big") / 2**64
        return next((fault for fault, bound in mix if which < bound), mix[-1][0])
