"""pytest plugin, registered by the ``paren_async`` entry point: local Paren API fixtures.

- ``paren_emulator``: a running :class:`~paren_async.testing.ParenEmulator` with 1,000
  locations, no latency and no faults, closed after the test. Options can be changed per test
  with ``@pytest.mark.paren_emulator(locations=..., latency=..., ...)``.
- ``paren_emulator_factory``: ``await factory(**options)`` starts more emulators; all are closed
  after the test.

The fixtures are async: they run under pytest-asyncio (strict or auto mode) and, when that is
not installed, under any plugin that runs async fixtures (anyio's). pytest-asyncio is optional:
without it this plugin still loads, so installing paren-async cannot break a test suite.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, cast

import pytest

from ._emulator import EmulatorFactory, ParenEmulator

__all__ = ["DEFAULT_LOCATIONS", "paren_emulator", "paren_emulator_factory"]

#: Locations in the ``paren_emulator`` fixture: a few pages, and every station kind.
DEFAULT_LOCATIONS = 1_000

_F = TypeVar("_F", bound=Callable[..., Any])
_fixture: Callable[[Any], Any]
try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - exercised only without pytest-asyncio
    _fixture = pytest.fixture
else:
    _fixture = pytest_asyncio.fixture


def _async_fixture(func: _F) -> _F:
    return cast(_F, _fixture(func))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "paren_emulator(**options): ParenEmulator options for the paren_emulator fixture",
    )


@contextlib.asynccontextmanager
async def _emulators() -> AsyncIterator[EmulatorFactory]:
    async with contextlib.AsyncExitStack() as stack:

        async def start(**options: Any) -> ParenEmulator:
            return await stack.enter_async_context(ParenEmulator(**options))

        yield start


@_async_fixture
async def paren_emulator(request: pytest.FixtureRequest) -> AsyncIterator[ParenEmulator]:
    """A running local Paren API with 1,000 locations (see ``@pytest.mark.paren_emulator``)."""
    marker = request.node.get_closest_marker("paren_emulator")
    options: dict[str, Any] = {"locations": DEFAULT_LOCATIONS}
    if marker is not None:
        options.update(marker.kwargs)
    async with _emulators() as start:
        yield await start(**options)


@_async_fixture
async def paren_emulator_factory() -> AsyncIterator[EmulatorFactory]:
    """``await paren_emulator_factory(**options)`` starts an emulator closed after the test."""
    async with _emulators() as start:
        yield start
