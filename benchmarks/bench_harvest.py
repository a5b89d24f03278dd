"""``paren-async harvest`` against its raw baselines on one emulator.

    python -m benchmarks.bench_harvest [--records 100000] [--latency 0] [--rounds 5]

The emulator runs in its own process (``paren-async serve --port 0``). Each round runs three fresh
processes, in rotating order: ``client.locations().raw()`` (records one by one) and
``.raw_pages()`` (the page stream the CLI itself consumes), each dropping every record, and the
CLI harvesting to an NDJSON file (journal, de-duplication, fsync'd checkpoints, atomic rename).
All use the defaults (page size 100, 8 pages in flight). Reported: medians of each process's wall
time (interpreter start and imports included, as a scheduler sees them) and of the walk alone as
each measures it, and each baseline's rate over the CLI's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEY = SECRET = "bench"

BASELINE = """
import asyncio, json, sys, time
from paren_async import ParenClient

async def main():
    async with ParenClient() as client:
        started = time.monotonic()
        records = 0
        if sys.argv[1] == "raw":
            async for _ in client.locations().raw():
                records += 1
        else:
            async for page in client.locations().raw_pages():
                records += len(page.items)
        print(json.dumps({"records": records, "elapsed_s": time.monotonic() - started}))

asyncio.run(main())
"""
NAMES = ("raw", "raw_pages", "cli")


def serve(records: int, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "paren_async", "serve", "--port", "0",
        "--locations", str(records), "--latency", f"{latency_ms}ms",
        "--api-key", KEY, "--api-secret", SECRET,
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    first = server.stdout.readline()
    if not first.startswith("Paren emulator listening on "):
        server.kill()
        raise SystemExit(f"the emulator did not start: {first!r}")
    return server, first.rsplit(" ", 1)[1].strip()


def timed(command: list[str], env: dict[str, str]) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    return wall, json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.0, help="server latency, ms")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    server, url = serve(args.records, args.latency)
    env = {**os.environ, "PAREN_BASE_URL": url, "PAREN_API_KEY": KEY, "PAREN_API_SECRET": SECRET}
    walls: dict[str, list[float]] = {name: [] for name in NAMES}
    walks: dict[str, list[float]] = {name: [] for name in NAMES}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-harvest-") as directory:
            out = Path(directory) / "locations.ndjson"
            commands = {
                name: [sys.executable, "-c", BASELINE, name] for name in ("raw", "raw_pages")
            }
            commands["cli"] = [
                sys.executable, "-m", "paren_async", "harvest", "--out", str(out), "--quiet"
            ]  # fmt: skip
            timed(commands["raw"], env)  # warm-up: the emulator renders and caches every record
            for round_ in range(args.rounds):
                order = NAMES[round_ % 3 :] + NAMES[: round_ % 3]
                for name in order:
                    wall, summary = timed(commands[name], env)
                    assert summary["records"] == args.records, summary
                    walls[name].append(wall)
                    walks[name].append(float(summary["elapsed_s"]))
                    out.unlink(missing_ok=True)
                print(
                    f"round {round_ + 1}: "
                    + ", ".join(f"{name} {walls[name][-1]:.2f} s" for name in NAMES),
                    file=sys.stderr,
                )
    finally:
        server.terminate()
        server.wait()

    print(f"{args.records:,} records, {args.latency:g} ms latency, median of {args.rounds} rounds")
    print(f"{'seconds (records/s)':<20}" + "".join(f"{name:>20}" for name in NAMES))
    for label, series in (("process wall time", walls), ("walk alone", walks)):
        medians = {name: statistics.median(series[name]) for name in NAMES}
        cells = "".join(
            f"{medians[name]:>8.2f} ({args.records / medians[name]:>8,.0f})" for name in NAMES
        )
        ratios = ", ".join(
            f"cli/{name} rate {medians[name] / medians['cli']:.2f}" for name in NAMES[:2]
        )
        print(f"{label:<20}{cells}   {ratios}")


if __name__ == "__main__":
    main()
