"""``paren-async sync`` end to end: the real command in a subprocess, killed at random points."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emulator_support import emulator_env
from sync_support import files, rows, state

from benchmarks.bench_sync import LABELS
from paren_async.testing import EmulatorFactory, ParenEmulator

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def summary(self) -> dict[str, Any]:
        """The one JSON line on stdout."""
        lines = self.stdout.splitlines()
        assert len(lines) == 1, self.stdout
        summary: dict[str, Any] = json.loads(lines[0])
        return summary


async def sync(
    emulator: ParenEmulator | None,
    *args: str,
    kill_after: float | None = None,
    send: signal.Signals = signal.SIGKILL,
    when_requests: int | None = None,
) -> Run:
    """Run the command; send ``send`` after ``kill_after`` s or once the server saw requests."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "paren_async",
        "sync",
        *args,
        env=emulator_env(emulator),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    if kill_after is not None:
        await asyncio.sleep(kill_after)
        if process.returncode is None:
            process.send_signal(send)
    if when_requests is not None:
        assert emulator is not None
        while True:
            if emulator.statistics().requests >= when_requests:
                break
            await asyncio.sleep(0.005)
        process.send_signal(send)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode(), time.monotonic() - started)


def copy_db(source: Path, target: Path) -> None:
    """Replace ``target`` (and its WAL, scratch...) by a copy of ``source``."""
    for path in target.parent.glob(target.name + "*"):
        path.unlink()
    for path in source.parent.glob(source.name + "*"):
        shutil.copy(path, target.parent / (target.name + path.name[len(source.name) :]))


async def test_sync_reports_once_on_stdout_and_sums_up_on_stderr(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """Exit 0, one JSON line with the counts, a human summary on stderr."""
    emu = await paren_emulator_factory(locations=300)
    db = tmp_path / "stations.duckdb"
    run = await sync(emu, "--into", str(db))
    assert run.code == 0, run.stderr
    summary = run.summary
    assert summary["event"] == "sync.done"
    assert (summary["records"], summary["added"], summary["changed"]) == (300, 300, 0)
    assert {"removed", "status_changes", "elapsed_s", "records_per_s"} <= set(summary)
    assert "300 added, 0 changed, 0 removed" in run.stderr
    quiet = await sync(emu, "--into", str(db), "--quiet")
    assert (quiet.code, quiet.stderr, quiet.summary["changes"]) == (0, "", 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--filter", "state=NY", "--filter", "state=NJ"), "more than once", id="repeated-filter"
        ),
        pytest.param((), "PAREN_API_KEY", id="no-credentials"),
    ],
)
async def test_usage_errors_exit_2_with_a_json_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    """Bad arguments or configuration: exit 2, the reason on stderr and in the JSON line."""
    run = await sync(None, "--into", str(tmp_path / "s.duckdb"), *args)
    assert run.code == 2
    assert run.summary["event"] == "sync.failed" and message in run.summary["error"]
    assert message in run.stderr
    assert files(tmp_path) == []


async def test_sigkill_at_random_points_keeps_the_previous_state(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """Killed at random moments of a sync: the database is as before; the next run is exact."""
    emu = await paren_emulator_factory(locations=12_000)
    base = tmp_path / "base.duckdb"
    assert (await sync(emu, "--into", str(base), "-q")).code == 0
    previous = state(base)
    emu.insert(30, at=5_000)
    emu.remove(20, at=11_000)

    control = tmp_path / "control.duckdb"
    copy_db(base, control)
    uninterrupted = await sync(emu, "--into", str(control), "-q")
    assert uninterrupted.summary["changes"] == 50
    expected = state(control)

    work = tmp_path / "work.duckdb"
    copy_db(base, work)
    rng = random.Random(11)
    killed = 0
    for _ in range(6):
        point = rng.uniform(0.3, 0.95) * uninterrupted.seconds
        run = await sync(emu, "--into", str(work), "-q", kill_after=point)
        after = state(work)
        if run.code == -signal.SIGKILL and after == previous:
            killed += 1
            continue
        # Killed after the commit (while closing) or not killed at all: the run is complete.
        assert run.code in (0, -signal.SIGKILL)
        assert after == expected
        copy_db(base, work)
    assert killed >= 3
    final = await sync(emu, "--into", str(work), "-q")
    assert final.code == 0, final.stderr
    assert state(work) == expected
    assert [name for name in files(tmp_path) if name.startswith("work")] == ["work.duckdb"]


@pytest.mark.parametrize(
    "sig", [pytest.param(signal.SIGINT, id="sigint"), pytest.param(signal.SIGTERM, id="sigterm")]
)
async def test_interrupt_exits_130_and_changes_nothing(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path, sig: signal.Signals
) -> None:
    """Ctrl-C or SIGTERM during the walk: exit 130, one JSON line, the database as it was."""
    emu = await paren_emulator_factory(locations=2_000, latency=0.02)
    db = tmp_path / "stations.duckdb"
    assert (await sync(emu, "--into", str(db), "-q")).code == 0
    before = state(db)
    emu.remove(10, at=0)
    emu.reset_statistics()
    stopped = await sync(emu, "--into", str(db), send=sig, when_requests=4)
    assert stopped.code == 130, stopped.stderr
    assert stopped.summary["event"] == "sync.interrupted"
    assert "is unchanged" in stopped.stderr
    assert state(db) == before
    assert rows(db, "SELECT count(*) FROM runs") == [(1,)]
    assert files(tmp_path) == ["stations.duckdb"]


async def test_the_sync_benchmark_runs_and_counts_exactly(tmp_path: Path) -> None:
    """``benchmarks/bench_sync.py`` on a tiny collection: figures for all three, exact changes,
    and its results file written where asked, with the command that made it."""
    written = tmp_path / "RESULTS-sync.md"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.bench_sync", "--records", "1500", "--changes", "5",
        "--out", str(written),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()
    out = stdout.decode()
    assert all(f"  {name} " in out for name in ("harvest", "sync", "resync")), out
    assert "recorded (exact)" in out
    results = written.read_text(encoding="utf-8")
    assert f"python -m benchmarks.bench_sync --records 1500 --changes 5 --out {written}" in results
    assert "Change count check: **exact**" in results
    assert all(f"| {LABELS[name]} |" in results for name in ("harvest", "sync", "resync"))
