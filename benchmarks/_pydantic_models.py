"""Pydantic v2 models mirroring ``paren_async.models``: what an httpx + pydantic client would write.

Same fields, same tolerance (unknown fields ignored, everything optional, numbers accepted as
decimal strings by pydantic's default lax mode, ``pricing_components`` as one object or a list),
so that both sides decode exactly the same information. Lists, not tuples: what users write.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

__all__ = ["Envelope", "Location"]


class Coordinates(BaseModel):
    latitude: float | None = None
    longitude: float | None = None


class Address(BaseModel):
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    state: str | None = None
    country: str | None = None
    coordinates: Coordinates | None = None


class Connector(BaseModel):
    id: str | None = None
    standard: str | None = None
    format: str | None = None
    power_type: str | None = None
    max_voltage: float | None = None
    max_amperage: float | None = None
    max_electric_power: float | None = None
    last_updated: datetime | None = None


class Evse(BaseModel):
    id: str | None = None
    status: str | None = None
    connectors: list[Connector] = Field(default_factory=list)
    last_updated: datetime | None = None


class Operator(BaseModel):
    name: str | None = None
    website: str | None = None


class PricingComponent(BaseModel):
    type: str | None = None
    price: float | None = None
    step_size: int | None = None
    vat: float | None = None


class PricingRestrictions(BaseModel):
    start_time: str | None = None
    end_time: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    day_of_week: list[str] = Field(default_factory=list)
    min_kwh: float | None = None
    max_kwh: float | None = None
    min_power: float | None = None
    max_power: float | None = None
    min_duration: int | None = None
    max_duration: int | None = None


class PricingElement(BaseModel):
    pricing_components: list[PricingComponent] = Field(default_factory=list)
    restrictions: PricingRestrictions | None = None

    @field_validator("pricing_components", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, dict) else value


class Tariff(BaseModel):
    currency: str | None = None
    elements: list[PricingElement] = Field(default_factory=list)


class CurrentPricing(BaseModel):
    non_member: Tariff | None = Field(default=None, alias="non-member")
    member: Tariff | None = None


class ChargingPool(BaseModel):
    id: str | None = None
    last_updated: datetime | None = None
    model: str | None = None
    program: str | None = None
    evses: list[Evse] = Field(default_factory=list)
    current_pricing: CurrentPricing | None = None


class Location(BaseModel):
    id: str
    name: str | None = None
    address: Address = Field(default_factory=Address)
    last_updated: datetime | None = None
    operator: Operator | None = None
    charging_pool: ChargingPool = Field(default_factory=ChargingPool)


class Envelope(BaseModel):
    data: list[Location] | None = None
    errors: list[object] | None = None
    status_code: int | None = None
    status_message: str | None = None
    duration: str | None = None
    timestamp: str | None = None
