"""``WatchState``: what a watch remembers per location between cycles, and how it is saved.

Per location: a 64-bit content hash, the EVSE ids and statuses as one compact string, and the
raw ``current_pricing`` bytes, interned so that locations with the same price share one object
(networks price whole fleets alike). About 350 bytes a location (``benchmarks/bench_watch.py``),
never the whole record.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

import msgspec

from paren_async._exceptions import UsageError
from paren_async.models import CurrentPricing

from ._events import EvseState, LocationState
from ._record import EVSE_SEP, FIELD_SEP, decode_pricing

__all__ = ["Entry", "WatchState", "evse_pairs", "filter_key", "small_state"]

_FORMAT: Final = 1


class Unset(enum.Enum):
    UNSET = enum.auto()


UNSET: Final = Unset.UNSET


class Entry(msgspec.Struct, gc=False):
    """One location's memory; ``seen`` is the number of the last cycle that saw it.

    ``missed``: a complete cycle during which the collection drifted did not see it; the next
    complete cycle that misses it too removes it.
    """

    digest: int
    evses: str
    pricing: bytes | None
    seen: int
    missed: bool = False


class _Saved(msgspec.Struct, array_like=True):
    format: int
    filters: dict[str, str]
    cycle: int
    baseline: bool
    prices: list[bytes]
    #: (id, digest, evses, index into prices or -1, missed)
    locations: list[tuple[str, int, str, int, bool]]


def filter_key(filters: Mapping[str, object]) -> dict[str, str]:
    """Filters as a state remembers them, to refuse resuming a watch of other filters."""
    return {name: str(value) for name, value in sorted(filters.items())}


def evse_pairs(evses: str) -> Iterator[tuple[str, str | None]]:
    """(EVSE id, status or None) from the compact text of an ``Entry``."""
    if not evses:
        return
    for part in evses.split(EVSE_SEP):
        evse_id, _, status = part.partition(FIELD_SEP)
        yield evse_id, status or None


def small_state(entry: Entry, pricing: CurrentPricing | Unset | None = UNSET) -> LocationState:
    """The public ``LocationState`` of an entry (its pricing was valid when stored)."""
    return LocationState(
        evses=tuple(EvseState(evse_id, status) for evse_id, status in evse_pairs(entry.evses)),
        current_pricing=decode_pricing(entry.pricing) if pricing is UNSET else pricing,
        content_hash=f"{entry.digest:016x}",
    )


class WatchState:
    """A watch's memory: pass one as ``watch_realtime(..., resume=state)`` to continue it.

    The watch updates it in place as it goes. ``cycle`` is the number of the last cycle run,
    ``baseline`` whether a complete cycle has been seen (before that, ``first_cycle="silent"``
    keeps new locations quiet). ``save(path)`` writes it atomically (msgpack, about 100 bytes a
    location plus distinct prices); ``WatchState.load(path)`` reads it back. Save it between
    events (for example on each ``CycleEnded``), when it is consistent.
    """

    def __init__(self, filters: Mapping[str, object] | None = None) -> None:
        self.filters = filter_key(filters or {})
        self.cycle = 0
        self.baseline = False
        self.entries: dict[str, Entry] = {}

    def __repr__(self) -> str:
        return f"<WatchState cycle={self.cycle} locations={len(self.entries)}>"

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, location_id: object) -> bool:
        return location_id in self.entries

    def location(self, location_id: str) -> LocationState | None:
        """The last known state of a location, or None when it is not known."""
        entry = self.entries.get(location_id)
        return None if entry is None else small_state(entry)

    def check_filters(self, filters: Mapping[str, object]) -> None:
        if filter_key(filters) != self.filters:
            raise UsageError(
                f"this state watches filters {self.filters}, not {filter_key(filters)}: "
                "resume with the same filters, or start a new state"
            )

    # -- persistence --

    def dumps(self) -> bytes:
        prices: dict[bytes, int] = {}
        rows = []
        for location_id, entry in self.entries.items():
            index = -1 if entry.pricing is None else prices.setdefault(entry.pricing, len(prices))
            rows.append((location_id, entry.digest, entry.evses, index, entry.missed))
        saved = _Saved(_FORMAT, self.filters, self.cycle, self.baseline, list(prices), rows)
        return msgspec.msgpack.encode(saved)

    @classmethod
    def loads(cls, data: bytes) -> WatchState:
        """Raises ``ValueError`` for data that is not a saved state of this format."""
        try:
            saved = msgspec.msgpack.decode(data, type=_Saved)
        except msgspec.DecodeError as exc:
            raise ValueError(f"not a saved watch state: {exc}") from None
        if saved.format != _FORMAT:
            raise ValueError(f"watch state format {saved.format} is not {_FORMAT}")
        state = cls()
        state.filters, state.cycle, state.baseline = saved.filters, saved.cycle, saved.baseline
        prices = saved.prices
        try:
            state.entries = {
                location_id: Entry(digest, evses, prices[index] if index >= 0 else None, 0, missed)
                for location_id, digest, evses, index, missed in saved.locations
            }
        except IndexError:
            raise ValueError("watch state refers to a price it does not hold") from None
        return state

    def save(self, path: str | os.PathLike[str]) -> None:
        """Replace ``path`` atomically (write, fsync, rename): it is always a whole state."""
        target = Path(path)
        temporary = target.with_name(f".{target.name}.tmp")
        with open(temporary, "wb") as file:
            file.write(self.dumps())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
        if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
            directory = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> WatchState:
        """Raises ``OSError`` when unreadable, ``ValueError`` when not a saved state."""
        return cls.loads(Path(path).read_bytes())
