"""OpenTelemetry spans, with the ``otel`` extra and a configured tracer provider.

A walk is one span; each attempt of a request is a CLIENT span, its child, from when the request
leaves (after any wait for a slot, cooldown or token) to its complete response: the HTTP exchange
only. Without ``opentelemetry-api``, or with the default no-op provider, an event costs a check.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from ._events import RequestEvent, ResponseEvent, Subscriber, WalkEvent
from ._exceptions import APIError

try:
    from opentelemetry import trace

    HAVE_OTEL = True
except ImportError:  # pragma: no cover - exercised by installs without the extra
    HAVE_OTEL = False

_INACTIVE_PROVIDERS: Final = frozenset({"ProxyTracerProvider", "NoOpTracerProvider"})


class Telemetry(Subscriber):
    """Spans for walks and request attempts; ``tracer_provider`` overrides the global one."""

    def __init__(self, tracer_provider: Any = None) -> None:
        self._provider = tracer_provider
        self._walks: dict[int | None, Any] = {}
        self._exchanges: dict[int, Any] = {}

    def _tracer(self) -> Any:
        if not HAVE_OTEL:
            return None
        provider = self._provider or trace.get_tracer_provider()
        if type(provider).__name__ in _INACTIVE_PROVIDERS:
            return None
        return provider.get_tracer("paren_async")

    def on_walk(self, event: WalkEvent) -> None:
        if event.statistics is None:
            tracer = self._tracer()
            if tracer is not None:
                attributes = {"paren.path": event.path}
                self._walks[event.walk] = tracer.start_span(
                    "paren_async.walk", attributes=attributes
                )
            return
        span = self._walks.pop(event.walk, None)
        if span is None:
            return
        stats = event.statistics
        span.set_attributes({"paren.records": stats.records, "paren.requests": stats.requests})
        if event.error is not None:
            span.record_exception(event.error)
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(event.error).__name__))
        span.end()

    def on_request(self, event: RequestEvent) -> None:
        tracer = self._tracer()
        if tracer is None:
            return
        url = urlsplit(event.url)
        attributes: dict[str, Any] = {
            "http.request.method": event.method,
            "url.full": event.url,
            "server.address": url.hostname or "",
            "server.port": url.port or (443 if url.scheme == "https" else 80),
        }
        if event.offset is not None:
            attributes["paren.offset"] = event.offset
        if event.attempt > 1:
            attributes["http.request.resend_count"] = event.attempt - 1
        walk = self._walks.get(event.walk)
        context = trace.set_span_in_context(walk) if walk is not None else None
        self._exchanges[event.exchange] = tracer.start_span(
            event.method, context=context, kind=trace.SpanKind.CLIENT, attributes=attributes
        )

    def on_response(self, event: ResponseEvent) -> None:
        span = self._exchanges.pop(event.exchange, None)
        if span is None:
            return
        if event.status is not None:
            span.set_attribute("http.response.status_code", event.status)
        if (error := event.error) is not None:
            kind = str(error.status) if isinstance(error, APIError) else type(error).__name__
            span.set_attribute("error.type", kind)
            span.set_status(trace.Status(trace.StatusCode.ERROR, kind))
        span.end()
