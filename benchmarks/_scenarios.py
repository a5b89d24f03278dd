"""What is measured (the plan) and how one scenario is run: alternating contenders, medians.

A *cell* is one server latency, one concurrency and one collection size, walked by several
contenders. Each repeat runs every contender once, the order reversed on every other repeat
(ABC CBA ...), so drift in the machine's load lands on all of them alike.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from ._contenders import BY_KEY, Target
from ._server import Server

__all__ = ["FULL", "QUICK", "Cell", "CellResult", "Plan", "Run", "run_cell"]

HEAD: Final = ("typed", "raw", "limit", "rawlimit", "transport", "httpx", "sequential")
SWEEP: Final = ("typed", "raw", "limit", "httpx")
#: At 0 ms the client's CPU sets the pace: the raw pair is compared at every concurrency too.
SWEEP_0: Final = (*SWEEP, "rawlimit")
COLLECT: Final = ("collect", "collectlimit")
#: The pairs whose ratio the client's CPU decides (0 ms): typed and raw with their limits.
CPU: Final = ("typed", "limit", "raw", "rawlimit")
#: Only what the issue 10 latency targets compare (the quick plan's extra concurrencies).
PAIR: Final = ("typed", "limit")


@dataclass(frozen=True, slots=True)
class Cell:
    latency_ms: float
    concurrency: int
    records: int
    contenders: tuple[str, ...]
    repeats: int

    @property
    def head(self) -> bool:
        """A head-to-head cell: every contender, the default concurrency."""
        return "sequential" in self.contenders

    @property
    def collect(self) -> bool:
        """A cell of walks that keep every record (``collect()`` and its baseline)."""
        return "collect" in self.contenders


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    cells: tuple[Cell, ...]
    decode_records: int
    decode_repeats: int
    memory_sizes: tuple[int, ...]
    memory_contenders: tuple[str, ...]
    warmup_records: int

    def scaled(self, factor: float) -> Plan:
        """The same plan over collections ``factor`` times as large (at least two pages)."""

        def size(n: int) -> int:
            return max(200, round(n * factor / 100) * 100)

        cells = tuple(
            Cell(c.latency_ms, c.concurrency, size(c.records), c.contenders, c.repeats)
            for c in self.cells
        )
        memory = tuple(dict.fromkeys(size(n) for n in self.memory_sizes))
        return Plan(
            name=f"{self.name} x{factor:g}",
            cells=cells,
            decode_records=size(self.decode_records),
            decode_repeats=self.decode_repeats,
            memory_sizes=memory,
            memory_contenders=self.memory_contenders,
            warmup_records=size(self.warmup_records),
        )


def _repeats(latency: float, concurrency: int) -> int:
    """Five alternated runs where an issue 10 target reads the ratio, three elsewhere."""
    return 5 if (latency, concurrency) in {(20, 32), (100, 32)} else 3


def _full_cells() -> tuple[Cell, ...]:
    cells = [
        Cell(0, 8, 100_000, HEAD, 5),
        # The 0 ms, c=4 target on 1,000 pages: walks of 20,000 records last ~0.15 s at 0 ms,
        # short enough for the machine's other work to move the ratio by tens of percent.
        Cell(0, 4, 100_000, CPU, 5),
        Cell(20, 8, 20_000, HEAD, 3),
        Cell(100, 8, 20_000, HEAD, 3),
        Cell(0, 8, 60_000, COLLECT, 5),
    ]
    # The sweep: 20,000 records. Concurrency 1 at 20 ms and 1 and 2 at 100 ms would take 4 to 20
    # s a run each, and are what the sequential contender already shows (one page at a time).
    cells += [Cell(0, c, 20_000, SWEEP_0, _repeats(0, c)) for c in (1, 2, 4, 8, 16, 32)]
    cells += [Cell(20, c, 20_000, SWEEP, _repeats(20, c)) for c in (2, 4, 16, 32)]
    cells += [Cell(100, c, 20_000, SWEEP, _repeats(100, c)) for c in (4, 16, 32)]
    return tuple(cells)


FULL: Final = Plan(
    name="full",
    cells=_full_cells(),
    decode_records=10_000,
    decode_repeats=5,
    memory_sizes=(10_000, 60_000, 100_000, 1_000_000),
    memory_contenders=("typed", "raw"),
    warmup_records=2_000,
)

QUICK: Final = Plan(
    name="quick",
    cells=(
        Cell(0, 8, 2_000, HEAD, 1),
        Cell(20, 8, 2_000, HEAD, 1),
        Cell(0, 8, 2_000, COLLECT, 1),
        Cell(0, 4, 2_000, SWEEP_0, 1),
        Cell(20, 32, 2_000, SWEEP, 1),
        Cell(100, 8, 2_000, PAIR, 1),
        Cell(100, 32, 2_000, PAIR, 1),
    ),
    decode_records=1_000,
    decode_repeats=1,
    memory_sizes=(1_000, 5_000),
    memory_contenders=("typed", "raw"),
    warmup_records=200,
)


@dataclass(frozen=True, slots=True)
class Run:
    contender: str
    seen: int
    seconds: float
    cpu_seconds: float
    server_cpu_seconds: float
    #: HTTP requests the emulator received during the walk; None when it cannot say.
    requests: int | None = None


@dataclass(frozen=True, slots=True)
class CellResult:
    """Every run of one cell, and medians per contender."""

    cell: Cell
    runs: tuple[Run, ...] = field(default=())

    @property
    def pages(self) -> int:
        return Target("", self.cell.records, self.cell.concurrency).pages

    def of(self, contender: str) -> list[Run]:
        return [run for run in self.runs if run.contender == contender]

    def seconds(self, contender: str) -> float:
        return statistics.median(run.seconds for run in self.of(contender))

    def records_per_second(self, contender: str) -> float:
        return self.cell.records / self.seconds(contender)

    def cpu_ms_per_page(self, contender: str) -> float:
        """Client CPU per page of data (the speculative pages a walk may add are its own cost)."""
        cpu = statistics.median(run.cpu_seconds for run in self.of(contender))
        return 1000 * cpu / self.pages

    def requests_per_walk(self, contender: str) -> float | None:
        """Median HTTP requests the server received per walk (None: not measured)."""
        counts = [run.requests for run in self.of(contender) if run.requests is not None]
        return statistics.median(counts) if counts else None

    def server_busy(self, contender: str) -> float:
        """Fraction of one core the server used during the runs (1.0: the server was the limit)."""
        return statistics.median(run.server_cpu_seconds / run.seconds for run in self.of(contender))

    def concurrency_of(self, contender: str) -> int:
        return 1 if BY_KEY[contender].sequential else self.cell.concurrency

    def bound_seconds(self, contender: str) -> float | None:
        """The latency bound, pages / concurrency x latency; None without latency."""
        if not self.cell.latency_ms:
            return None
        return self.pages / self.concurrency_of(contender) * self.cell.latency_ms / 1000

    def of_bound(self, contender: str) -> float | None:
        bound = self.bound_seconds(contender)
        return None if bound is None else bound / self.seconds(contender)

    def ratio(self, contender: str, baseline: str) -> float | None:
        if not self.of(contender) or not self.of(baseline):
            return None
        return self.records_per_second(contender) / self.records_per_second(baseline)


def timed_walk(contender: str, target: Target, server: Server) -> Run:
    walk = BY_KEY[contender].walk
    gc.collect()  # the previous run's garbage is not this run's cost
    requests = server.requests_served(settle=True)
    server_cpu = server.cpu_seconds()
    started, cpu = time.perf_counter(), time.process_time()
    seen = walk(target)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server_cpu = server.cpu_seconds() - server_cpu
    if seen != target.records:
        raise RuntimeError(f"{contender} saw {seen} records, expected {target.records}")
    after = server.requests_served(settle=True)
    served = None if after is None or requests is None else after - requests
    return Run(contender, seen, seconds, cpu, server_cpu, served)


def run_cell(cell: Cell, server: Server, progress: Callable[[str], None]) -> CellResult:
    target = Target(server.url, cell.records, cell.concurrency)
    runs: list[Run] = []
    for repeat in range(cell.repeats):
        order = cell.contenders if repeat % 2 == 0 else cell.contenders[::-1]
        for contender in order:
            run = timed_walk(contender, target, server)
            runs.append(run)
            progress(
                f"  {cell.latency_ms:g} ms c={cell.concurrency} {cell.records:,} "
                f"#{repeat + 1} {contender:<12} {cell.records / run.seconds:>9,.0f} rec/s"
                f"  {run.requests if run.requests is not None else '-'} requests"
            )
    return CellResult(cell, tuple(runs))
