"""Real seed data for the emulator: the AFDC list of New York's public charging stations.

The CSV ships inside the package (``data/``, with its attribution README) and is parsed once per
process. Everything here is pure: stations in, plain values out. How a station becomes the JSON
of a Paren location lives in ``_records.py``.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

__all__ = ["Connector", "PriceComponent", "Station", "connectors_for", "load_stations", "prices"]

_DATA_FILE: Final = "afdc-ny-ev-stations.csv.gz"


@dataclass(frozen=True, slots=True)
class Station:
    """One AFDC station row, with the fields the emulator uses, already parsed."""

    afdc_id: str
    name: str
    street: str
    city: str
    state: str
    postal_code: str
    country: str
    latitude: str  # kept as written: real records echo the source's exact decimals
    longitude: str
    access: str
    access_detail: str
    hours: str
    phone: str
    level1: int
    level2: int
    dc_fast: int
    network: str
    connector_codes: tuple[str, ...]
    pricing_text: str
    facility_type: str
    funding: str
    open_date: str
    updated_at: str  # ISO-8601 UTC with Z


@dataclass(frozen=True, slots=True)
class Connector:
    """An OCPI connector: what an AFDC connector code means at one charging level."""

    standard: str
    format: str
    power_type: str
    max_voltage: int
    max_amperage: int

    @property
    def max_electric_power(self) -> int:
        return self.max_voltage * self.max_amperage


@dataclass(frozen=True, slots=True)
class PriceComponent:
    """One priced dimension read from the AFDC pricing text (``type`` is an open set)."""

    type: str
    price: float


# AFDC connector code -> OCPI connector, per level. A code absent from a level's table does not
# fit that level (e.g. CHADEMO is DC only); NEMA sockets are domestic outlets, hence SOCKET.
_LEVEL1: Final = {
    "J1772": Connector("IEC_62196_T1", "CABLE", "AC_1_PHASE", 120, 16),
    "NEMA515": Connector("DOMESTIC_B", "SOCKET", "AC_1_PHASE", 120, 12),
    "NEMA520": Connector("NEMA_5_20", "SOCKET", "AC_1_PHASE", 120, 16),
}
_LEVEL2: Final = {
    "J1772": Connector("IEC_62196_T1", "CABLE", "AC_1_PHASE", 240, 32),
    "TESLA": Connector("SAE_J3400", "CABLE", "AC_1_PHASE", 240, 48),
    "NEMA1450": Connector("NEMA_14_50", "SOCKET", "AC_1_PHASE", 240, 40),
    "NEMA520": Connector("NEMA_5_20", "SOCKET", "AC_1_PHASE", 120, 16),
}
_DC: Final = {
    "J1772COMBO": Connector("IEC_62196_T1_COMBO", "CABLE", "DC", 750, 200),
    "CHADEMO": Connector("CHADEMO", "CABLE", "DC", 500, 125),
    "TESLA": Connector("SAE_J3400", "CABLE", "DC", 500, 500),
}
_FALLBACK: Final = {1: "J1772", 2: "J1772", 3: "J1772COMBO"}
_TABLES: Final = {1: _LEVEL1, 2: _LEVEL2, 3: _DC}


def connectors_for(codes: tuple[str, ...], level: int) -> tuple[Connector, ...]:
    """The connectors of one EVSE of ``level`` (1, 2, or 3 for DC fast) at a station with ``codes``.

    A station lists its codes once for all its ports, so every port of a level gets each code that
    fits that level; a level whose codes are all missing gets the level's usual connector.
    """
    table = _TABLES[level]
    fitting = tuple(table[code] for code in codes if code in table)
    return fitting or (table[_FALLBACK[level]],)


_AMOUNT: Final = re.compile(r"\$\s*(\d+(?:\.\d+)?)")


def prices(text: str) -> tuple[PriceComponent, ...]:
    """Price components stated in AFDC's free-text pricing, in the order written.

    Each ``;``/``,``/``+``-separated clause contributes its first dollar amount, typed by its
    words: per kWh -> ENERGY, per session or initiation fee -> FLAT, per hour -> TIME (or
    PARKING_TIME, or the non-OCPI IDLE_FEE). "Free" alone means an energy price of 0. Clauses
    without an amount and a unit (e.g. "free for internal use") are skipped.
    """
    lowered = text.lower()
    if lowered.startswith("free") and "$" not in lowered:
        return (PriceComponent("ENERGY", 0.0),)
    found: list[PriceComponent] = []
    for clause in re.split(r"[;,+]", lowered):
        amount = _AMOUNT.search(clause)
        if amount is None:
            continue
        price = float(amount.group(1))
        if "kwh" in clause:
            kind = "ENERGY"
        elif "session" in clause or "initiation" in clause:
            kind = "FLAT"
        elif "hour" in clause or "/hr" in clause:
            if "idle" in clause:
                kind = "IDLE_FEE"
            elif "parking" in clause:
                kind = "PARKING_TIME"
            else:
                kind = "TIME"
        else:
            continue
        found.append(PriceComponent(kind, price))
    return tuple(found)


def _count(value: str) -> int:
    return int(value) if value else 0


def _iso_utc(afdc_timestamp: str) -> str:
    # AFDC writes "2025-02-12 00:16:32 UTC"
    return afdc_timestamp.removesuffix(" UTC").replace(" ", "T") + "Z"


@functools.cache
def load_stations() -> tuple[Station, ...]:
    """All 4,736 stations, in file order (parsed once per process, ~50 ms)."""
    raw = resources.files("paren_async.testing").joinpath("data").joinpath(_DATA_FILE).read_bytes()
    with io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw)), encoding="utf-8") as text:
        return tuple(
            Station(
                afdc_id=row["ID"],
                name=row["Station Name"],
                street=row["Street Address"],
                city=row["City"],
                state=row["State"],
                postal_code=row["ZIP"],
                country=row["Country"],
                latitude=row["Latitude"],
                longitude=row["Longitude"],
                access=row["Access Code"],
                access_detail=row["Groups With Access Code"],
                hours=row["Access Days Time"],
                phone=row["Station Phone"],
                level1=_count(row["EV Level1 EVSE Num"]),
                level2=_count(row["EV Level2 EVSE Num"]),
                dc_fast=_count(row["EV DC Fast Count"]),
                network=row["EV Network"],
                connector_codes=tuple(row["EV Connector Types"].split()),
                pricing_text=row["EV Pricing"],
                facility_type=row["Facility Type"],
                funding=row["Funding Sources"],
                open_date=row["Open Date"],
                updated_at=_iso_utc(row["Updated At"]),
            )
            for row in csv.DictReader(text)
        )
