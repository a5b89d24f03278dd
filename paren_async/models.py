"""Typed Paren records: msgspec Structs on one configured base (``paren-api.md``, section 3).

Unknown fields are ignored (``.raw()`` keeps them). Fields the reference does not promise are
optional; ``address`` and ``charging_pool`` default to empty blocks. Enum-like fields are plain
strings (known values as constants: ``EvseStatus.AVAILABLE``...), numbers may come as decimal
strings, and timestamps are always timezone-aware (UTC if zone-less). Structs are ``frozen`` and
``gc=False`` with tuple arrays: they cannot form cycles, so 100,000 records cost no GC pauses.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Final, Generic, TypeVar

import msgspec
from msgspec.structs import force_setattr

__all__ = [
    "Address",
    "BadRecord",
    "ChargingPool",
    "Connector",
    "ConnectorFormat",
    "ConnectorStandard",
    "Coordinates",
    "CurrentPricing",
    "Evse",
    "EvseStatus",
    "FundingProgram",
    "Location",
    "Operator",
    "Page",
    "ParenModel",
    "PowerType",
    "PricingComponent",
    "PricingComponentType",
    "PricingElement",
    "PricingRestrictions",
    "RealtimeChargingPool",
    "RealtimeLocation",
    "Tariff",
]

T = TypeVar("T")

#: Zone required on the fast path; a record with zone-less timestamps is repaired to UTC.
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]


class ParenModel(msgspec.Struct, frozen=True, gc=False, kw_only=True, omit_defaults=True):
    """Base of every Paren record: immutable, untracked by the GC, keyword-only."""


class EvseStatus:
    AVAILABLE: Final = "AVAILABLE"
    BLOCKED: Final = "BLOCKED"
    CHARGING: Final = "CHARGING"
    INOPERATIVE: Final = "INOPERATIVE"
    OUTOFORDER: Final = "OUTOFORDER"
    PLANNED: Final = "PLANNED"
    REMOVED: Final = "REMOVED"
    RESERVED: Final = "RESERVED"
    UNKNOWN: Final = "UNKNOWN"


class ConnectorStandard:
    CHADEMO: Final = "CHADEMO"
    DOMESTIC_A: Final = "DOMESTIC_A"
    DOMESTIC_B: Final = "DOMESTIC_B"
    IEC_62196_T1: Final = "IEC_62196_T1"
    IEC_62196_T1_COMBO: Final = "IEC_62196_T1_COMBO"
    IEC_62196_T2: Final = "IEC_62196_T2"
    IEC_62196_T2_COMBO: Final = "IEC_62196_T2_COMBO"
    NEMA_5_20: Final = "NEMA_5_20"
    NEMA_14_50: Final = "NEMA_14_50"
    SAE_J3400: Final = "SAE_J3400"
    TESLA_R: Final = "TESLA_R"
    TESLA_S: Final = "TESLA_S"


class ConnectorFormat:
    CABLE: Final = "CABLE"
    SOCKET: Final = "SOCKET"


class PowerType:
    AC_1_PHASE: Final = "AC_1_PHASE"
    AC_2_PHASE: Final = "AC_2_PHASE"
    AC_3_PHASE: Final = "AC_3_PHASE"
    DC: Final = "DC"


class PricingComponentType:
    ENERGY: Final = "ENERGY"
    FLAT: Final = "FLAT"
    PARKING_TIME: Final = "PARKING_TIME"
    TIME: Final = "TIME"


class FundingProgram:
    """Government funding programs named by ``charging_pool.program``."""

    CFI: Final = "CFI"
    NEVI: Final = "NEVI"


class Coordinates(ParenModel, frozen=True):
    latitude: float | None = None
    longitude: float | None = None


class Address(ParenModel, frozen=True):
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    state: str | None = None
    country: str | None = None
    coordinates: Coordinates | None = None


class Connector(ParenModel, frozen=True):
    id: str | None = None
    standard: str | None = None
    format: str | None = None
    power_type: str | None = None
    max_voltage: float | None = None
    max_amperage: float | None = None
    max_electric_power: float | None = None
    last_updated: Timestamp | None = None


class Evse(ParenModel, frozen=True):
    """One port: charges one vehicle at a time through one of its connectors."""

    id: str | None = None
    status: str | None = None
    connectors: tuple[Connector, ...] = ()
    last_updated: Timestamp | None = None


class Operator(ParenModel, frozen=True):
    name: str | None = None
    website: str | None = None


class PricingComponent(ParenModel, frozen=True):
    type: str | None = None
    price: float | None = None
    step_size: int | None = None
    vat: float | None = None


class PricingRestrictions(ParenModel, frozen=True):
    """When a pricing element applies (OCPI names)."""

    start_time: str | None = None
    end_time: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    day_of_week: tuple[str, ...] = ()
    min_kwh: float | None = None
    max_kwh: float | None = None
    min_power: float | None = None
    max_power: float | None = None
    min_duration: int | None = None
    max_duration: int | None = None


class PricingElement(ParenModel, frozen=True):
    """A price part; ``pricing_components`` is a tuple whether one object or an array came."""

    if TYPE_CHECKING:
        pricing_components: tuple[PricingComponent, ...] = ()
    else:
        pricing_components: tuple[PricingComponent, ...] | PricingComponent = ()
    restrictions: PricingRestrictions | None = None

    def __post_init__(self) -> None:
        components: object = self.pricing_components
        if isinstance(components, PricingComponent):
            force_setattr(self, "pricing_components", (components,))


class Tariff(ParenModel, frozen=True):
    currency: str | None = None
    elements: tuple[PricingElement, ...] = ()


class CurrentPricing(ParenModel, frozen=True):
    """Latest observed pricing. The wire key ``non-member`` has a hyphen."""

    non_member: Tariff | None = msgspec.field(default=None, name="non-member")
    member: Tariff | None = None


class ChargingPool(ParenModel, frozen=True):
    """Metadata API charging pool: the EVSEs at a location, with funding program."""

    id: str | None = None
    last_updated: Timestamp | None = None
    model: str | None = None
    program: str | None = None
    evses: tuple[Evse, ...] = ()


class RealtimeChargingPool(ChargingPool, frozen=True):
    """Realtime API charging pool: adds the latest observed pricing."""

    current_pricing: CurrentPricing | None = None


class _LocationBase(ParenModel, frozen=True):
    id: str
    name: str | None = None
    address: Address = msgspec.field(default_factory=Address)
    last_updated: Timestamp | None = None
    operator: Operator | None = None


class Location(_LocationBase, frozen=True):
    """A Metadata API location ("Location Details")."""

    charging_pool: ChargingPool = msgspec.field(default_factory=ChargingPool)


class RealtimeLocation(_LocationBase, frozen=True):
    """A Realtime API location: current status, availability and pricing."""

    charging_pool: RealtimeChargingPool = msgspec.field(default_factory=RealtimeChargingPool)


class BadRecord(ParenModel, frozen=True):
    """A record the typed model could not take even after lenient repair.

    ``offset`` is its position in the collection when its page was read, ``id`` its id if one
    could be read, ``path`` the JSON path of the offending value (``$.charging_pool.evses[0]``),
    ``reason`` msgspec's message, and ``raw`` the record's bytes exactly as sent.
    """

    offset: int
    id: object
    path: str
    reason: str
    raw: bytes

    def __repr__(self) -> str:
        return f"BadRecord(offset={self.offset}, id={self.id!r}, path={self.path!r})"


class Page(ParenModel, Generic[T], frozen=True):
    """One response of a walk: the records at ``offset``, in server order.

    ``duration`` is the server's processing time in seconds and ``timestamp`` when it answered
    (both from the envelope, if given). ``rejected`` holds the records that could not be decoded
    (typed walks only); ``unchanged`` the ids of records a conditional request found as they were
    at the last walk (``raw_pages(validators=...)`` only; their bytes are not sent again).
    """

    offset: int
    limit: int
    items: tuple[T, ...]
    duration: float | None = None
    timestamp: datetime | None = None
    rejected: tuple[BadRecord, ...] = ()
    unchanged: tuple[Any, ...] = ()

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.items) + len(self.rejected) + len(self.unchanged)
