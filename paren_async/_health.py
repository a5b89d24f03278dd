"""The healthcheck probe: one attempt, no credentials, and the reason when it is not ok."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ._exceptions import ParenError, ServerError, TransportError
from ._http import Request, decipher_error
from ._sending import Sender


@dataclass(frozen=True, slots=True)
class Health:
    """The answer of ``ParenClient.health()``: ``bool(health)`` is ``ok``.

    ``status`` is the HTTP status (None when no response came), ``error`` the typed error that
    says why it is not ok (None when ok), ``latency`` the seconds the probe took.
    """

    ok: bool
    status: int | None
    error: ParenError | None
    latency: float

    def __bool__(self) -> bool:
        return self.ok

    def verdict(self) -> bool:
        """``ok``, but an error that means the client is misconfigured (404, 401) is raised."""
        if self.error is None or isinstance(self.error, (ServerError, TransportError)):
            return self.ok
        raise self.error


async def probe(sender: Sender, request: Request) -> Health:
    started = time.monotonic()
    try:
        response = await sender.send(request, retry=False)
    except ParenError as failure:
        return Health(False, getattr(failure, "status", None), failure, time.monotonic() - started)
    latency = time.monotonic() - started
    ok = 200 <= response.status < 300
    error = None if ok else decipher_error(request, response, now=time.time())
    return Health(ok, response.status, error, latency)
