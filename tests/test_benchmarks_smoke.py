"""The benchmark suite runs end to end on tiny collections and writes a complete report.

Behaviour only: every contender has a row, every figure is a positive number, the chart is made.
Benchmarks check speed; tests check that the benchmarks still run.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not all(importlib.util.find_spec(name) for name in ("httpx", "pydantic", "requests", "psutil")),
    reason="benchmark dependencies not installed (pip install -e '.[bench]')",
)

CONTENDERS = (
    "paren-async typed",
    "paren-async raw",
    "stack limit (aiohttp + msgspec)",
    "raw limit (aiohttp + msgspec.Raw)",
    "transport alone (aiohttp bytes)",
    "httpx + pydantic v2",
    "requests + json, sequential",
)
#: Contenders told the page count: each walk is exactly one request per page of data.
COUNT_AWARE = (
    "stack limit (aiohttp + msgspec)",
    "raw limit (aiohttp + msgspec.Raw)",
    "collect limit (aiohttp + msgspec, kept)",
    "transport alone (aiohttp bytes)",
    "httpx + pydantic v2",
)
#: The quick plan at --scale 0.25: 500 records, 5 pages of 100.
PAGES = 5


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--scale", "0.25", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out.read_text(encoding="utf-8"), out.parent


def _rows(text: str, section: str) -> list[list[str]]:
    """The table rows (cells stripped) of every table under a `## section` heading."""
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0].split("\n### Earlier", 1)[0]
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in body.splitlines()
        if line.startswith("| ") and not line.startswith("|---")
    ]


def _number(cell: str) -> float:
    return float(re.sub(r"[,x%]", "", cell))


def test_every_contender_has_a_row_with_positive_figures(report: tuple[str, Path]) -> None:
    """Each head-to-head table lists all seven contenders with positive records/s and CPU."""
    text, _ = report
    rows = [row for row in _rows(text, "Head to head") if row[0] != "contender"]
    for contender in CONTENDERS:
        mine = [row for row in rows if row[0] == contender]
        assert len(mine) == 2, contender  # the quick plan has a 0 ms and a 20 ms table
        for row in mine:
            assert _number(row[1]) > 0  # records/s
            assert _number(row[3]) > 0  # client CPU ms per page


def test_requests_per_walk_are_counted_by_the_server(report: tuple[str, Path]) -> None:
    """Count-aware baselines cost one request per page; paren-async, which finds the end, more."""
    text, _ = report
    rows = [row for row in _rows(text, "Head to head") if row[0] != "contender"]
    rows += [r for r in _rows(text, "Keeping every record: `collect()`") if r[0] != "contender"]
    requests: dict[str, list[float]] = {}
    for row in rows:
        requests.setdefault(row[0], []).append(_number(row[4]))
    for contender in COUNT_AWARE:
        assert requests[contender] and set(requests[contender]) == {PAGES}, contender
    for contender in ("paren-async typed", "paren-async raw", "paren-async collect()"):
        assert requests[contender] and min(requests[contender]) > PAGES, contender


def test_the_stack_limit_is_its_own_baseline(report: tuple[str, Path]) -> None:
    """Ratios are taken against the stack limit of the same table."""
    text, _ = report
    limits = [row for row in _rows(text, "Head to head") if row[0].startswith("stack limit")]
    assert limits
    assert all(row[2] == "1.00x" for row in limits)


def test_targets_machine_decode_and_memory_are_reported(report: tuple[str, Path]) -> None:
    """The report states the machine, every target, decode speeds and memory per walk."""
    text, _ = report
    assert "**Machine:**" in text
    assert "**Python:**" in text
    assert "msgspec" in text.split("**Libraries:**", 1)[1].split("\n", 1)[0]
    earlier = text.split("### Earlier targets\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        line for line in earlier.splitlines() if line.startswith("| ") and "verdict" not in line
    ]
    assert len(rows) == 5
    assert all(row.rstrip(" |").endswith(("met", "**missed**")) for row in rows)
    decoders = _rows(text, "Decode alone")[1:]
    assert len(decoders) == 6
    assert all(_number(row[1]) > 0 and _number(row[2]) > 0 for row in decoders)
    memory = _rows(text, "Memory and scaling")[1:]
    assert {row[0] for row in memory} == {"paren-async typed", "paren-async raw"}
    assert all(_number(row[6]) > 10 for row in memory)  # peak RSS in MiB: an interpreter at least


def test_the_four_issue_10_targets_are_stated_as_measured(report: tuple[str, Path]) -> None:
    """Raw, typed c=4, collect() and the latency target each have a ratio and a verdict."""
    text, _ = report
    found = [row for row in _rows(text, "Targets") if row[0] not in {"walk", "setting"}]
    rows = found[:4]
    measured = [row for row in found[4:] if len(row) == 7]
    rounds = [row for row in found[4:] if len(row) == 5]
    walks = [row[0].split(",")[0] for row in rows]
    assert walks == ["`.raw()`", "typed", "`collect()`", "typed at 20 and 100 ms latency"]
    assert [row[4] for row in rows] == [">= 0.85x", ">= 0.92x", ">= 0.85x", ">= 0.90x"]
    for row in rows:
        assert _number(row[3].removeprefix("worst ").split(" ")[0]) > 0
        assert row[5] in {"met", "**missed**"}
    # Behind them: two rows (contender, baseline) for each of 3 + 4 settings.
    assert len(measured) == 2 * 7
    # The latency settings' round trips: the loop needs fewer than the walk, which must find the end.
    assert len(rounds) == 4
    for _setting, loop, walk, bound, _measured in rounds:
        assert 0 < int(loop) < int(walk)
        assert _number(bound) == pytest.approx(int(loop) / int(walk), abs=0.01)
    assert all(_number(row[5]) >= PAGES for row in measured)  # requests per walk
    assert "Targets" in text.split("## Head to head", 1)[0]


def test_the_chart_is_written_when_matplotlib_is_there(report: tuple[str, Path]) -> None:
    """With matplotlib the PNG exists and the report links it; without, the report says why."""
    text, directory = report
    if importlib.util.find_spec("matplotlib") is None:
        assert "(No chart:" in text
    else:
        assert (directory / "records_per_second.png").stat().st_size > 1000
        assert "](records_per_second.png)" in text
