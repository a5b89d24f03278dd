"""The pytest plugin's fixtures in a user's test suite: pytest-asyncio strict mode, and anyio.

Each case runs a small test file in a fresh pytest process (pytester), configured the way a new
user's project is: pytest-asyncio's default mode (strict), warnings as errors.
"""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

#: What a user's suite has: no asyncio_mode (so strict), the loop scope pytest-asyncio asks for.
USER_INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

WALK = """
from paren_async import ParenClient


async def walk(emu):
    async with ParenClient(emu.api_key, emu.api_secret, base_url=emu.url) as client:
        return [location.id async for location in client.locations()]
"""


def run(pytester: pytest.Pytester, tests: str) -> pytest.RunResult:
    pytester.makeini(USER_INI)
    pytester.makepyfile(test_user=textwrap.dedent(WALK) + textwrap.dedent(tests))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")


def test_fixtures_work_in_strict_mode_with_the_asyncio_marker(pytester: pytest.Pytester) -> None:
    """In strict mode, tests marked @pytest.mark.asyncio get both fixtures, options included."""
    result = run(
        pytester,
        """
        import pytest


        @pytest.mark.asyncio
        async def test_default(paren_emulator):
            assert await walk(paren_emulator) == paren_emulator.ids()
            assert paren_emulator.location_count == 1000


        @pytest.mark.asyncio
        @pytest.mark.paren_emulator(locations=42, latency=0.001)
        async def test_marker_options(paren_emulator):
            assert len(await walk(paren_emulator)) == 42


        @pytest.mark.asyncio
        async def test_factory(paren_emulator_factory):
            small = await paren_emulator_factory(locations=5)
            large = await paren_emulator_factory(locations=300)
            assert (len(await walk(small)), len(await walk(large))) == (5, 300)
        """,
    )
    result.stdout.fnmatch_lines(["*mode=Mode.STRICT*"])
    result.assert_outcomes(passed=3)


def test_fixtures_work_under_anyio_with_pytest_asyncio_installed(pytester: pytest.Pytester) -> None:
    """Tests marked @pytest.mark.anyio (asyncio backend) get both fixtures beside pytest-asyncio."""
    result = run(
        pytester,
        """
        import pytest


        @pytest.fixture
        def anyio_backend():
            return "asyncio"


        @pytest.mark.anyio
        async def test_default(paren_emulator):
            assert await walk(paren_emulator) == paren_emulator.ids()


        @pytest.mark.anyio
        async def test_factory(paren_emulator_factory):
            assert len(await walk(await paren_emulator_factory(locations=7))) == 7
        """,
    )
    result.assert_outcomes(passed=2)


def test_an_unmarked_test_is_not_run_in_strict_mode(pytester: pytest.Pytester) -> None:
    """Why the README names the marker: strict mode does not run an unmarked async test."""
    result = run(
        pytester,
        """
        async def test_unmarked(paren_emulator):
            assert False, "never reached"
        """,
    )
    assert result.ret != 0
    result.stdout.no_fnmatch_line("*never reached*")
