"""The live, ordered set of locations: which location sits at which offset, and how that drifts.

The order is a sequence of keys (see ``_records``). It starts as ``range(n)``, which costs nothing
even for millions of locations, and becomes a compact ``array`` the first time a record is
inserted or removed. Inserting or removing shifts the offsets of every later record, exactly as in
a live database paged by offset. Filtered views are computed once per (filters, version).
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Mapping, Sequence
from typing import Final

from ._records import RecordFactory

__all__ = ["FILTERS", "LocationStore"]

#: Query parameters that filter locations (matched case-insensitively on the address).
FILTERS: Final = ("city", "postal_code", "state")


class LocationStore:
    def __init__(self, factory: RecordFactory, size: int) -> None:
        self._factory = factory
        self._order: Sequence[int] = range(size)
        self._next_key = size  # keys are never reused, so inserted records get fresh ids
        self._version = 0
        self._views: dict[tuple[tuple[str, str], ...], tuple[int, Sequence[int]]] = {}

    def __len__(self) -> int:
        return len(self._order)

    def ids(self) -> list[str]:
        location_id = self._factory.location_id
        return [location_id(key) for key in self._order]

    def key_of(self, location_id: str) -> int:
        """The key of the current location ``location_id``; ``KeyError`` when there is none."""
        location_id_of = self._factory.location_id
        for key in self._order:
            if location_id_of(key) == location_id:
                return key
        raise KeyError(location_id)

    def keys(self, filters: Mapping[str, str]) -> Sequence[int]:
        """The ordered keys of the locations matching ``filters`` (an empty mapping: all)."""
        if not filters:
            return self._order
        wanted = tuple(sorted((name, value.casefold()) for name, value in filters.items()))
        cached = self._views.get(wanted)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        # Copies share their station's address, so a filter is decided per station.
        stations = {
            index
            for index, station in enumerate(self._factory.stations)
            if all(getattr(station, name).casefold() == value for name, value in wanted)
        }
        station_index = self._factory.station_index
        view = [key for key in self._order if station_index(key) in stations]
        self._views[wanted] = (self._version, view)
        return view

    def _mutable(self) -> array[int]:
        if not isinstance(self._order, array):
            self._order = array("q", self._order)
        self._version += 1
        return self._order

    def insert(self, count: int, at: int) -> list[int]:
        """Insert ``count`` new locations before offset ``at`` (clamped to the end)."""
        keys = range(self._next_key, self._next_key + count)
        self._next_key += count
        order = self._mutable()
        order[at:at] = array("q", keys)
        return list(keys)

    def remove(self, count: int, at: int) -> list[int]:
        """Remove up to ``count`` locations from offset ``at`` on; returns the keys removed."""
        order = self._mutable()
        removed = order[at : at + count].tolist()
        del order[at : at + count]
        return removed

    def drift(self, rng: random.Random) -> tuple[int, int]:
        """One random change, as a live database sees: an insertion or a removal, anywhere.

        Returns how many locations were ``(inserted, removed)``.
        """
        if len(self._order) and rng.random() < 0.5:
            self.remove(1, rng.randrange(len(self._order)))
            return 0, 1
        self.insert(1, rng.randrange(len(self._order) + 1))
        return 1, 0
