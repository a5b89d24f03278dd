"""paren-async: the asyncio-first client for the Paren EV-charging data API.

async with ParenClient(api_key=..., api_secret=...) as client:
    async for location in client.locations():
        ...
"""

from ._client import ParenClient
from ._config import Credentials, RetryPolicy, Timeout
from ._decoding import decode_record
from ._events import (
    BadRecordEvent,
    DriftEvent,
    EventHooks,
    PageEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    WalkEvent,
)
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
    RecordError,
    RedirectError,
    ResumePoint,
    ServerError,
    TimeoutError,
    TransportError,
    UsageError,
)
from ._health import Health
from ._http import Request, Response
from ._pager import Pager
from ._pagination import PageStream
from ._statistics import ClientStatistics, WalkStatistics
from ._transport import AiohttpTransport, MockTransport, Transport
from ._validators import PageValidators
from .models import (
    Address,
    BadRecord,
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
    "BadRecord",
    "BadRecordEvent",
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
    "DriftEvent",
    "EventHooks",
    "Evse",
    "EvseStatus",
    "FundingProgram",
    "Health",
    "Location",
    "MockTransport",
    "NotFoundError",
    "Operator",
    "Page",
    "PageEvent",
    "PageStream",
    "PageValidators",
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
    "RecordError",
    "RedirectError",
    "Request",
    "RequestEvent",
    "Response",
    "ResponseEvent",
    "ResumePoint",
    "RetryEvent",
    "RetryPolicy",
    "ServerError",
    "Tariff",
    "Timeout",
    "TimeoutError",
    "Transport",
    "TransportError",
    "UsageError",
    "WalkEvent",
    "WalkStatistics",
    "__version__",
    "decode_record",
]
