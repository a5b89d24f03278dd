"""RESULTS.md and the chart: the figures of one run, the machine they came from, the targets."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import psutil

import paren_async

from . import _targets
from ._contenders import BY_KEY
from ._decode import DecodeResult
from ._memory import MemoryResult
from ._scenarios import CellResult, Plan
from ._targets import requests_text, table

__all__ = ["Machine", "Outcome", "render"]

_LIBRARIES: Final = (
    "paren-async", "aiohttp", "msgspec", "anyio", "httpx", "pydantic", "pydantic-core",
    "requests", "orjson", "matplotlib", "psutil",
)  # fmt: skip
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


# -- markdown --------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _label(contender: str) -> str:
    return BY_KEY[contender].label


def _cell_section(result: CellResult, baseline: str) -> list[str]:
    """One cell's table: every contender against ``baseline`` of the same runs."""
    cell = result.cell
    title = (
        f"### {cell.latency_ms:g} ms latency, concurrency {cell.concurrency}, "
        f"{cell.records:,} records ({result.pages:,} pages), {cell.repeats} runs each"
    )
    has_baseline = bool(result.of(baseline))
    rows = []
    for contender in cell.contenders:
        bound = result.bound_seconds(contender)
        rows.append(
            [
                _label(contender),
                f"{result.records_per_second(contender):,.0f}",
                f"{result.ratio(contender, baseline):.2f}x" if has_baseline else "-",
                f"{result.cpu_ms_per_page(contender):.2f}",
                requests_text(result.requests_per_walk(contender)),
                "-" if bound is None else f"{cell.records / bound:,.0f}",
                _pct(result.of_bound(contender)),
                _pct(result.server_busy(contender)),
            ]
        )
    header = [
        "contender", "records/s", f"x {_label(baseline).split(' (')[0]}", "client CPU ms/page",
        "requests per walk", "latency bound rec/s", "% of bound", "server busy",
    ]  # fmt: skip
    return [title, "", *table(header, rows), ""]


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
        lines += [*table(header, rows), ""]
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
        *table(["decoder", "MB/s", "records/s", "x typed"], rows),
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
    return [*table(header, rows), ""]


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
        "The server is the package's own emulator (`ParenEmulator`, as `paren-async serve` runs "
        "it) in a separate process on 127.0.0.1, serving OCPI-shaped metadata locations (~1.9 KB "
        "each, pages of 100). On a shared or small machine absolute figures move from run to "
        "run; compare the contenders of one table (same run, alternated, medians) and read the "
        "ratios.",
        "",
    ]
    lines += _targets.section(outcome.cells, outcome.memory, outcome.plan.memory_contenders)
    lines += ["## Head to head", ""]
    lines += [
        "Records/s are medians; *x stack limit* compares with the aiohttp + msgspec loop of the "
        "same table; *client CPU ms/page* is `time.process_time()` of the client process per "
        "page of data; *requests per walk* is how many HTTP requests the emulator received for "
        "one walk (the baselines know the page count; paren-async finds the end, so it may ask "
        "for pages past it); the *latency bound* is what pages / concurrency x latency allows "
        "(the sequential loop has concurrency 1); *server busy* is the emulator's CPU over the "
        "run (near 100% means the server, not the client, set the pace).",
        "",
    ]
    for result in outcome.cells:
        if result.cell.head:
            lines += _cell_section(result, "limit")
    collect = [r for r in outcome.cells if r.cell.collect]
    if collect:
        lines += [
            "## Keeping every record: `collect()`",
            "",
            "`await client.locations().collect()` against the stack limit keeping every typed "
            "record in one list, in collection order (same models: frozen, `gc=False`, tuple "
            "fields). Columns as above.",
            "",
        ]
        for result in collect:
            lines += _cell_section(result, "collectlimit")
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
        "decoded and keeps none (the `collect()` pair keeps them all). The stack limit, the raw "
        "and collect limits, the transport and httpx + pydantic are told the page count in "
        "advance; paren-async and the sequential loop discover the end as the API requires (a "
        "short or empty page), so they fetch pages past it (see *requests per walk*).",
        "- *Requests per walk*: the benchmark's emulator process (`benchmarks/_serve.py`) "
        "answers its request counters on a port of its own; they are read before and after "
        "every timed walk, once no request is in flight, so cancelled requests count too.",
        "- httpx + pydantic uses models mirroring paren-async's (`benchmarks/_pydantic_models.py`)"
        " and the same concurrency; the sequential loop is requests + `response.json()`.",
        "- Profiling notes and before/after figures for changes: `benchmarks/PROFILE.md`.",
        "",
    ]
    return "\n".join(lines)
