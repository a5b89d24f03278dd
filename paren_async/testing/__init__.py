"""Test against a local Paren API: the emulator, its fault kinds, and what it records.

``ParenEmulator`` is a real aiohttp server on 127.0.0.1 speaking Paren's wire format over real
New York station data, with latency, faults, data drift and introspection on demand. The pytest
plugin shipped with the package provides it as the ``paren_emulator`` fixture (the marker is
what pytest-asyncio's default strict mode needs; ``@pytest.mark.anyio`` works too)::

    @pytest.mark.asyncio
    async def test_my_code_survives_a_flaky_api(paren_emulator):
        emu = paren_emulator
        emu.inject(Fault.SERVICE_UNAVAILABLE, times=2)
        emu.configure(latency=0.02, jitter=0.005)
        assert await my_code(emu.url, emu.api_key, emu.api_secret) == "ok"
        assert emu.statistics().faults == {Fault.SERVICE_UNAVAILABLE: 2}

``paren-async serve`` runs the same emulator from the command line.
"""

from ._clock import FakeClock, StatusChange
from ._emulator import EmulatorFactory, ParenEmulator
from ._faults import DEFAULT_FAULT_MIX, Fault
from ._stats import EmulatorStatistics, RequestRecord

__all__ = [
    "DEFAULT_FAULT_MIX",
    "EmulatorFactory",
    "EmulatorStatistics",
    "FakeClock",
    "Fault",
    "ParenEmulator",
    "RequestRecord",
    "StatusChange",
]
