"""OpenTelemetry tracing, active only with the ``otel`` extra and a configured tracer provider.

A walk is one span (``paren_async.walk``); each page request is a child CLIENT span named after
its method, with the HTTP semantic-convention attributes, the retry count and the page offset.
Without ``opentelemetry-api`` installed, or with only the default no-op/proxy provider, every
call here is a no-op costing one attribute check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import urlsplit

from ._exceptions import APIError, ParenError

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace

    HAVE_OTEL = True
except ImportError:  # pragma: no cover - exercised by installs without the extra
    HAVE_OTEL = False

__all__ = ["Telemetry"]

_INSTRUMENTATION: Final = "paren_async"
_INACTIVE_PROVIDERS: Final = frozenset({"ProxyTracerProvider", "NoOpTracerProvider"})


class Telemetry:
    """Spans for walks and requests; ``tracer_provider`` overrides the global one."""

    def __init__(self, tracer_provider: Any = None) -> None:
        self._provider = tracer_provider

    def _tracer(self) -> Any:
        if not HAVE_OTEL:
            return None
        provider = self._provider or trace.get_tracer_provider()
        if type(provider).__name__ in _INACTIVE_PROVIDERS:
            return None
        return provider.get_tracer(_INSTRUMENTATION)

    def start_walk(self, path: str, attributes: dict[str, Any]) -> Any:
        """A started walk span, or None when tracing is off."""
        tracer = self._tracer()
        if tracer is None:
            return None
        return tracer.start_span("paren_async.walk", attributes={"paren.path": path, **attributes})

    @contextlib.contextmanager
    def activate(self, span: Any) -> Iterator[None]:
        """Make ``span`` the parent of tasks created inside (they copy the current context)."""
        if span is None:
            yield
            return
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            otel_context.detach(token)

    @staticmethod
    def end_walk(span: Any, records: int, error: BaseException | None) -> None:
        if span is None:
            return
        span.set_attribute("paren.records", records)
        if error is not None:
            span.record_exception(error)
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))
        span.end()

    @contextlib.contextmanager
    def request_span(self, method: str, url: str, offset: int | None) -> Iterator[Any]:
        """A CLIENT span around one request and all its attempts; yields it (or None)."""
        tracer = self._tracer()
        if tracer is None:
            yield None
            return
        parts = urlsplit(url)
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "url.full": url,
            "server.address": parts.hostname or "",
            "server.port": parts.port or (443 if parts.scheme == "https" else 80),
        }
        if offset is not None:
            attributes["paren.offset"] = offset
        with tracer.start_as_current_span(
            method, kind=trace.SpanKind.CLIENT, attributes=attributes, record_exception=False
        ) as span:
            yield span

    @staticmethod
    def finish_request(
        span: Any, attempts: int, status: int | None, error: ParenError | None
    ) -> None:
        if span is None:
            return
        if attempts > 1:
            span.set_attribute("http.request.resend_count", attempts - 1)
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if error is not None:
            span.set_attribute(
                "error.type",
                str(error.status) if isinstance(error, APIError) else type(error).__name__,
            )
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))
