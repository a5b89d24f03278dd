"""Resilience figures: 429s with and without the shared cooldown, and the cost of the drift check.

    python benchmarks/bench_resilience.py [--records 50000] [--runs 5]

1. Rate limits: a loopback server with a fixed-window quota (``--quota`` requests per second,
   429 with ``Retry-After`` to the end of the window past it) serves a walk with 16 pages in
   flight. The same walk runs with the client's shared cooldown and with it switched off (each
   worker then backs off alone, as clients without a shared gate do). Reported: 429s served, time.
2. Drift check: the emulator (its own process, ``paren-async serve``) is walked with
   ``drift_check=True`` and ``False``, alternating, median of ``--runs``; reported as records/s
   and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from aiohttp import web

from paren_async import ParenClient, RetryPolicy


def _body(offset: int, limit: int, total: int) -> bytes:
    data = [
        {"id": f"L{i:07d}", "address": {"city": "Albany"}}
        for i in range(offset, min(total, offset + limit))
    ]
    return json.dumps({"data": data, "status_code": 200, "status_message": "Success"}).encode()


async def rate_limited_walk(
    *, shared_cooldown: bool, retry_after: bool, total: int, quota: int, concurrency: int
) -> dict[str, Any]:
    served = {"ok": 0, "429": 0}
    window = {"start": 0.0, "count": 0}

    async def locations(request: web.Request) -> web.Response:
        now = time.monotonic()
        if now - window["start"] >= 1.0:
            window["start"], window["count"] = now, 0
        window["count"] += 1
        await asyncio.sleep(0.005)
        if window["count"] > quota:
            served["429"] += 1
            wait = max(0.0, 1.0 - (time.monotonic() - window["start"]))
            headers = {"Retry-After": f"{wait:.3f}"} if retry_after else {}
            return web.Response(status=429, headers=headers)
        served["ok"] += 1
        query = request.query
        return web.Response(
            body=_body(int(query["offset"]), int(query["limit"]), total),
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_get("/metadata/v1/locations", locations)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    retry = RetryPolicy(max_attempts=30, base_delay=0.05, max_delay=1.0)
    started = time.monotonic()
    async with ParenClient(
        "k", "s", base_url=f"http://127.0.0.1:{port}", concurrency=concurrency, retry=retry
    ) as client:
        if not shared_cooldown:
            client._sender.limiter.hold = lambda seconds: None  # type: ignore[method-assign]
        records = len(await client.locations().collect())
        stats = client.statistics()
    elapsed = time.monotonic() - started
    await runner.cleanup()
    return {
        "records": records,
        "429s": served["429"],
        "ok": served["ok"],
        "seconds": elapsed,
        "retries": stats.retries,
    }


def start_emulator(records: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "paren_async", "serve", "--port", "0", "--locations", str(records)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    return process, line.strip().rsplit(" ", 1)[-1]


async def walk_rate(url: str, *, drift_check: bool) -> float:
    async with ParenClient("demo", "demo", base_url=url, concurrency=8) as client:
        started = time.perf_counter()
        count = 0
        async for _ in client.locations(drift_check=drift_check):
            count += 1
        return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--quota", type=int, default=40, help="requests per second the server allows"
    )
    args = parser.parse_args()

    print("## 429s under a fixed-window quota (16 in flight, 20,000 records, 100 per page)")
    for retry_after in (True, False):
        for shared in (True, False, True, False):
            result = asyncio.run(
                rate_limited_walk(
                    shared_cooldown=shared,
                    retry_after=retry_after,
                    total=20_000,
                    quota=args.quota,
                    concurrency=16,
                )
            )
            fields = "  ".join(
                f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()
            )
            print(f"Retry-After={retry_after!s:5} shared cooldown={shared!s:5}  {fields}")

    print(f"\n## drift check cost ({args.records:,} records, concurrency 8, emulator apart)")
    process, url = start_emulator(args.records)
    try:
        rates: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.runs):
            for check in (True, False):
                rates[check].append(asyncio.run(walk_rate(url, drift_check=check)))
        on, off = statistics.median(rates[True]), statistics.median(rates[False])
        print(f"drift_check=True : {on:,.0f} records/s (median of {args.runs})")
        print(f"drift_check=False: {off:,.0f} records/s")
        print(f"ratio on/off     : {on / off:.3f}")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
