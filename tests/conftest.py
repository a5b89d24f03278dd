from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def sample() -> object:
    """Read a recorded response body from tests/samples/ by file name."""

    def read(name: str) -> bytes:
        return (SAMPLES / name).read_bytes()

    return read
