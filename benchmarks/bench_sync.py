"""``paren-async sync`` against a plain NDJSON harvest of the same data, and its change counts.

    python -m benchmarks.bench_sync [--records 100000] [--latency 20] [--rounds 3] [--changes 50]

Speed: the emulator runs in its own process (``paren-async serve``); each round runs, as fresh
processes in rotating order, ``paren-async harvest`` to NDJSON, a first ``paren-async sync`` into
an empty DuckDB file, and a second sync of the unchanged data into that file. Reported: medians
of process wall time (interpreter start and imports included, as a scheduler sees them) and each
sync's records/s over the harvest's (the issue's target: >= 0.7 at 100,000 records).

Changes: in-process, on a Realtime emulator with a fixed clock: a sync, then ``--changes``
inserts and removals and a clock step of one status period, then a second sync. The second
sync must record exactly inserts + removals + the EVSE status changes that a typed walk before
and after sees, and nothing else (the clock step also moves every timestamp: no rows for those).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paren_async import ParenClient
from paren_async._sync import SyncOptions, sync
from paren_async.testing import ParenEmulator

from .bench_harvest import KEY, SECRET, serve

NAMES = ("harvest", "sync", "resync")


def timed(command: list[str], env: dict[str, str]) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, json.loads(done.stdout.splitlines()[-1])


def speed(records: int, latency: float, rounds: int) -> dict[str, float]:
    server, url = serve(records, latency)
    env = {**os.environ, "PAREN_BASE_URL": url, "PAREN_API_KEY": KEY, "PAREN_API_SECRET": SECRET}
    walls: dict[str, list[float]] = {name: [] for name in NAMES}
    cli = [sys.executable, "-m", "paren_async"]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as directory:
            out, db = Path(directory) / "locations.ndjson", Path(directory) / "stations.duckdb"
            commands = {
                "harvest": [*cli, "harvest", "--out", str(out), "--quiet"],
                "sync": [*cli, "sync", "--into", str(db), "--quiet"],
                "resync": [*cli, "sync", "--into", str(db), "--quiet"],
            }
            timed(commands["harvest"], env)  # warm-up: the emulator renders every record once
            out.unlink()
            for round_ in range(rounds):
                # harvest and the first sync rotate; the second sync needs the first.
                pair = ("harvest", "sync") if round_ % 2 == 0 else ("sync", "harvest")
                for name in (*pair, "resync"):
                    wall, summary = timed(commands[name], env)
                    assert summary["records"] == records, summary
                    walls[name].append(wall)
                out.unlink()
                for path in Path(directory).glob("stations.duckdb*"):
                    path.unlink()
                print(
                    f"round {round_ + 1}: "
                    + ", ".join(f"{name} {walls[name][-1]:.2f} s" for name in NAMES),
                    file=sys.stderr,
                )
    finally:
        server.terminate()
        server.wait()
    return {name: statistics.median(walls[name]) for name in NAMES}


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


async def statuses(client: ParenClient) -> dict[tuple[str, str], str | None]:
    return {
        (location.id, evse.id or ""): evse.status
        async for location in client.realtime_locations()
        for evse in location.charging_pool.evses
    }


async def changes(records: int, injected: int) -> dict[str, int]:
    """Two syncs around known changes; returns expected and recorded counts."""
    clock = Clock()
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as directory:
        db = Path(directory) / "stations.duckdb"
        options = SyncOptions(db, realtime=True)
        emulator = ParenEmulator(locations=records, clock=clock)
        async with (
            emulator as emu,
            ParenClient(emu.api_key, emu.api_secret, base_url=emu.url) as client,
        ):
            first = await sync(client, options, handle_signals=False)
            assert first.status == "done", first.as_json()
            before = await statuses(client)
            inserted = emu.insert(injected, at=records // 3)
            removed = emu.remove(injected, at=records // 2)
            clock.now += 30.0  # one status period: every EVSE draws a new status
            after = await statuses(client)
            flips = sum(
                1 for key, status in after.items() if key in before and before[key] != status
            )
            started = time.perf_counter()
            second = await sync(client, options, handle_signals=False)
            elapsed = time.perf_counter() - started
        summary = second.as_json()
    return {
        "expected": len(inserted) + len(removed) + flips,
        "recorded": int(summary["changes"]),  # type: ignore[call-overload]
        "added": int(summary["added"]),  # type: ignore[call-overload]
        "removed": int(summary["removed"]),  # type: ignore[call-overload]
        "status_changes": int(summary["status_changes"]),  # type: ignore[call-overload]
        "expected_status": flips,
        "refreshed": int(summary["refreshed"]),  # type: ignore[call-overload]
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000)
    parser.add_argument("--latency", type=float, default=20.0, help="server latency, ms")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--changes", type=int, default=20, help="inserts and as many removals")
    args = parser.parse_args()

    medians = speed(args.records, args.latency, args.rounds)
    print(f"{args.records:,} records, {args.latency:g} ms latency, median of {args.rounds} rounds")
    for name in NAMES:
        rate = args.records / medians[name]
        ratio = medians["harvest"] / medians[name]
        print(f"  {name:<8} {medians[name]:7.2f} s  {rate:>9,.0f} records/s  {ratio:.2f}x harvest")

    found = asyncio.run(changes(args.records, args.changes))
    verdict = "exact" if found["expected"] == found["recorded"] else "MISMATCH"
    print(
        f"changes: {args.changes} inserts + {args.changes} removals + "
        f"{found['expected_status']:,} EVSE status changes = {found['expected']:,} expected, "
        f"{found['recorded']:,} recorded ({verdict}); {found['refreshed']:,} records differed "
        f"only in timestamps; second sync {found['seconds']} s in-process"
    )
    if verdict != "exact":
        raise SystemExit(json.dumps(found))


if __name__ == "__main__":
    main()
