"""paren-async: the asyncio-first client for the Paren EV-charging data API.

async with ParenClient(api_key=..., api_secret=...) as client:
    async for location in client.locations():
        ...
"""

from ._client import ParenClient
from ._config import Credentials, RetryPolicy, Timeout
from ._events import EventHooks, PageEvent, RequestEvent, ResponseEvent, RetryEvent
from ._exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    DecodeError,
    NotFoundError,
    PaginationError,
    ParenError,
    RateLimitError,
    RedirectError,
    ServerError,
    TimeoutError,
    TransportError,
    UsageError,
)
from ._pager import Pager
from ._pagination import PageStream
from ._statistics import ClientStatistics
from ._transport import AiohttpTransport, Transport
from .models import (
    Address,
    ChargingPool,
    Connector,
    ConnectorFormat,
    ConnectorStandard,
    Coordinates,
    CurrentPricing,
    Evse,
    EvseStatus,
    FundingProgram,
    Location,
    Operator,
    Page,
    PowerType,
    PricingComponent,
    PricingComponentType,
    PricingElement,
    PricingRestrictions,
    RealtimeChargingPool,
    RealtimeLocation,
    Tariff,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "APIError",
    "Address",
    "AiohttpTransport",
    "AuthenticationError",
    "BadRequestError",
    "ChargingPool",
    "ClientClosedError",
    "ClientStatistics",
    "Connector",
    "ConnectorFormat",
    "ConnectorStandard",
    "Coordinates",
    "Credentials",
    "CurrentPricing",
    "DecodeError",
    "EventHooks",
    "Evse",
    "EvseStatus",
    "FundingProgram",
    "Location",
    "NotFoundError",
    "Operator",
    "Page",
    "PageEvent",
    "PageStream",
    "Pager",
    "PaginationError",
    "ParenClient",
    "ParenError",
    "PowerType",
    "PricingComponent",
    "PricingComponentType",
    "PricingElement",
    "PricingRestrictions",
    "RateLimitError",
    "RealtimeChargingPool",
    "RealtimeLocation",
    "RedirectError",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "RetryPolicy",
    "ServerError",
    "Tariff",
    "Timeout",
    "TimeoutError",
    "Transport",
    "TransportError",
    "UsageError",
    "__version__",
]
