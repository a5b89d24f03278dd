"""The chart next to RESULTS.md: records/s by concurrency, one panel per latency (matplotlib)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from ._contenders import BY_KEY
from ._scenarios import CellResult

__all__ = ["write_chart"]


def write_chart(cells: Sequence[CellResult], path: Path) -> str:
    """records/s by concurrency, one panel per latency; returns the file name or why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.artist import Artist
    except ImportError:
        return "matplotlib is not installed (`pip install -e '.[bench]'`)"
    latencies = sorted({r.cell.latency_ms for r in cells})
    figure, axes = plt.subplots(1, len(latencies), figsize=(5 * len(latencies), 4.8), sharey=True)
    axes = axes if len(latencies) > 1 else [axes]
    # One colour per contender in every panel (matplotlib's cycle would restart in each).
    styles = {
        "typed": ("o-", "tab:blue"),
        "raw": ("s-", "tab:orange"),
        "limit": ("^--", "tab:green"),
        "rawlimit": ("v--", "tab:olive"),
        "transport": ("x:", "tab:grey"),
        "httpx": ("d-", "tab:red"),
    }
    for axis, latency in zip(axes, latencies, strict=True):
        chosen = sorted(
            (r for r in cells if r.cell.latency_ms == latency), key=lambda r: r.cell.concurrency
        )
        for contender, (style, colour) in styles.items():
            points = [
                (r.cell.concurrency, r.records_per_second(contender))
                for r in chosen
                if r.of(contender)
            ]
            points = _one_per_concurrency(points)
            if len(points) > 1:
                axis.plot(
                    *zip(*points, strict=True), style, color=colour, label=BY_KEY[contender].label
                )
        sequential = [r.records_per_second("sequential") for r in chosen if r.of("sequential")]
        if sequential:
            axis.plot(
                [1], [statistics.median(sequential)], "k*", ms=10, label=BY_KEY["sequential"].label
            )
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
    # Every series once, whichever panels drew it (the raw limit is only measured at 0 ms).
    legend: dict[str, Artist] = {}
    for axis in axes:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    # Below the panels: inside one it would hide that panel's lines.
    figure.legend(list(legend.values()), list(legend), fontsize=8, loc="lower center", ncol=4)
    figure.tight_layout(rect=(0, 0.14, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path.name


def _one_per_concurrency(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """A concurrency measured in two cells (two sizes) is drawn once, as the median."""
    by: dict[int, list[float]] = {}
    for concurrency, rate in points:
        by.setdefault(concurrency, []).append(rate)
    return [(c, statistics.median(rates)) for c, rates in sorted(by.items())]
