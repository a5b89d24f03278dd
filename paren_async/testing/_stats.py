"""What the emulator saw and did: the request log and the counters behind ``statistics()``."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from ._faults import Fault

__all__ = ["EmulatorStatistics", "Recorder", "RequestRecord"]

#: Requests kept in ``ParenEmulator.requests``; older ones are dropped (counters keep counting).
LOG_SIZE: Final = 100_000
REDACTED: Final = "<redacted>"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the emulator handled it. Times are ``time.monotonic()`` seconds."""

    method: str
    path: str
    #: Query parameters (first value of each name).
    query: Mapping[str, str]
    #: Request headers; the ``Authorization`` value is replaced by ``"<redacted>"``.
    headers: Mapping[str, str]
    #: HTTP status sent, or ``None`` when no status line was sent (reset, hang ended by close).
    status: int | None
    fault: Fault | None
    #: Locations in the body (0 unless a page was served).
    records: int
    started: float
    finished: float

    @property
    def offset(self) -> int | None:
        """The ``offset`` asked for, when it was a valid number."""
        text = self.query.get("offset", "0")
        return int(text) if text.isdigit() else None


@dataclass(frozen=True, slots=True)
class EmulatorStatistics:
    """Counters since start or the last ``reset_statistics()``; an immutable snapshot."""

    requests: int
    in_flight: int
    max_in_flight: int
    #: Distinct client connections (by peer address) that sent requests.
    connections: int
    by_status: Mapping[int, int]
    faults: Mapping[Fault, int]
    pages_served: int
    records_served: int
    bytes_sent: int
    inserted: int
    removed: int


class Recorder:
    """The mutable side of the statistics, owned by one emulator."""

    def __init__(self) -> None:
        self.log: deque[RequestRecord] = deque(maxlen=LOG_SIZE)
        self.in_flight = 0
        self.reset()

    def reset(self) -> None:
        self.log.clear()
        self.requests = 0
        self.max_in_flight = self.in_flight
        self.peers: set[object] = set()
        self.by_status: Counter[int] = Counter()
        self.faults: Counter[Fault] = Counter()
        self.pages = 0
        self.records = 0
        self.bytes_sent = 0
        self.inserted = 0
        self.removed = 0

    def begin(self, peer: object) -> None:
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.peers.add(peer)

    def end(self, record: RequestRecord, body_size: int, *, page: bool) -> None:
        self.in_flight -= 1
        self.log.append(record)
        if record.status is not None:
            self.by_status[record.status] += 1
        if record.fault is not None:
            self.faults[record.fault] += 1
        if page:
            self.pages += 1
        self.records += record.records
        self.bytes_sent += body_size

    def snapshot(self) -> EmulatorStatistics:
        return EmulatorStatistics(
            requests=self.requests,
            in_flight=self.in_flight,
            max_in_flight=self.max_in_flight,
            connections=len(self.peers),
            by_status=MappingProxyType(dict(self.by_status)),
            faults=MappingProxyType(dict(self.faults)),
            pages_served=self.pages,
            records_served=self.records,
            bytes_sent=self.bytes_sent,
            inserted=self.inserted,
            removed=self.removed,
        )
