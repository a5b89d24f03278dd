"""``python -m benchmarks``: run the plan, write RESULTS.md and the chart next to it.

The full plan takes about 10-15 minutes on a 2-core machine; ``--quick`` is a smoke run of well
under a minute (small collections, one run each), used by the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

from . import _chart, _decode, _memory, _report
from ._contenders import ALL, BY_KEY, Target
from ._scenarios import FULL, QUICK, Cell, CellResult, Plan, run_cell
from ._server import Server

HERE = Path(__file__).resolve().parent
CHART = "records_per_second.png"
#: Records the emulator keeps rendered; beyond that it renders each page as it is asked for.
EMULATOR_CACHE = 100_000


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _warm_up(url: str, records: int) -> None:
    """One untimed walk per contender: imports, decoders, pydantic's lazily built validators."""
    target = Target(url, records, 8, max_items=records)
    for contender in ALL:
        contender.walk(target)


def _walks(plan: Plan) -> tuple[list[CellResult], list[bytes]]:
    """Every scenario, one server per (latency, size); also the page bodies decode alone needs.

    The warm-up and the recording of pages use the first 0 ms server rather than servers of their
    own: each emulator takes a second or two to start.
    """
    results: dict[Cell, CellResult] = {}
    bodies: list[bytes] = []
    warmed = False

    def server_key(cell: Cell) -> tuple[float, int]:
        return (cell.latency_ms, cell.records)

    for (latency, records), cells in groupby(sorted(plan.cells, key=server_key), server_key):
        with Server(records, latency) as server:
            _progress(f"server {server.url}: {records:,} locations, {latency:g} ms latency")
            # Fill the emulator's record cache: the first walk over a collection renders it.
            BY_KEY["transport"].walk(Target(server.url, records, 8))
            if not warmed:
                if latency:
                    with Server(plan.warmup_records, 0) as spare:
                        _warm_up(spare.url, plan.warmup_records)
                else:
                    _warm_up(server.url, min(plan.warmup_records, records))
                warmed = True
            if not bodies and not latency and records >= plan.decode_records:
                bodies = _decode.record_pages(Target(server.url, plan.decode_records, 1))
            for cell in cells:
                results[cell] = run_cell(cell, server, _progress)
    return [results[cell] for cell in plan.cells], bodies


def _decode_alone(plan: Plan, bodies: list[bytes]) -> list[_decode.DecodeResult]:
    if not bodies:
        with Server(plan.decode_records, 0) as server:
            bodies = _decode.record_pages(Target(server.url, plan.decode_records, 1))
    _progress(f"decode: {plan.decode_records:,} records, {plan.decode_repeats} repeats")
    return _decode.run_decode(bodies, repeats=plan.decode_repeats)


def _memory_runs(plan: Plan) -> list[_memory.MemoryResult]:
    found = []
    for records in plan.memory_sizes:
        with Server(records, 0) as server:
            if records <= EMULATOR_CACHE:
                # Warm: the walk's time then shows the client, not the emulator rendering.
                BY_KEY["transport"].walk(Target(server.url, records, 8))
            for contender in plan.memory_contenders:
                result = _memory.measure(server, records, contender, 8)
                _progress(
                    f"memory: {contender} {records:,} records: peak "
                    f"{result.peak_rss / 2**20:.1f} MiB, {result.records_per_second:,.0f} rec/s"
                )
                found.append(result)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="paren-async against the stack limit, httpx + pydantic and a sequential "
        "requests loop, on a loopback emulator in its own process.",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small, one run each")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply every collection size (e.g. 0.1)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "RESULTS.md",
        help=f"report path; the chart {CHART} is written next to it",
    )
    parser.add_argument(
        "--skip",
        action="append",
        choices=("decode", "memory"),
        default=[],
        help="leave a section out (repeatable)",
    )
    args = parser.parse_args(argv)
    if not args.scale > 0:
        parser.error("--scale must be positive")
    plan = QUICK if args.quick else FULL
    if args.scale != 1:
        plan = plan.scaled(args.scale)

    started, clock = dt.datetime.now(dt.timezone.utc), time.perf_counter()
    load_before = os.getloadavg()
    # Before the walks: the commit measured is the one checked out when the run began.
    machine = _report.Machine.describe()
    _progress(f"plan {plan.name}: {len(plan.cells)} scenarios")
    cells, bodies = _walks(plan)
    decode = [] if "decode" in args.skip else _decode_alone(plan, bodies)
    memory = [] if "memory" in args.skip else _memory_runs(plan)

    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    chart = _chart.write_chart(cells, out.parent / CHART)
    outcome = _report.Outcome(
        plan=plan,
        command=" ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])]),
        started=started,
        seconds=time.perf_counter() - clock,
        load_before=load_before,
        load_after=os.getloadavg(),
        machine=machine,
        cells=tuple(cells),
        decode=tuple(decode),
        memory=tuple(memory),
        chart=chart,
    )
    out.write_text(_report.render(outcome), encoding="utf-8")
    _progress(f"wrote {out}" + (f" and {out.parent / chart}" if chart.endswith(".png") else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
