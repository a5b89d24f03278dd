"""``paren-async harvest`` end to end: the real command in a subprocess against the emulator."""

from __future__ import annotations

import asyncio
import csv
import json
import random
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emulator_support import emulator_env

from paren_async import ParenClient
from paren_async.testing import EmulatorFactory, Fault, ParenEmulator

pytestmark = pytest.mark.slow


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, Any]:
        """The one JSON line on stdout."""
        lines = self.stdout.splitlines()
        assert len(lines) == 1, self.stdout
        summary: dict[str, Any] = json.loads(lines[0])
        return summary


async def harvest(
    emulator: ParenEmulator,
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    signal_when: Callable[[], Awaitable[None]] | None = None,
    send: signal.Signals = signal.SIGKILL,
) -> Run:
    """Run the command; with ``signal_when``, send ``send`` once that returns."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "paren_async",
        "harvest",
        *args,
        cwd=cwd,
        env=env or emulator_env(emulator),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    if signal_when is not None:
        await asyncio.wait_for(signal_when(), 30)
        process.send_signal(send)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else -1


def read(path: Path) -> bytes:
    return path.read_bytes()


def files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def grows_past(path: Path, bytes_: int) -> Callable[[], Awaitable[None]]:
    async def wait() -> None:
        while True:
            if size(path) >= bytes_:
                return
            await asyncio.sleep(0.002)

    return wait


async def raw_records(emulator: ParenEmulator, **filters: str) -> list[bytes]:
    """The records as the server sends them, through the client's lossless path."""
    async with ParenClient(emulator.api_key, emulator.api_secret, base_url=emulator.url) as client:
        return [record async for record in client.locations(**filters).raw()]


def walk_offsets(emulator: ParenEmulator) -> list[int]:
    """The page offsets a walk of the default page size asked for (after ``raw_records``)."""
    return sorted({r.offset for r in emulator.requests if r.offset is not None})


def ndjson(records: list[bytes]) -> bytes:
    return b"".join(record + b"\n" for record in records)


@pytest.fixture
async def emulator(paren_emulator_factory: EmulatorFactory) -> ParenEmulator:
    """1,000 locations, no latency, no faults."""
    return await paren_emulator_factory(locations=1_000)


# -- the output --


async def test_ndjson_is_byte_exact_and_repeatable(emulator: ParenEmulator, tmp_path: Path) -> None:
    """NDJSON holds every record's bytes as sent, one per line; two runs are byte-identical."""
    expected = ndjson(await raw_records(emulator))
    first = await harvest(emulator, tmp_path, "--out", "a.ndjson")
    second = await harvest(emulator, tmp_path, "--out", "b.ndjson", "--quiet")
    assert (first.code, second.code) == (0, 0), first.stderr + second.stderr
    assert read(tmp_path / "a.ndjson") == expected
    assert read(tmp_path / "b.ndjson") == expected
    assert files(tmp_path) == ["a.ndjson", "b.ndjson"]
    assert first.summary["event"] == "harvest.done"
    assert first.summary["records"] == 1_000
    assert first.summary["duplicates"] == 0
    assert first.summary["changed"] is False
    assert "harvest done: 1,000 records" in first.stderr
    assert second.stderr == ""


def expected_row(record: dict[str, Any]) -> dict[str, Any]:
    """The columns a test can compute from the JSON alone, independently of the harvester."""
    address = record.get("address", {})
    evses = record.get("charging_pool", {}).get("evses", [])
    connectors = [c for evse in evses for c in evse.get("connectors", [])]
    powers = [c["max_electric_power"] for c in connectors if "max_electric_power" in c]
    return {
        "id": record["id"],
        "name": record.get("name"),
        "operator": record.get("operator", {}).get("name"),
        "city": address.get("city"),
        "state": address.get("state"),
        "postal_code": address.get("postal_code"),
        "latitude": float(address["coordinates"]["latitude"]),
        "longitude": float(address["coordinates"]["longitude"]),
        "evses": len(evses),
        "connectors": len(connectors),
        "evses_available": sum(e.get("status") == "AVAILABLE" for e in evses),
        "connectors_sae_j3400": sum(c.get("standard") == "SAE_J3400" for c in connectors),
        "max_power_kw": max(powers) / 1000 if powers else None,
        "pool_program": record["charging_pool"].get("program"),
    }


def csv_value(column: str, text: str) -> Any:
    if text == "":
        return None
    if column in {"latitude", "longitude", "max_power_kw", "max_dc_power_kw"}:
        return float(text)
    if column.startswith(("evses", "connectors")):
        return int(text)
    return text


@pytest.mark.parametrize(
    "fmt", [pytest.param("csv", id="csv"), pytest.param("parquet", id="parquet")]
)
async def test_flat_formats_hold_one_row_per_location(
    emulator: ParenEmulator, tmp_path: Path, fmt: str
) -> None:
    """CSV and Parquet hold one row per location whose values match the server's JSON."""
    expected = [expected_row(json.loads(r)) for r in await raw_records(emulator)]
    run = await harvest(emulator, tmp_path, "--out", f"out.{fmt}", "--quiet")
    assert run.code == 0, run.stderr
    if fmt == "csv":
        rows = [
            {name: csv_value(name, value) for name, value in row.items()}
            for row in read_csv(tmp_path / "out.csv")
        ]
        again = await harvest(emulator, tmp_path, "--out", "again.csv", "--quiet")
        assert again.code == 0
        assert read(tmp_path / "again.csv") == read(tmp_path / "out.csv")
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(tmp_path / "out.parquet")
        assert str(table.schema.field("last_updated").type) == "timestamp[us, tz=UTC]"
        assert str(table.schema.field("postal_code").type) == "string"
        rows = table.to_pylist()
    assert len(rows) == len(expected) == 1_000
    for got, want in zip(rows, expected, strict=True):
        assert {name: got[name] for name in want} == want


# -- crashes, interruptions and resumption --


async def test_sigkill_at_random_points_then_resume_gives_each_record_once(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """Killed (SIGKILL) three times at random points, resumed each time: the file is exact."""
    emulator = await paren_emulator_factory(locations=4_000, latency=0.01)
    expected = ndjson(await raw_records(emulator))
    part = tmp_path / "out.ndjson.part"
    args = ("--out", "out.ndjson", "--concurrency", "2", "--checkpoint-interval", "0.05")
    rng = random.Random(4)
    for i in range(3):
        # Past a random point, and past where the previous run was killed: each kill lands
        # after the resumed run has cut the unvouched tail and written beyond it.
        point = max(int(len(expected) * rng.uniform(0.05, 0.95)), size(part) + 1)
        resume = ("--resume",) if i else ()
        killed = await harvest(
            emulator, tmp_path, *args, *resume, signal_when=grows_past(part, point)
        )
        assert killed.code == -signal.SIGKILL, killed.stderr
    run = await harvest(emulator, tmp_path, *args, "--resume")
    assert run.code == 0, run.stderr
    assert read(tmp_path / "out.ndjson") == expected
    assert run.summary["resumed"] is True
    assert run.summary["records"] == 4_000
    assert files(tmp_path) == ["out.ndjson"]


@pytest.mark.parametrize(
    "sig", [pytest.param(signal.SIGINT, id="sigint"), pytest.param(signal.SIGTERM, id="sigterm")]
)
async def test_interrupt_checkpoints_and_exits_130(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path, sig: signal.Signals
) -> None:
    """Ctrl-C or SIGTERM stops cleanly with 130, a checkpoint and a resume hint; resume finishes."""
    emulator = await paren_emulator_factory(locations=3_000, latency=0.02)
    expected = ndjson(await raw_records(emulator))
    args = ("--out", "out.csv", "--concurrency", "2")
    part = tmp_path / "out.csv.part"
    stopped = await harvest(
        emulator, tmp_path, *args, signal_when=grows_past(part, len(expected) // 3), send=sig
    )
    assert stopped.code == 130, stopped.stderr
    assert stopped.summary["event"] == "harvest.interrupted"
    assert "resume with: paren-async harvest --out out.csv --format csv" in stopped.stderr
    checkpoint = json.loads(read(tmp_path / "out.csv.checkpoint"))
    assert checkpoint["records"] == stopped.summary["records"] > 0
    assert size(part) == checkpoint["size"]
    assert files(tmp_path) == ["out.csv.checkpoint", "out.csv.part"]
    resumed = await harvest(emulator, tmp_path, *args, "--resume", "--quiet")
    assert resumed.code == 0, resumed.stderr
    assert [row["id"] for row in read_csv(tmp_path / "out.csv")] == emulator.ids()


# -- faults --


async def test_transient_faults_are_retried_transparently(
    emulator: ParenEmulator, tmp_path: Path
) -> None:
    """Faults a retry survives cost retries, not records: the output is still exact."""
    expected = ndjson(await raw_records(emulator))
    offsets = walk_offsets(emulator)
    emulator.inject(Fault.SERVER_ERROR, times=1, offset=offsets[2])
    emulator.inject(Fault.TRUNCATED_BODY, times=1, offset=offsets[6])
    run = await harvest(emulator, tmp_path, "--out", "o.ndjson", "--quiet")
    assert run.code == 0, run.stderr
    assert run.summary["retries"] >= 2
    assert read(tmp_path / "o.ndjson") == expected


async def test_exhausted_retries_exit_4_and_only_resume_continues(
    emulator: ParenEmulator, tmp_path: Path
) -> None:
    """Retries exhausted: exit 4 and a resume hint; a rerun must say --resume with the same
    arguments; records shifted back into view by then are dropped as duplicates."""
    first = await raw_records(emulator)
    stuck = walk_offsets(emulator)[5]
    emulator.inject(Fault.SERVER_ERROR, offset=stuck, times=None)
    failed = await harvest(emulator, tmp_path, "--out", "o.ndjson", "--max-attempts", "2")
    assert failed.code == 4, failed.stderr
    assert failed.summary["error_type"] == "ServerError"
    # Everything before the failing page is kept (the page may overlap its predecessor by one).
    assert stuck <= failed.summary["offset"] == failed.summary["records"] <= stuck + 1
    hint = (
        "resume with: paren-async harvest --out o.ndjson --format ndjson --max-attempts 2 --resume"
    )
    assert hint in failed.stderr
    journal = read(tmp_path / "o.ndjson.part")

    refused = await harvest(emulator, tmp_path, "--out", "o.ndjson")
    assert refused.code == 5
    assert "pass --resume" in refused.stderr
    other = await harvest(emulator, tmp_path, "--out", "o.ndjson", "--page-size", "50", "--resume")
    assert other.code == 5
    assert "page_size differs: checkpoint 100, now 50" in other.stderr
    assert read(tmp_path / "o.ndjson.part") == journal

    emulator.clear_faults()
    emulator.insert(7, at=0)  # what was not harvested yet moves 7 offsets later
    resumed = await harvest(emulator, tmp_path, "--out", "o.ndjson", "--resume", "--quiet")
    assert resumed.code == 0, resumed.stderr
    assert resumed.summary["duplicates"] == 7
    assert resumed.summary["changed"] is True
    assert read(tmp_path / "o.ndjson") == ndjson(first)


# -- refusals --


async def test_authentication_failure_exits_3(emulator: ParenEmulator, tmp_path: Path) -> None:
    """Wrong credentials exit 3, leave no files, and never print the secret."""
    env = emulator_env(emulator, PAREN_API_SECRET="wrong-secret-4471")
    run = await harvest(emulator, tmp_path, "--out", "o.ndjson", env=env)
    assert run.code == 3
    assert run.summary["error_type"] == "AuthenticationError"
    assert "wrong-secret-4471" not in run.stdout + run.stderr
    assert files(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        pytest.param(["--page-size", "0"], {}, "from 1 to 100", id="argparse"),
        pytest.param(["--api-key", "k"], {}, "unrecognized", id="no-secret-arguments"),
        pytest.param([], {"PAREN_API_SECRET": ""}, "PAREN_API_SECRET", id="no-credentials"),
        pytest.param(["--filter", "limit=5"], {}, "set by the walk", id="filter-reserved"),
    ],
)
async def test_bad_arguments_exit_2(
    emulator: ParenEmulator, tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    """Bad arguments and missing credentials exit 2 with a message, before anything is sent."""
    emulator.reset_statistics()
    run = await harvest(
        emulator, tmp_path, "--out", "o.ndjson", *args, env=emulator_env(emulator, **env)
    )
    assert run.code == 2
    assert message in run.stderr
    assert emulator.statistics().requests == 0
    assert files(tmp_path) == []


def test_demo_harvests_the_embedded_emulator(tmp_path: Path) -> None:
    """The demo serves, harvests through the harvest engine and summarises, in one command."""
    out = tmp_path / "demo.ndjson"
    argv = ["demo", "--locations", "600", "--latency", "5ms", "--jitter", "1ms", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "paren_async", *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Harvested 600 locations" in done.stdout
    assert "latency bound" in done.stdout
    assert "networks" in done.stdout
    assert len(out.read_bytes().splitlines()) == 600
    assert files(tmp_path) == ["demo.ndjson"]
