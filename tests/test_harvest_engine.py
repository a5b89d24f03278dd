"""The harvest engine in-process against the emulator: drift, limits, recovery paths, progress."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from paren_async import ParenClient, RetryPolicy
from paren_async._harvest import Format, HarvestOptions, Outcome, harvest
from paren_async._harvest._checkpoint import Checkpoint, Paths, fingerprint, write_checkpoint
from paren_async._harvest._journal import as_lines
from paren_async._harvest._progress import Bar, LogLines, Tally, make_progress
from paren_async.testing import EmulatorFactory, Fault, ParenEmulator

NO_RETRY = RetryPolicy(max_attempts=1)


async def run(
    emulator: ParenEmulator, out: Path, *, retry: RetryPolicy | None = NO_RETRY, **options: Any
) -> Outcome:
    """One harvest through the engine, quiet, without touching the process's signal handlers."""
    client = ParenClient(emulator.api_key, emulator.api_secret, base_url=emulator.url, retry=retry)
    async with client:
        return await harvest(
            client,
            HarvestOptions(out=out, **options),
            stream=io.StringIO(),
            progress="quiet",
            handle_signals=False,
        )


def files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in lines(path)]


async def test_drift_during_the_walk_never_duplicates(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Records inserted and removed mid-walk: no id twice, the change reported, quiet stays quiet."""
    emulator = await paren_emulator_factory(locations=3_000, drift_rate=0.5, seed=3)
    before = set(emulator.ids())
    outcome = await run(emulator, tmp_path / "o.ndjson")
    after = set(emulator.ids())
    harvested = ids(tmp_path / "o.ndjson")
    assert outcome.exit_code == 0
    assert len(harvested) == len(set(harvested)) == outcome.records
    assert outcome.changed
    assert outcome.as_json()["changed"] is True
    if outcome.unrecovered_drift == 0 and outcome.recovered:
        # The client repaired every shift it saw: records present throughout are all there.
        assert before & after <= set(harvested)
    assert capsys.readouterr().err == ""


async def page_offsets(emulator: ParenEmulator, **walk: Any) -> list[int]:
    """The offsets a walk with these options asks for."""
    emulator.reset_statistics()
    async with ParenClient(emulator.api_key, emulator.api_secret, base_url=emulator.url) as client:
        async for _ in client.locations(**walk).raw_pages():
            pass
    return sorted({r.offset for r in emulator.requests if r.offset is not None})


async def test_max_items_holds_across_a_resume(
    paren_emulator: ParenEmulator, tmp_path: Path
) -> None:
    """--max-items bounds the whole harvest, not each run of it."""
    out = tmp_path / "o.ndjson"
    walk = {"max_items": 250, "page_size": 60}
    paren_emulator.inject(Fault.SERVER_ERROR, offset=0, times=1)
    failed = await run(paren_emulator, out, **walk)
    assert (failed.exit_code, failed.records, failed.checkpoint) == (4, 0, None)
    assert files(tmp_path) == []  # nothing harvested, nothing to resume
    paren_emulator.inject(
        Fault.SERVER_ERROR, offset=(await page_offsets(paren_emulator, **walk))[2]
    )
    partial = await run(paren_emulator, out, **walk)
    assert partial.exit_code == 4
    assert 0 < partial.records < 250
    done = await run(paren_emulator, out, resume=True, **walk)
    assert done.exit_code == 0
    assert ids(out) == paren_emulator.ids()[:250]


async def test_a_finished_walk_is_published_by_resume_without_requests(
    paren_emulator: ParenEmulator, tmp_path: Path
) -> None:
    """A crash after the walk ended but before the output was published costs no request."""
    out = tmp_path / "o.csv"
    paths = Paths.for_output(out)
    first = await run(paren_emulator, tmp_path / "o.ndjson")
    paths.part.write_bytes((tmp_path / "o.ndjson").read_bytes())
    write_checkpoint(
        paths.checkpoint, done_checkpoint(paths, first, fmt="csv", emulator=paren_emulator)
    )
    paren_emulator.reset_statistics()
    outcome = await run(paren_emulator, out, format="csv", resume=True)
    assert outcome.exit_code == 0
    assert paren_emulator.statistics().requests == 0
    assert len(lines(out)) == 1 + first.records
    assert files(tmp_path) == ["o.csv", "o.ndjson"]


async def test_a_published_harvest_with_a_stale_checkpoint_is_done(
    paren_emulator: ParenEmulator, tmp_path: Path
) -> None:
    """A crash between publishing and removing the checkpoint: resume just tidies up."""
    out = tmp_path / "o.ndjson"
    first = await run(paren_emulator, out)
    paths = Paths.for_output(out)
    write_checkpoint(
        paths.checkpoint, done_checkpoint(paths, first, fmt="ndjson", emulator=paren_emulator)
    )
    again = await run(paren_emulator, out, resume=True)
    assert (again.status, again.records) == ("done", first.records)
    assert files(tmp_path) == ["o.ndjson"]


def done_checkpoint(
    paths: Paths, outcome: Outcome, *, fmt: Format, emulator: ParenEmulator
) -> Checkpoint:
    """The checkpoint a finished walk of ``outcome`` into ``paths`` leaves before publishing."""
    harvest_run = HarvestOptions(out=paths.out, format=fmt, base_url=emulator.url).run()
    size = paths.part.stat().st_size if paths.part.exists() else paths.out.stat().st_size
    return Checkpoint(
        fingerprint=fingerprint(harvest_run),
        run=harvest_run,
        offset=outcome.offset,
        size=size,
        records=outcome.records,
        walked=outcome.records,
        pages=outcome.pages,
        done=True,
    )


async def test_missing_output_directory_is_an_output_error(
    paren_emulator: ParenEmulator, tmp_path: Path
) -> None:
    """An output directory that does not exist exits 5 before anything is sent."""
    paren_emulator.reset_statistics()
    outcome = await run(paren_emulator, tmp_path / "missing" / "o.ndjson")
    assert outcome.exit_code == 5
    assert "does not exist" in (outcome.error or "")
    assert paren_emulator.statistics().requests == 0


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        pytest.param([b'{"id":"a"}', b'{"id":"b"}'], b'{"id":"a"}\n{"id":"b"}\n', id="compact"),
        pytest.param([b'{\n  "id": "a"\n}'], b'{   "id": "a" }\n', id="pretty-printed"),
        pytest.param([], b"", id="empty"),
    ],
)
def test_as_lines_keeps_one_record_per_line(records: list[bytes], expected: bytes) -> None:
    """Records are written as sent, except that a pretty-printed one's newlines become spaces."""
    assert as_lines(records) == expected


def test_log_lines_report_counts_and_rate() -> None:
    """Off a terminal, progress is a plain periodic line with counts, rate and offset."""
    stream = io.StringIO()
    progress = LogLines(stream, total=None, interval=0.0)
    progress.update(Tally(records=2_500, pages=25, offset=2_500, started=0.0), now=2.0)
    assert stream.getvalue() == (
        "paren-async harvest: 2,500 records, 25 pages, 1,250 records/s, 0 retries, "
        "0 duplicates, offset 2,500\n"
    )


def test_bar_is_chosen_on_a_terminal_only() -> None:
    """auto mode draws a bar on a terminal and logs elsewhere; quiet draws nothing."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    bar = make_progress("auto", terminal, total=100, initial=0)
    assert isinstance(bar, Bar)
    bar.update(Tally(records=40, pages=1), now=1.0)
    bar.close()
    assert "harvest:  40%" in terminal.getvalue()
    assert isinstance(make_progress("auto", io.StringIO(), total=None, initial=0), LogLines)
    silent = io.StringIO()
    make_progress("quiet", silent, total=None, initial=0).message("x")
    assert silent.getvalue() == ""


async def test_realtime_harvest_to_csv_adds_prices(
    paren_emulator: ParenEmulator, tmp_path: Path
) -> None:
    """A Realtime harvest to CSV has one row per location with the energy price columns filled."""
    outcome = await run(paren_emulator, tmp_path / "rt.csv", realtime=True, format="csv")
    assert outcome.exit_code == 0
    rows = read_csv(tmp_path / "rt.csv")
    assert [row["id"] for row in rows] == paren_emulator.ids()
    assert {row["currency"] for row in rows} == {"USD"}
    priced = [row for row in rows if row["energy_price_min_per_kwh"]]
    assert len(priced) > len(rows) // 2
    assert all(
        float(row["energy_price_min_per_kwh"]) <= float(row["energy_price_max_per_kwh"])
        for row in priced
    )
    # The emulator's reliability extras are kept, parsed and whole.
    assert all(0 <= float(row["reliability_uptime_7d"]) <= 1 for row in rows)
    assert all(json.loads(row["reliability"])["uptime_7d"] for row in rows)
