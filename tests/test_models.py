"""Typed models: tolerant decoding of what Paren documents and what it may also send."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime, timezone

import msgspec
import pytest

from paren_async import (
    EvseStatus,
    Location,
    PricingComponent,
    PricingComponentType,
    RealtimeLocation,
)
from paren_async._http import Envelope

Sample = Callable[[str], bytes]


def locations(body: bytes) -> tuple[Location, ...]:
    data = msgspec.json.decode(body, type=Envelope[Location], strict=False).data
    assert data is not None
    return data


def realtime(body: bytes) -> tuple[RealtimeLocation, ...]:
    data = msgspec.json.decode(body, type=Envelope[RealtimeLocation], strict=False).data
    assert data is not None
    return data


def test_location_hierarchy(sample: Sample) -> None:
    """Coordinates sit inside address and EVSEs inside charging_pool, as Paren sends them."""
    loc = locations(sample("metadata_page.json"))[0]
    assert loc.address.city == "Newburgh"
    assert loc.address.coordinates is not None
    assert loc.address.coordinates.latitude == pytest.approx(41.50406)
    assert loc.charging_pool.program == "NEVI"
    evse = loc.charging_pool.evses[0]
    assert evse.status == EvseStatus.AVAILABLE
    assert evse.connectors[0].max_electric_power == 7680
    assert loc.last_updated == datetime(2025, 2, 12, 0, 16, 32, tzinfo=timezone.utc)


def test_decimal_string_coordinates_become_floats(sample: Sample) -> None:
    """OCPI-style decimal strings decode to the same floats as JSON numbers."""
    loc = locations(sample("metadata_page.json"))[1]
    assert loc.address.coordinates == type(loc.address.coordinates)(
        latitude=42.45165, longitude=-75.09985
    )


def test_unknown_enum_values_survive(sample: Sample) -> None:
    """A status or connector standard we do not know is kept as its string."""
    evse = locations(sample("metadata_page.json"))[0].charging_pool.evses[1]
    assert evse.status == "SOME_FUTURE_STATUS"
    assert evse.connectors[0].standard == "NACS_NEXT"
    assert evse.connectors[0].max_electric_power == 150_000.0


def test_missing_blocks_default_to_empty(sample: Sample) -> None:
    """A location without charging_pool still offers an empty one, so attribute chains work."""
    loc = locations(sample("metadata_page.json"))[1]
    assert loc.charging_pool.evses == ()
    assert loc.charging_pool.id is None
    assert loc.name is None


def test_pricing_components_always_a_tuple(sample: Sample) -> None:
    """pricing_components is a tuple whether the server sent one object or an array."""
    first, second = realtime(sample("realtime_page.json"))
    pricing = first.charging_pool.current_pricing
    assert pricing is not None and pricing.non_member is not None and pricing.member is not None
    single = pricing.non_member.elements[0].pricing_components
    assert single == (PricingComponent(type=PricingComponentType.ENERGY, price=0.48, step_size=1),)
    several = pricing.member.elements[0].pricing_components
    assert [(c.type, c.price) for c in several] == [("ENERGY", 0.39), ("IDLE_FEE", 0.4)]
    assert second.charging_pool.current_pricing is not None


def test_non_member_key_has_a_hyphen_on_the_wire(sample: Sample) -> None:
    """The JSON key non-member maps to the attribute non_member and back."""
    first = realtime(sample("realtime_page.json"))[0]
    pricing = first.charging_pool.current_pricing
    assert pricing is not None and pricing.non_member is not None
    assert pricing.non_member.currency == "USD"
    assert b'"non-member"' in msgspec.json.encode(pricing)


def test_restrictions_are_modelled(sample: Sample) -> None:
    """Time-of-use restrictions of a pricing element decode with their OCPI names."""
    pricing = realtime(sample("realtime_page.json"))[0].charging_pool.current_pricing
    assert pricing is not None and pricing.non_member is not None
    restrictions = pricing.non_member.elements[0].restrictions
    assert restrictions is not None
    assert (restrictions.start_time, restrictions.day_of_week) == ("07:00", ("MONDAY", "TUESDAY"))


def test_records_are_not_tracked_by_the_garbage_collector(sample: Sample) -> None:
    """Records are untracked, and their tuples are dropped by the first collection that sees them."""
    records = realtime(sample("realtime_page.json")) + tuple(
        locations(sample("metadata_page.json"))
    )
    gc.collect()  # CPython untracks a tuple once a collection finds only untracked items in it
    for loc in records:
        assert not gc.is_tracked(loc)
        assert not gc.is_tracked(loc.charging_pool)
        assert not gc.is_tracked(loc.charging_pool.evses)


def test_records_are_immutable(sample: Sample) -> None:
    """Records are frozen: a harvested record cannot be changed by accident."""
    loc = locations(sample("metadata_page.json"))[0]
    with pytest.raises(AttributeError):
        loc.id = "other"  # type: ignore[misc]


def test_location_without_id_is_a_validation_error() -> None:
    """id is the one promised field: a record without it does not decode silently."""
    with pytest.raises(msgspec.ValidationError, match="id"):
        locations(b'{"data": [{"address": {}}]}')
