"""Test against a local Paren API: the emulator, its fault kinds, and what it records.

``ParenEmulator`` is a real aiohttp server on 127.0.0.1 speaking Paren's wire format over real
New York station data, with latency, faults, data drift and introspection on demand. The pytest
plugin shipped with the package provides it as the ``paren_emulator`` fixture.
"""

from ._emulator import EmulatorFactory, ParenEmulator
from ._faults import DEFAULT_FAULT_MIX, Fault
from ._stats import EmulatorStatistics, RequestRecord

__all__ = [
    "DEFAULT_FAULT_MIX",
    "EmulatorFactory",
    "EmulatorStatistics",
    "Fault",
    "ParenEmulator",
    "RequestRecord",
]
