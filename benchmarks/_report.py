"""RESULTS.md and the chart: the figures of one run, the machine they came from, the targets."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import psutil

import paren_async

from ._contenders import BY_KEY
from ._decode import DecodeResult
from ._memory import MemoryResult
from ._scenarios import CellResult, Plan

__all__ = ["Machine", "Outcome", "render", "write_chart"]

_LIBRARIES: Final = (
    "paren-async", "aiohttp", "msgspec", "anyio", "httpx", "pydantic", "pydantic-core",
    "requests", "orjson", "matplotlib", "psutil",
)  # fmt: skip
#: Peak RSS of the biggest walk within this of the smallest's counts as flat.
FLAT_TOLERANCE: Final = 0.10
_MIB: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    system: str
    python: str
    libraries: tuple[tuple[str, str], ...]
    revision: str

    @classmethod
    def describe(cls) -> Machine:
        versions = []
        for name in _LIBRARIES:
            try:
                versions.append((name, importlib.metadata.version(name)))
            except importlib.metadata.PackageNotFoundError:
                versions.append((name, "not installed"))
        return cls(
            cpu=_cpu_model(),
            cores=os.cpu_count() or 0,
            memory_gib=psutil.virtual_memory().total / 2**30,
            system=f"{platform.system()} {platform.release()} ({platform.machine()})",
            python=f"{platform.python_implementation()} {platform.python_version()}",
            libraries=tuple(versions),
            revision=_revision(),
        )


def _revision() -> str:
    """The git commit of the paren_async measured, marked when its files differ from it."""
    given = os.environ.get("PAREN_BENCH_REVISION")
    if given:
        return given
    package = Path(paren_async.__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(package), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", ".")
    except (OSError, subprocess.CalledProcessError):
        return f"unknown (not a git checkout: {package})"
    return f"{commit} (uncommitted changes in paren_async/)" if dirty else commit


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything one run measured."""

    plan: Plan
    command: str
    started: dt.datetime
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    machine: Machine
    cells: tuple[CellResult, ...]
    decode: tuple[DecodeResult, ...]
    memory: tuple[MemoryResult, ...]
    chart: str | None  # file name next to the report, or why there is none


# -- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured in this run


def _head(outcome: Outcome, latency: float) -> CellResult | None:
    return next((r for r in outcome.cells if r.cell.head and r.cell.latency_ms == latency), None)


def _ratio_target(
    outcome: Outcome, name: str, latency: float, contender: str, baseline: str, floor: float
) -> Target:
    cell = _head(outcome, latency)
    ratio = None if cell is None else cell.ratio(contender, baseline)
    if ratio is None:
        return Target(name, "not measured", None)
    return Target(name, f"{ratio:.2f}x", ratio >= floor)


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


def _sweep_targets(outcome: Outcome) -> list[Target]:
    """The same 0.85x, at the worst concurrency measured (1 to 32) for each latency."""
    found = []
    cells = [r for r in outcome.cells if r.of("typed") and r.of("limit")]
    for latency in sorted({r.cell.latency_ms for r in cells}):
        ratios = [
            (r.ratio("typed", "limit") or 0.0, r.cell.concurrency)
            for r in cells
            if r.cell.latency_ms == latency
        ]
        if len(ratios) < 2:
            continue
        worst, concurrency = min(ratios)
        found.append(
            Target(
                f"typed >= 0.85x the stack limit at {latency:g} ms, every concurrency measured",
                f"worst {worst:.2f}x (c={concurrency})",
                worst >= 0.85,
            )
        )
    return found


def targets(outcome: Outcome) -> list[Target]:
    found = []
    for latency in sorted({r.cell.latency_ms for r in outcome.cells if r.cell.head}):
        found.append(
            _ratio_target(
                outcome,
                f"typed >= 0.85x the stack limit at {latency:g} ms (c=8)",
                latency,
                "typed",
                "limit",
                0.85,
            )
        )
    found += _sweep_targets(outcome)
    found.append(
        _ratio_target(outcome, "typed >= 2.5x httpx + pydantic at 0 ms", 0, "typed", "httpx", 2.5)
    )
    found.append(
        _ratio_target(
            outcome, "typed >= 5x the sequential loop at 20 ms, c=8", 20, "typed", "sequential", 5
        )
    )
    found.append(_ratio_target(outcome, "raw >= 2x typed at 0 ms", 0, "raw", "typed", 2))
    for contender in outcome.plan.memory_contenders:
        growth = _memory_growth(outcome.memory, contender)
        name = f"peak memory flat ({contender}, within {FLAT_TOLERANCE:.0%})"
        found.append(Target(name, *growth) if growth else Target(name, "not measured", None))
    return found


# -- markdown --------------------------------------------------------------------------------


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "-"}[met]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _label(contender: str) -> str:
    return BY_KEY[contender].label


def _head_section(result: CellResult) -> list[str]:
    cell = result.cell
    title = (
        f"### {cell.latency_ms:g} ms latency, concurrency {cell.concurrency}, "
        f"{cell.records:,} records ({result.pages:,} pages), {cell.repeats} runs each"
    )
    has_limit = bool(result.of("limit"))
    rows = []
    for contender in cell.contenders:
        bound = result.bound_seconds(contender)
        rows.append(
            [
                _label(contender),
                f"{result.records_per_second(contender):,.0f}",
                f"{result.ratio(contender, 'limit'):.2f}x" if has_limit else "-",
                f"{result.cpu_ms_per_page(contender):.2f}",
                "-" if bound is None else f"{cell.records / bound:,.0f}",
                _pct(result.of_bound(contender)),
                _pct(result.server_busy(contender)),
            ]
        )
    header = [
        "contender", "records/s", "x stack limit", "client CPU ms/page", "latency bound rec/s",
        "% of bound", "server busy",
    ]  # fmt: skip
    return [title, "", *_table(header, rows), ""]


def _sweep_section(cells: Sequence[CellResult]) -> list[str]:
    contenders = ("typed", "raw", "limit", "httpx")
    lines = []
    for latency in sorted({r.cell.latency_ms for r in cells}):
        rows = []
        chosen = sorted(
            (r for r in cells if r.cell.latency_ms == latency), key=lambda r: r.cell.concurrency
        )
        for result in chosen:
            bound = result.bound_seconds("typed")
            rate = {c: result.records_per_second(c) for c in contenders if result.of(c)}
            rows.append(
                [
                    str(result.cell.concurrency),
                    f"{result.cell.records:,}",
                    *(f"{rate[c]:,.0f}" if c in rate else "-" for c in contenders),
                    "-" if bound is None else f"{result.cell.records / bound:,.0f}",
                    f"{rate['typed'] / rate['limit']:.2f}x" if {"typed", "limit"} <= set(rate)
                    else "-",
                    _pct(result.of_bound("typed")),
                ]
            )  # fmt: skip
        header = [
            "concurrency", "records", "typed", "raw", "stack limit", "httpx + pydantic",
            "latency bound", "typed / limit", "typed % of bound",
        ]  # fmt: skip
        lines += [f"**{latency:g} ms latency** (records/s, medians)", ""]
        lines += [*_table(header, rows), ""]
    return lines


def _decode_section(results: Sequence[DecodeResult]) -> list[str]:
    if not results:
        return ["Not measured in this run.", ""]
    typed = next(r for r in results if r.key == "typed")
    rows = [
        [
            r.label,
            f"{r.megabytes_per_second:,.0f}",
            f"{r.records_per_second:,.0f}",
            f"{r.records_per_second / typed.records_per_second:.2f}x",
        ]
        for r in results
    ]
    first = results[0]
    return [
        f"{first.records:,} records in {first.megabytes:.1f} MB of recorded pages; "
        "median of the repeats.",
        "",
        *_table(["decoder", "MB/s", "records/s", "x typed"], rows),
        "",
    ]


def _memory_section(results: Sequence[MemoryResult]) -> list[str]:
    if not results:
        return ["Not measured in this run.", ""]
    rows = []
    for m in sorted(results, key=lambda m: (m.contender, m.records)):
        rows.append(
            [
                _label(m.contender),
                f"{m.records:,}",
                f"{m.seconds:.2f}",
                f"{m.records_per_second:,.0f}",
                f"{1000 * m.cpu_seconds / (m.records / 100):.2f}",
                f"{m.rss_before / _MIB:.1f}",
                f"{m.peak_rss / _MIB:.1f}",
                f"{m.growth / _MIB:.1f}",
                _pct(m.server_busy),
            ]
        )
    header = [
        "contender", "records", "seconds", "records/s", "client CPU ms/page", "RSS before walk MiB",
        "peak RSS MiB", "walk adds MiB", "server busy",
    ]  # fmt: skip
    return [*_table(header, rows), ""]


def _issue2(outcome: Outcome) -> list[str]:
    lines = ["paren-async's walk (`async for loc in client.locations()`) against the stack limit "
             "(aiohttp + msgspec into the same models, page count known), same server, same run:",
             ""]  # fmt: skip
    rows = []
    for latency in (0, 20):
        cell = _head(outcome, latency)
        if cell is None:
            continue
        ratio = cell.ratio("typed", "limit") or 0.0
        rows.append(
            [
                f"{latency} ms, c={cell.cell.concurrency}, {cell.cell.records:,} records",
                f"{cell.records_per_second('typed'):,.0f}",
                f"{cell.records_per_second('limit'):,.0f}",
                f"{ratio:.2f}x",
                _verdict(ratio >= 0.85),
            ]
        )
    lines += _table(
        ["scenario", "walk records/s", "stack limit records/s", "walk / limit", ">= 0.85x"], rows
    )
    small, large = outcome.plan.issue2_sizes
    for contender in ("typed",):
        found = {m.records: m for m in outcome.memory if m.contender == contender}
        if small in found and large in found:
            a, b = found[small], found[large]
            change = b.peak_rss / a.peak_rss - 1
            lines += [
                "",
                f"Peak RSS of the walk ({contender}): {a.peak_rss / _MIB:.1f} MiB at "
                f"{small:,} records, {b.peak_rss / _MIB:.1f} MiB at {large:,} ({change:+.1%}): "
                f"{'flat' if change <= FLAT_TOLERANCE else '**not flat**'}.",
            ]
    return [*lines, ""]


def render(outcome: Outcome) -> str:
    m = outcome.machine
    libraries = ", ".join(f"{name} {version}" for name, version in m.libraries)
    load = "{:.2f} / {:.2f} / {:.2f}"
    lines = [
        "# paren-async benchmarks",
        "",
        f"Generated by `{outcome.command}` on {outcome.started:%Y-%m-%d %H:%M} UTC "
        f"({outcome.plan.name} plan, {outcome.seconds / 60:.1f} min). "
        "Regenerate with `make bench`.",
        "",
        f"- **Machine:** {m.cpu}, {m.cores} cores, {m.memory_gib:.0f} GiB RAM; {m.system}",
        f"- **Python:** {m.python}; **paren-async commit:** {m.revision}",
        f"- **Libraries:** {libraries}",
        f"- **Load average** (1/5/15 min) before: {load.format(*outcome.load_before)}, "
        f"after: {load.format(*outcome.load_after)}",
        "",
        "The server is the package's own emulator (`paren-async serve`) in a separate process on "
        "127.0.0.1, serving OCPI-shaped metadata locations (~1.9 KB each, pages of 100). On a "
        "shared or small machine absolute figures move from run to run; compare the contenders "
        "of one table (same run, alternated, medians) and read the ratios.",
        "",
        "## Targets",
        "",
    ]
    rows = [[t.name, t.measured, _verdict(t.met)] for t in targets(outcome)]
    lines += _table(["target", "measured", "verdict"], rows, "lll")
    lines += ["", "## Issue 2: the walk against the stack limit", "", *_issue2(outcome)]
    lines += ["## Head to head", ""]
    lines += [
        "Records/s are medians; *x stack limit* compares with the aiohttp + msgspec loop of the "
        "same table; *client CPU ms/page* is `time.process_time()` of the client process per "
        "page of data; the *latency bound* is what pages / concurrency x latency allows (the "
        "sequential loop has concurrency 1); *server busy* is the emulator's CPU over the run "
        "(near 100% means the server, not the client, set the pace).",
        "",
    ]
    for result in outcome.cells:
        if result.cell.head:
            lines += _head_section(result)
    lines += ["## Records/s by concurrency and latency", ""]
    if outcome.chart and outcome.chart.endswith(".png"):
        lines += [f"![records/s by concurrency and latency]({outcome.chart})", ""]
    elif outcome.chart:
        lines += [f"(No chart: {outcome.chart}.)", ""]
    sweep = [r for r in outcome.cells if set(r.cell.contenders) >= {"typed", "limit"}]
    lines += _sweep_section(sweep)
    lines += ["## Decode alone", "", *_decode_section(outcome.decode)]
    lines += [
        "## Memory and scaling",
        "",
        "Each walk runs in a fresh interpreter at 0 ms latency, concurrency 8, keeping no "
        "record; *RSS before walk* is taken after imports, *peak RSS* is the high-water mark "
        "during the walk (Linux `VmHWM`, reset just before it; `ru_maxrss` elsewhere). The "
        "emulator keeps 100,000 rendered records in memory (warmed by an untimed walk first); "
        "beyond that it renders every page as it is asked for, so larger walks can be "
        "server-bound (see *server busy*).",
        "",
        *_memory_section(outcome.memory),
    ]
    lines += [
        "## How it is measured",
        "",
        "- One emulator process per latency and size (`--latency` is fixed for a server's life);"
        " its record cache is warmed by one untimed walk before any timed one, and every "
        "contender makes one untimed walk on a small server first (imports, decoders, "
        "pydantic's validators).",
        "- Each repeat runs every contender once, in reversed order on every other repeat "
        "(ABC CBA ...); tables show medians. `gc.collect()` runs before every timed walk.",
        "- Every contender must see every record (checked); each loops over the records it "
        "decoded and keeps none. The stack limit, the transport and httpx + pydantic are told "
        "the page count in advance; paren-async and the sequential loop discover the end as the "
        "API requires (a short or empty page), so they fetch one page more.",
        "- httpx + pydantic uses models mirroring paren-async's (`benchmarks/_pydantic_models.py`)"
        " and the same concurrency; the sequential loop is requests + `response.json()`.",
        "- Profiling notes and before/after figures for changes: `benchmarks/PROFILE.md`.",
        "",
    ]
    return "\n".join(lines)


# -- chart -----------------------------------------------------------------------------------


def write_chart(cells: Sequence[CellResult], path: Path) -> str:
    """records/s by concurrency, one panel per latency; returns the file name or why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (`pip install -e '.[bench]'`)"
    latencies = sorted({r.cell.latency_ms for r in cells})
    figure, axes = plt.subplots(1, len(latencies), figsize=(5 * len(latencies), 4.2), sharey=True)
    axes = axes if len(latencies) > 1 else [axes]
    styles = {"typed": "o-", "raw": "s-", "limit": "^--", "transport": "x:", "httpx": "d-"}
    for axis, latency in zip(axes, latencies, strict=True):
        chosen = sorted(
            (r for r in cells if r.cell.latency_ms == latency), key=lambda r: r.cell.concurrency
        )
        for contender, style in styles.items():
            points = [
                (r.cell.concurrency, r.records_per_second(contender))
                for r in chosen
                if r.of(contender)
            ]
            points = _one_per_concurrency(points)
            if len(points) > 1:
                axis.plot(*zip(*points, strict=True), style, label=_label(contender))
        sequential = [r.records_per_second("sequential") for r in chosen if r.of("sequential")]
        if sequential:
            axis.plot([1], [statistics.median(sequential)], "k*", ms=10, label=_label("sequential"))
        if latency:
            xs = sorted({r.cell.concurrency for r in chosen} | {1})
            bound = [100 * c / (latency / 1000) for c in xs]
            axis.plot(xs, bound, color="grey", lw=0.8, label="latency bound")
        axis.set_xscale("log", base=2)
        axis.set_xticks([1, 2, 4, 8, 16, 32], ["1", "2", "4", "8", "16", "32"])
        axis.set_yscale("log")
        axis.set_title(f"{latency:g} ms server latency")
        axis.set_xlabel("concurrency (pages in flight)")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("records/s (median)")
    axes[-1].legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path.name


def _one_per_concurrency(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """A concurrency measured in two cells (two sizes) is drawn once, as the median."""
    by: dict[int, list[float]] = {}
    for concurrency, rate in points:
        by.setdefault(concurrency, []).append(rate)
    return [(c, statistics.median(rates)) for c, rates in sorted(by.items())]
