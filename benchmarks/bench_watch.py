"""``watch_realtime``: memory per location, requests per cycle and cycle time, by size.

    python -m benchmarks.bench_watch [--records 10000 [100000 ...]] [--cycles 3]

The emulator runs in its own process (``paren-async serve --port 0``, no latency). For each size
a fresh interpreter first walks the Realtime API once with ``.raw()`` (the request count of a
single walk), then, under ``tracemalloc``, watches ``--cycles`` cycles with ``interval=0`` (first
cycle ``snapshot``: every location announced, events dropped as they come). Reported per size:
memory still allocated after each cycle above what was allocated before the watch started (the
watch's memory: its state, with the client's own small buffers), the part allocated by the
``paren_async/_watch`` modules alone, the peak during the cycles, requests per cycle against the
single walk, and seconds per cycle (slowed by ``tracemalloc``). Flat means the same bytes per
location at every size and after every cycle.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from ._server import API_KEY, API_SECRET, Server

CHILD = """
import asyncio, json, sys, time, tracemalloc
from paren_async import ParenClient
from paren_async.watch import CycleEnded, watch_realtime

async def main(url, cycles):
    async with ParenClient(sys.argv[3], sys.argv[4], base_url=url) as client:
        one_walk = []
        for _ in range(2):  # a walk's own count varies by a request or two past the end
            before = client.statistics().requests
            async for _ in client.realtime_locations().raw():
                pass
            one_walk.append(client.statistics().requests - before)
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        after, requests, seconds = [], [], []
        mark, started = client.statistics().requests, time.monotonic()
        events = watch_realtime(client, interval=0)
        async for event in events:
            if isinstance(event, CycleEnded):
                after.append(tracemalloc.get_traced_memory()[0] - baseline)
                now = client.statistics().requests
                requests.append(now - mark)
                seconds.append(round(time.monotonic() - started, 3))
                mark, started = now, time.monotonic()
                locations = event.locations
                if len(after) == cycles:
                    break
        # While the watch (and so its state) is alive: what its own modules allocated.
        peak = tracemalloc.get_traced_memory()[1] - baseline
        watch_only = sum(
            stat.size
            for stat in tracemalloc.take_snapshot().statistics("filename")
            if "/_watch/" in stat.traceback[0].filename
        )
        await events.aclose()
    print(json.dumps({
        "locations": locations, "one_walk_requests": one_walk, "requests": requests,
        "retained": after, "watch_modules": watch_only, "peak": peak, "seconds": seconds,
    }))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def measure(server: Server, cycles: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, server.url, str(cycles), API_KEY, API_SECRET],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_watch")
    parser.add_argument("--records", type=int, nargs="+", default=[10_000])
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args(argv)
    print(
        "| locations | requests/cycle (plain walks) | bytes/location after each cycle | "
        "of which _watch | peak bytes/location | s/cycle |"
    )
    print("|---:|---|---|---:|---:|---|")
    for records in args.records:
        with Server(records, 0.0).start() as server:
            r = measure(server, args.cycles)
        n = int(r["locations"])  # type: ignore[call-overload]
        per = " / ".join(f"{b / n:,.0f}" for b in r["retained"])  # type: ignore[attr-defined]
        print(
            f"| {n:,} | {', '.join(map(str, r['requests']))} "
            f"({', '.join(map(str, r['one_walk_requests']))}) "  # type: ignore[call-overload]
            f"| {per} | {int(r['watch_modules']) / n:,.0f} | {int(r['peak']) / n:,.0f} "  # type: ignore[call-overload]
            f"| {', '.join(map(str, r['seconds']))} |",  # type: ignore[call-overload]
            flush=True,
        )


if __name__ == "__main__":
    main()
