"""``paren-async watch`` end to end: the real command in a subprocess against the emulator."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emulator_support import emulator_env

from paren_async.testing import EmulatorFactory, FakeClock, ParenEmulator

pytestmark = pytest.mark.slow


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, Any]:
        """The last line on stdout: one JSON object."""
        summary: dict[str, Any] = json.loads(self.stdout.splitlines()[-1])
        return summary


def cycle_written(path: Path) -> bool:
    return path.exists() and b"cycle_ended" in path.read_bytes()


async def watch(
    emulator: ParenEmulator,
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    interrupt_after: Path | None = None,
) -> Run:
    """Run the command; with ``interrupt_after``, send SIGINT once that file holds a cycle end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "paren_async",
        "watch",
        *args,
        cwd=cwd,
        env=env or emulator_env(emulator),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    if interrupt_after is not None:
        for _ in range(600):
            if cycle_written(interrupt_after):
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGINT)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emulator(paren_emulator_factory: EmulatorFactory, clock: FakeClock) -> ParenEmulator:
    return await paren_emulator_factory(locations=300, clock=clock)


async def test_events_are_appended_and_a_restart_continues_from_the_state(
    emulator: ParenEmulator, clock: FakeClock, tmp_path: Path
) -> None:
    """Two cycles announce every location once; a restart with --state reports only what changed
    since (here: status changes), appended to the same file, cycle numbers continuing."""
    out, state = tmp_path / "events.ndjson", tmp_path / "watch.state"
    args = ("--interval", "0.01", "--out", str(out), "--state", str(state))
    first = await watch(emulator, tmp_path, *args, "--cycles", "2")
    assert first.code == 0, first.stderr
    written = events(out)
    assert [e["event"] for e in written].count("location_added") == 300
    assert {e["location_id"] for e in written if e["event"] == "location_added"} == set(
        emulator.ids()
    )
    assert [e["cycle"] for e in written if e["event"] == "cycle_ended"] == [1, 2]
    assert first.summary["event"] == "watch.stopped" and first.summary["cycles"] == 2
    assert first.summary["added"] == 300 and first.summary["reason"] == "cycles"
    assert first.stderr.count("watch: cycle ") == 2 and "300 added" in first.stderr

    before = clock()
    clock.advance(ParenEmulator.STATUS_PERIOD)
    second = await watch(emulator, tmp_path, *args, "--cycles", "1")
    assert second.code == 0, second.stderr
    new = events(out)[len(written) :]
    assert new[-1]["event"] == "cycle_ended" and new[-1]["cycle"] == 3
    changes = {
        (e["location_id"], e["evse_id"], e["before"], e["after"])
        for e in new
        if e["event"] == "evse_status_changed"
    }
    assert changes == {tuple(c) for c in emulator.realtime_changes(before, clock())}
    assert not any(e["event"] == "location_added" for e in new)
    assert second.summary["resumed_from_cycle"] == 2


async def test_ctrl_c_exits_cleanly_with_one_summary_line(
    emulator: ParenEmulator, tmp_path: Path
) -> None:
    """SIGINT during the pause between cycles: exit 0, events flushed, state saved, summary."""
    out, state = tmp_path / "events.ndjson", tmp_path / "watch.state"
    run = await watch(
        emulator,
        tmp_path,
        "--interval",
        "30",
        "--out",
        str(out),
        "--state",
        str(state),
        interrupt_after=out,
    )
    assert run.code == 0, run.stderr
    assert run.stdout.count("\n") == 1
    assert run.summary["reason"] == "signal SIGINT" and run.summary["complete_cycles"] == 1
    assert events(out)[-1]["event"] == "cycle_ended" and state.exists()
    assert "Traceback" not in run.stderr


async def test_events_go_to_stdout_before_the_summary(
    emulator: ParenEmulator, tmp_path: Path
) -> None:
    """Without --out, stdout holds the events, then the summary line last."""
    run = await watch(emulator, tmp_path, "--cycles", "1", "--first-cycle", "silent", "-q")
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["event"] for line in lines] == ["cycle_ended", "watch.stopped"]
    assert run.stderr == ""


@pytest.mark.parametrize(
    ("setup", "args", "code", "message"),
    [
        pytest.param("no-credentials", (), 2, "PAREN_API_KEY", id="no-credentials"),
        pytest.param("foreign-state", ("--filter", "state=CA"), 5, "filters", id="other-filters"),
        pytest.param("garbage-state", (), 5, "state", id="garbage-state"),
        pytest.param("", ("--interval", "-1"), 2, "interval", id="bad-interval"),
        pytest.param("", ("--filter", "offset=5"), 2, "offset", id="partial-walk"),
    ],
)
async def test_bad_setups_exit_with_a_code_and_a_message(
    emulator: ParenEmulator,
    tmp_path: Path,
    setup: str,
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    """Configuration problems exit 2, state problems 5, each with a readable message."""
    state = tmp_path / "watch.state"
    env = emulator_env(emulator)
    if setup == "no-credentials":
        del env["PAREN_API_SECRET"]
    elif setup == "foreign-state":
        from paren_async.watch import WatchState

        WatchState({"state": "NY"}).save(state)
    elif setup == "garbage-state":
        state.write_bytes(b"not a state")
    run = await watch(emulator, tmp_path, "--state", str(state), "--cycles", "1", *args, env=env)
    assert run.code == code
    assert message in run.stderr
    if setup != "" or args[0] != "--interval":  # argparse's own errors print no JSON
        assert run.summary["exit"] == code
    assert "demo" not in run.stdout + run.stderr.replace("paren-async", "")
