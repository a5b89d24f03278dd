"""The shape of a Paren location, per family, for one station: plain dicts with marked holes.

The two families are different models on purpose (paren-api.md): metadata carries the station's
details and "extras" no client knows (``amenities``, ``historical_performance``...); realtime
carries live EVSE status, ``current_pricing`` and ``reliability``. Holes (``hole(name, i)``) are
filled per location copy by ``_records``; everything else is fixed per station and seed.
"""

from __future__ import annotations

import hashlib
from typing import Final

from ._dataset import PriceComponent, Station, connectors_for, prices

__all__ = ["evse_count", "hole", "inline", "location_id", "metadata", "pricing", "realtime"]

# Networks that sell memberships: their realtime pricing sometimes carries a "member" price.
_MEMBER_NETWORKS: Final = frozenset(
    {"ChargePoint Network", "Blink Network", "EV Connect", "Electrify America", "eVgo Network"}
)
_AMENITIES: Final = {
    "HOTEL": ("LODGING", "RESTROOMS", "WIFI"),
    "INN": ("LODGING", "RESTROOMS"),
    "B_AND_B": ("LODGING",),
    "SHOPPING_CENTER": ("SHOPPING", "RESTROOMS", "FOOD"),
    "SHOPPING_MALL": ("SHOPPING", "RESTROOMS", "FOOD"),
    "GROCERY": ("SHOPPING", "FOOD"),
    "RESTAURANT": ("FOOD", "RESTROOMS"),
    "TRAVEL_CENTER": ("FOOD", "RESTROOMS", "FUEL"),
    "GAS_STATION": ("FUEL", "CONVENIENCE_STORE"),
    "REST_STOP": ("RESTROOMS",),
    "PARK": ("PARK",),
    "CAMPGROUND": ("PARK", "RESTROOMS"),
}
_WEEKDAYS: Final = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
_PEAK: Final[dict[str, object]] = {
    "start_time": "16:00",
    "end_time": "21:00",
    "day_of_week": list(_WEEKDAYS),
}


def hole(name: str, index: int = 0) -> str:
    """A JSON value to be filled in per location copy (the filling is JSON: quotes and all)."""
    # U+E000/U+E001 (private use) never occur in the data and msgspec writes them unescaped, so
    # the encoded hole is found again byte for byte.
    return f"\ue000{name}:{index}\ue000"


def inline(name: str) -> str:
    """Text to be filled in per location copy inside a JSON string (the filling needs no escape)."""
    return f"\ue001{name}\ue001"


def location_id(station: Station, suffix: str) -> str:
    return f"PRN-{station.afdc_id}{suffix}"


def _evse_id(station: Station, index: int) -> str:
    # A version 4 UUID: 80 bits from the station, then 32 from the location key and 16 from the
    # EVSE number, so ids are stable, unique, and cheap to fill in.
    h = hashlib.shake_128(f"evse:{station.afdc_id}".encode()).hexdigest(10)
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{inline('key')}{index:04x}"


def _unit(text: str) -> float:
    """A deterministic number in [0, 1) for ``text``."""
    return int.from_bytes(hashlib.shake_128(text.encode()).digest(8), "big") / 2**64


def _levels(station: Station) -> list[int]:
    """The charging level (1, 2, or 3 for DC fast) of each EVSE: one EVSE per AFDC port."""
    levels = [1] * station.level1 + [2] * station.level2 + [3] * station.dc_fast
    return levels or [2]


def evse_count(station: Station) -> int:
    return len(_levels(station))


def _address(station: Station) -> dict[str, object]:
    return {
        "address": station.street,
        "city": station.city,
        "postal_code": station.postal_code,
        "state": station.state,
        "country": station.country,
        "coordinates": {"latitude": hole("lat"), "longitude": hole("lon")},
    }


def _model(levels: list[int]) -> str:
    kinds = sorted({"L1" if n == 1 else "L2" if n == 2 else "DCFC" for n in levels})
    return "+".join(kinds)


def _static_statuses(station: Station, seed: int) -> list[str]:
    """Metadata's EVSE statuses: a snapshot, fixed per station (realtime's are live)."""
    statuses = []
    for i in range(evse_count(station)):
        draw = _unit(f"status:{seed}:{station.afdc_id}:{i}")
        statuses.append("OUTOFORDER" if draw < 0.03 else "UNKNOWN" if draw < 0.08 else "AVAILABLE")
    return statuses


def metadata(station: Station, seed: int) -> dict[str, object]:
    """A Metadata ("Location Details") record for ``station``."""
    stamp = station.updated_at
    tag = f"{seed}:{station.afdc_id}"
    pool: dict[str, object] = {
        "id": location_id(station, inline("copy")) + "-P",
        "last_updated": stamp,
        "model": _model(_levels(station)),
    }
    if "NEVI" in station.funding:
        pool["program"] = "NEVI"
    elif "CFI" in station.funding:
        pool["program"] = "CFI"
    levels = _levels(station)
    statuses = _static_statuses(station, seed)
    pool["evses"] = [
        {
            "id": _evse_id(station, i),
            "status": status,
            "connectors": [
                {
                    "id": str(j),
                    "standard": c.standard,
                    "format": c.format,
                    "power_type": c.power_type,
                    "max_voltage": c.max_voltage,
                    "max_amperage": c.max_amperage,
                    "max_electric_power": c.max_electric_power,
                    "last_updated": stamp,
                }
                for j, c in enumerate(connectors_for(station.connector_codes, level), 1)
            ],
            "last_updated": stamp,
        }
        for i, (level, status) in enumerate(zip(levels, statuses, strict=True))
    ]
    energy = [c.price for c in prices(station.pricing_text) if c.type == "ENERGY"]
    document: dict[str, object] = {
        "id": location_id(station, inline("copy")),
        "name": station.name,
        "address": _address(station),
        "time_zone": "America/New_York",
        "last_updated": stamp,
        "charging_pool": pool,
    }
    if station.network and station.network != "Non-Networked":
        document["operator"] = {"name": station.network}
    if station.facility_type:
        document["facilities"] = [station.facility_type]
    # Extras under names no client models: they must survive decoding and the raw path.
    access = {"code": station.access, "detail": station.access_detail}
    if station.hours:
        access["hours"] = station.hours
    document["access"] = access
    document["amenities"] = list(_AMENITIES.get(station.facility_type, ()))
    document["historical_performance"] = {
        "uptime_30d": round(0.9 + 0.1 * _unit(f"uptime30:{tag}"), 3),
        "sessions_30d": int(400 * _unit(f"sessions:{tag}")),
        "median_session_minutes": round(20 + 100 * _unit(f"minutes:{tag}"), 1),
    }
    document["pricing"] = {
        "description": station.pricing_text or None,
        "currency": "USD",
        "energy_per_kwh": energy[0] if energy else None,
    }
    document["opened"] = station.open_date or None
    return document


def _synthetic_prices(station: Station, tag: str) -> tuple[PriceComponent, ...]:
    """Plausible prices for a station whose AFDC text states none."""
    draw = _unit(f"price:{tag}")
    if station.dc_fast:
        found = [PriceComponent("ENERGY", round(0.45 + 0.24 * draw, 2))]
    else:
        found = [PriceComponent("ENERGY", round(0.18 + 0.27 * draw, 2))]
    extra = _unit(f"extra:{tag}")
    if extra < 0.12:
        found.append(PriceComponent("FLAT", 1.0))
    elif extra < 0.22:
        found.append(PriceComponent("PARKING_TIME", 2.0))
    elif extra < 0.28:
        found.append(PriceComponent("TIME", 1.5))
    elif extra < 0.31:
        found.append(PriceComponent("IDLE_FEE", 0.4))  # not an OCPI type: open enums
    return tuple(found)


def pricing(station: Station, seed: int, form: int) -> dict[str, object]:
    """``charging_pool.current_pricing``; ``form`` picks how ``pricing_components`` is written.

    Form 0 writes every element's components as an array, form 1 as single objects (one element
    per component), form 2 as whatever fits (an object when there is one). Keys cycle through the
    three forms, so any few consecutive records show both shapes.
    """
    tag = f"{seed}:{station.afdc_id}"
    components = prices(station.pricing_text) or _synthetic_prices(station, tag)
    groups: list[tuple[tuple[PriceComponent, ...], dict[str, object]]] = [(components, {})]
    energy = [c for c in components if c.type == "ENERGY" and c.price > 0]
    if energy and _unit(f"tou:{tag}") < 0.2:
        peak = (PriceComponent("ENERGY", round(energy[0].price * 1.25, 2)),)
        groups.insert(0, (peak, _PEAK))

    def side(scale: float) -> dict[str, object]:
        elements: list[dict[str, object]] = []
        for group, restrictions in groups:
            written = [
                {"type": c.type, "price": round(c.price * scale, 2), "step_size": 1} for c in group
            ]
            if form == 1 or (form == 2 and len(written) == 1):
                elements.extend(
                    {"pricing_components": one, "restrictions": restrictions} for one in written
                )
            else:
                elements.append({"pricing_components": written, "restrictions": restrictions})
        return {"currency": "USD", "elements": elements}

    result: dict[str, object] = {"non-member": side(1.0)}
    if station.network in _MEMBER_NETWORKS and _unit(f"member:{tag}") < 0.5:
        result["member"] = side(0.85)
    return result


def realtime(station: Station, seed: int) -> dict[str, object]:
    """A Realtime record for ``station``; its ``current_pricing`` is a hole (see ``pricing``)."""
    tag = f"{seed}:{station.afdc_id}"
    evses = [
        {
            "id": _evse_id(station, i),
            "status": hole("status", i),
            "last_updated": hole("ts"),
            "connectors": [
                {
                    "id": str(j),
                    "standard": c.standard,
                    "power_type": c.power_type,
                    "max_electric_power": c.max_electric_power,
                }
                for j, c in enumerate(connectors_for(station.connector_codes, level), 1)
            ],
        }
        for i, level in enumerate(_levels(station))
    ]
    return {
        "id": location_id(station, inline("copy")),
        "address": _address(station),
        "last_updated": hole("ts"),
        "charging_pool": {
            "id": location_id(station, inline("copy")) + "-P",
            "last_updated": hole("ts"),
            "current_pricing": hole("pricing"),
            "evses": evses,
        },
        "reliability": {
            "uptime_7d": round(0.85 + 0.15 * _unit(f"uptime7:{tag}"), 3),
            "failed_sessions_7d": int(6 * _unit(f"failed:{tag}")),
        },
    }
