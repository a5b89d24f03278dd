"""The targets RESULTS.md opens with: issue 10's four speed ratios, then the earlier targets.

Every ratio divides the medians of two contenders of one cell (same server, same run, runs
alternated), so the machine's load lands on both alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from . import _rounds
from ._contenders import BY_KEY
from ._memory import MemoryResult
from ._scenarios import CellResult

__all__ = ["FLAT_TOLERANCE", "Pair", "Target", "earlier_targets", "section", "speed_targets"]

#: Peak RSS of the biggest walk within this of the smallest's counts as flat.
FLAT_TOLERANCE: Final = 0.10
_MIB: Final = 1024 * 1024
#: Issue 10, section 5: the settings of the latency target, (latency ms, concurrency).
LATENCY_SETTINGS: Final = ((20, 8), (20, 32), (100, 8), (100, 32))


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured in this run


@dataclass(frozen=True, slots=True)
class Pair:
    """A contender and its baseline in one cell: one ratio a target reads."""

    result: CellResult
    contender: str
    baseline: str

    @property
    def ratio(self) -> float:
        return self.result.ratio(self.contender, self.baseline) or 0.0

    @property
    def setting(self) -> str:
        cell = self.result.cell
        return f"{cell.latency_ms:g} ms, c={cell.concurrency}, {cell.records:,} records"


@dataclass(frozen=True, slots=True)
class SpeedTarget:
    walk: str
    contender: str
    baseline: str
    floor: float
    pairs: tuple[Pair, ...]  # empty: not measured; several: the worst one counts

    @property
    def worst(self) -> Pair | None:
        return min(self.pairs, key=lambda pair: pair.ratio) if self.pairs else None

    @property
    def met(self) -> bool | None:
        worst = self.worst
        return None if worst is None else worst.ratio >= self.floor

    @property
    def title(self) -> str:
        """The walk, and where it was measured when that is one setting."""
        if len(self.pairs) != 1:
            return self.walk
        return f"{self.walk}, {self.pairs[0].setting}"

    @property
    def measured(self) -> str:
        worst = self.worst
        if worst is None:
            return "not measured"
        if len(self.pairs) == 1:
            return f"{worst.ratio:.2f}x"
        cell = worst.result.cell
        return f"worst {worst.ratio:.2f}x ({cell.latency_ms:g} ms, c={cell.concurrency})"


def _pair(
    cells: Sequence[CellResult],
    contender: str,
    baseline: str,
    latency: float,
    concurrency: int | None = None,
) -> tuple[Pair, ...]:
    """The pair from the cell at these settings that has both; the biggest, most repeated one."""
    found = [
        r
        for r in cells
        if r.cell.latency_ms == latency
        and (concurrency is None or r.cell.concurrency == concurrency)
        and r.of(contender)
        and r.of(baseline)
    ]
    if not found:
        return ()
    best = max(found, key=lambda r: (r.cell.records, r.cell.repeats))
    return (Pair(best, contender, baseline),)


def speed_targets(cells: Sequence[CellResult]) -> list[SpeedTarget]:
    """Issue 10, section 5, in its order."""
    latency_pairs = tuple(
        pair
        for latency, concurrency in LATENCY_SETTINGS
        for pair in _pair(cells, "typed", "limit", latency, concurrency)
    )
    return [
        SpeedTarget("`.raw()`", "raw", "rawlimit", 0.85, _pair(cells, "raw", "rawlimit", 0, 8)),
        SpeedTarget("typed", "typed", "limit", 0.92, _pair(cells, "typed", "limit", 0, 4)),
        SpeedTarget(
            "`collect()`", "collect", "collectlimit", 0.85,
            _pair(cells, "collect", "collectlimit", 0, 8),
        ),
        SpeedTarget(
            "typed at 20 and 100 ms latency, concurrency 8 and 32", "typed", "limit", 0.90,
            latency_pairs,
        ),
    ]  # fmt: skip


def _memory_growth(memory: Sequence[MemoryResult], contender: str) -> tuple[str, bool] | None:
    runs = sorted((m for m in memory if m.contender == contender), key=lambda m: m.records)
    if len(runs) < 2:
        return None
    small, large = runs[0], runs[-1]
    change = large.peak_rss / small.peak_rss - 1
    text = (
        f"{contender}: {small.peak_rss / _MIB:.0f} MiB at {small.records:,} -> "
        f"{large.peak_rss / _MIB:.0f} MiB at {large.records:,} ({change:+.0%})"
    )
    return text, change <= FLAT_TOLERANCE


def _ratio_target(
    cells: Sequence[CellResult], name: str, latency: float, contender: str, baseline: str,
    floor: float,
) -> Target:  # fmt: skip
    head = next((r for r in cells if r.cell.head and r.cell.latency_ms == latency), None)
    ratio = None if head is None else head.ratio(contender, baseline)
    if ratio is None:
        return Target(name, "not measured", None)
    return Target(name, f"{ratio:.2f}x", ratio >= floor)


def earlier_targets(
    cells: Sequence[CellResult], memory: Sequence[MemoryResult], memory_contenders: Sequence[str]
) -> list[Target]:
    """Targets of earlier issues that issue 10 did not replace."""
    found = [
        _ratio_target(cells, "typed >= 2.5x httpx + pydantic at 0 ms", 0, "typed", "httpx", 2.5),
        _ratio_target(
            cells, "typed >= 5x the sequential loop at 20 ms, c=8", 20, "typed", "sequential", 5
        ),
        _ratio_target(cells, "raw >= 2x typed at 0 ms", 0, "raw", "typed", 2),
    ]
    for contender in memory_contenders:
        growth = _memory_growth(memory, contender)
        name = f"peak memory flat ({contender}, within {FLAT_TOLERANCE:.0%})"
        found.append(Target(name, *growth) if growth else Target(name, "not measured", None))
    return found


# -- markdown --------------------------------------------------------------------------------


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "-"}[met]


def table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def requests_text(value: float | None) -> str:
    """A median count: whole unless the median fell between two runs' counts."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _label(contender: str) -> str:
    return BY_KEY[contender].label


def _measurements(speed: Sequence[SpeedTarget]) -> list[list[str]]:
    rows = []
    for target in speed:
        for pair in target.pairs:
            r = pair.result
            for contender in (pair.contender, pair.baseline):
                rows.append(
                    [
                        pair.setting,
                        _label(contender),
                        f"{r.records_per_second(contender):,.0f}",
                        f"{r.ratio(contender, pair.baseline):.2f}x",
                        f"{r.cpu_ms_per_page(contender):.2f}",
                        requests_text(r.requests_per_walk(contender)),
                        str(r.cell.repeats),
                    ]
                )
    return rows


def _round_trips(pairs: Sequence[Pair]) -> list[str]:
    """What the latency ratios can reach: the walk's round trips against the count-aware loop's."""
    rows = []
    for pair in pairs:
        cell = pair.result.cell
        loop = _rounds.count_aware(cell.records, cell.concurrency)
        walk = _rounds.paren_async(cell.records, cell.concurrency)
        bound = f"{loop / walk:.2f}x"
        rows.append([pair.setting, str(loop), str(walk), bound, f"{pair.ratio:.2f}x"])
    if not rows:
        return []
    return [
        "At 20 and 100 ms a walk's time is its round trips. The count-aware loop needs pages / "
        "concurrency of them; paren-async also pays its slow start (one page, then twice as many "
        "after each full one), pages of 99 new records (the drift overlap) and one request after "
        "the last page to confirm the end (`shared/paren-api.md`: a short page is only a hint). "
        "Round trips counted by `benchmarks/_rounds.py` (the real client on `MockTransport`):",
        "",
        *table(["setting", "count-aware loop", "paren-async", "bound", "measured"], rows, "lrrrr"),
        "",
    ]


def section(
    cells: Sequence[CellResult], memory: Sequence[MemoryResult], memory_contenders: Sequence[str]
) -> list[str]:
    """The ``## Targets`` section: issue 10's table, the runs behind it, the earlier targets."""
    speed = speed_targets(cells)
    rows = [
        [t.title, _label(t.contender), _label(t.baseline), t.measured, f">= {t.floor:.2f}x",
         verdict(t.met)]
        for t in speed
    ]  # fmt: skip
    lines = [
        "## Targets",
        "",
        "Issue 10, section 5 (speed): paren-async against count-aware aiohttp + msgspec loops "
        "(told the page count, so they fetch no page past the end) on the same server, in the "
        "same run.",
        "",
        *table(["walk", "contender", "baseline", "measured", "target", "verdict"], rows, "lllrrl"),
        "",
        "The runs behind each ratio (medians; *requests per walk* is what the emulator received "
        "for one walk, read from its counters before and after; the pages holding data are "
        "records / 100):",
        "",
        *table(
            [
                "setting",
                "contender",
                "records/s",
                "x baseline",
                "client CPU ms/page",
                "requests per walk",
                "runs",
            ],
            _measurements(speed),
            "llrrrrr",
        ),
        "",
        *_round_trips(speed[-1].pairs),
        "### Earlier targets",
        "",
    ]
    earlier = earlier_targets(cells, memory, memory_contenders)
    lines += table(
        ["target", "measured", "verdict"],
        [[t.name, t.measured, verdict(t.met)] for t in earlier],
        "lll",
    )
    return [*lines, ""]
