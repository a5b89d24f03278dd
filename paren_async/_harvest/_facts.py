"""A few facts a person wants from a harvest: networks, connector standards, states, cities."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from paren_async import ParenError

from ._rows import Family, decoder_for

__all__ = ["Facts", "facts"]

NO_NETWORK = "(no network)"


@dataclass(slots=True)
class Facts:
    locations: int = 0
    evses: int = 0
    connectors: int = 0
    networks: Counter[str] = field(default_factory=Counter)
    standards: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    cities: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    funded: Counter[str] = field(default_factory=Counter)
    #: Records the typed models refuse: skipped here, one at a time.
    unreadable: int = 0


def facts(path: Path, family: Family = "metadata") -> Facts:
    """Tally an NDJSON harvest through the typed models."""
    decode = decoder_for(family)
    result = Facts()
    with open(path, "rb") as file:
        for line in file:
            try:
                location = decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError, ParenError):
                result.unreadable += 1
                continue
            result.locations += 1
            operator = location.operator.name if location.operator else None
            result.networks[operator or NO_NETWORK] += 1
            result.states[location.address.state or "?"] += 1
            result.cities[location.address.city or "?"] += 1
            pool = location.charging_pool
            if pool.program:
                result.funded[pool.program] += 1
            for evse in pool.evses:
                result.evses += 1
                result.statuses[evse.status or "?"] += 1
                for connector in evse.connectors:
                    result.connectors += 1
                    result.standards[connector.standard or "?"] += 1
    return result


def top(counter: Counter[str], n: int = 4) -> str:
    """``"A 40% · B 21% · C 9%"``: the ``n`` most common values with their shares."""
    total = sum(counter.values()) or 1
    return " · ".join(f"{name} {count / total:.0%}" for name, count in counter.most_common(n))
