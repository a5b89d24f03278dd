"""`paren-async serve` and the pytest plugin: the two ways the emulator is started from outside."""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp
import pytest
from emulator_support import METADATA, basic

from paren_async._cli import main
from paren_async._cli.serve import parse_duration, parse_faults
from paren_async.testing import Fault, ParenEmulator


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("30ms", 0.03, id="milliseconds"),
        pytest.param("0.5s", 0.5, id="seconds"),
        pytest.param("2", 2.0, id="bare-number"),
        pytest.param(".25s", 0.25, id="leading-dot"),
        pytest.param("0", 0.0, id="zero"),
    ],
)
def test_durations_accept_units(text: str, seconds: float) -> None:
    """Durations are written as 30ms, 0.5s or a bare number of seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", [pytest.param(t, id=t or "empty") for t in ["3x", "-1", "ms", "", "1m"]]
)
def test_bad_durations_are_rejected(text: str) -> None:
    """Anything but a non-negative number with an optional ms/s unit is an argument error."""
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


def test_fault_mix_parses_kinds_and_weights() -> None:
    """--faults takes kind[=weight] items; a kind without a weight weighs 1."""
    assert parse_faults("server_error=3, CONNECTION_RESET") == {
        Fault.SERVER_ERROR: 3.0,
        Fault.CONNECTION_RESET: 1.0,
    }
    with pytest.raises(argparse.ArgumentTypeError, match="rate_limited"):
        parse_faults("teapot")


def test_bad_arguments_exit_with_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Invalid options stop argparse with exit status 2 and a message naming the option."""
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--fault-rate", "1.5"])
    assert exit_info.value.code == 2
    assert "--fault-rate" in capsys.readouterr().err


def test_busy_port_exits_with_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A port already in use is reported on stderr with exit status 1, not a traceback."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port), "--locations", "10"]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


async def test_serve_subprocess_prints_url_serves_and_stops_on_sigterm() -> None:
    """`serve --port 0` prints a parseable URL first, serves the API, and exits 0 on SIGTERM."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "paren_async", "serve", "--port", "0", "--locations", "250",
        "--latency", "5ms", "--api-key", "k", "--api-secret", "s",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        match = re.fullmatch(r"Paren emulator listening on (http://127\.0\.0\.1:(\d+))\n", first)
        assert match, first
        url = match[1]
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/healthcheck") as health:
                assert health.status == 200
            async with session.get(
                url + METADATA, params={"offset": "200"}, headers={"Authorization": basic("k", "s")}
            ) as page:
                assert page.status == 200
                assert len((await page.json())["data"]) == 50
        process.send_signal(signal.SIGTERM)
        rest, errors = await asyncio.wait_for(process.communicate(), 5)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, errors
    assert f"export PAREN_BASE_URL={url} PAREN_API_KEY=k PAREN_API_SECRET=s" in rest.decode()
    assert "stopped" in rest.decode()


@pytest.mark.paren_emulator(locations=42, seed=3)
async def test_fixture_takes_options_from_the_marker(paren_emulator: ParenEmulator) -> None:
    """@pytest.mark.paren_emulator(...) configures the paren_emulator fixture."""
    assert paren_emulator.location_count == 42
    assert paren_emulator.seed == 3
    assert paren_emulator.url.startswith("http://127.0.0.1:")


def test_plugin_works_without_pytest_asyncio(tmp_path: Path) -> None:
    """Without pytest-asyncio the plugin still loads, and its fixture runs under anyio's plugin."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import aiohttp
            import pytest

            @pytest.fixture
            def anyio_backend():
                return "asyncio"

            def test_sync_suite_is_unaffected():
                assert True

            @pytest.mark.anyio
            async def test_fixture_under_anyio(paren_emulator):
                async with aiohttp.ClientSession() as session:
                    async with session.get(paren_emulator.url + "/healthcheck") as reply:
                        assert reply.status == 200
                assert paren_emulator.location_count == 1000
            """
        )
    )
    # First on sys.path (the working directory, with -m): as if pytest-asyncio were not installed.
    (tmp_path / "pytest_asyncio").mkdir()
    (tmp_path / "pytest_asyncio" / "__init__.py").write_text("raise ImportError('not installed')\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:asyncio",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
