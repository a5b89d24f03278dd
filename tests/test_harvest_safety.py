"""Regression tests for the harvest's safety holes (issue 11, section 1), each from its input."""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from harvest_support import cli, cli_at, fail_from_page, files, ids, records_server, run, summary

from paren_async._harvest._start import differences
from paren_async.testing import EmulatorFactory, ParenEmulator

# -- 1. a resume is bound to the server and the endpoint path --


async def test_resume_against_another_server_is_refused(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """Run 1 fails on server A; a resume pointed at server B is refused, naming both URLs."""
    a = await paren_emulator_factory(locations=1_000, seed=1)
    b = await paren_emulator_factory(locations=1_000, seed=2)
    out = tmp_path / "o.ndjson"
    await fail_from_page(a, 5)
    first = await run(a, out)
    assert (first.status, first.exit_code) == ("failed", 4)
    assert first.checkpoint is not None and 0 < first.records <= 500
    b.reset_statistics()
    again = await run(b, out, resume=True)
    assert (again.status, again.exit_code) == ("failed", 5)
    assert f"base_url differs: checkpoint {a.url}, now {b.url}" in (again.error or "")
    assert b.statistics().requests == 0
    assert not out.exists()
    a.clear_faults()
    done = await run(a, out, resume=True)  # the right server still resumes
    assert (done.status, ids(out)) == ("done", a.ids())


async def test_cli_resume_with_paren_base_url_of_another_server_is_refused(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """The issue's input: run 1 fails on A; ``--resume`` with PAREN_BASE_URL=B exits 5, no file."""
    a = await paren_emulator_factory(locations=1_000, seed=1)
    b = await paren_emulator_factory(locations=1_000, seed=2, api_key=a.api_key,
                                     api_secret=a.api_secret)  # fmt: skip
    await fail_from_page(a, 9)
    code, _, _ = await cli_at(a, tmp_path, "harvest", "--out", "o.ndjson", "--max-attempts", "1")
    assert code == 4
    b.reset_statistics()
    args = ("harvest", "--out", "o.ndjson", "--max-attempts", "1", "--resume")
    code, stdout, stderr = await cli_at(b, tmp_path, *args)
    message = f"base_url differs: checkpoint {a.url}, now {b.url}"
    assert (code, message in stderr, message in summary(stdout)["error"]) == (5, True, True)
    assert b.statistics().requests == 0
    assert "o.ndjson" not in files(tmp_path)


async def test_resume_of_the_other_endpoint_is_refused(
    paren_emulator: ParenEmulator, tmp_path: Path
) -> None:
    """A Metadata checkpoint cannot be resumed as a Realtime harvest: path and family named."""
    out = tmp_path / "o.ndjson"
    await fail_from_page(paren_emulator, 3)
    assert (await run(paren_emulator, out)).checkpoint is not None
    again = await run(paren_emulator, out, realtime=True, resume=True)
    assert again.exit_code == 5
    assert "path differs: checkpoint /metadata/v1/locations, now /realtime/v1/locations" in (
        again.error or ""
    )


@pytest.mark.parametrize(
    ("before", "now", "message"),
    [
        pytest.param(
            {"base_url": "http://A"},
            {"base_url": "http://B"},
            "base_url differs: checkpoint http://A, now http://B",
            id="base-url",
        ),
        pytest.param(
            {},
            {"base_url": "http://B"},
            "base_url differs: checkpoint (not recorded: an older paren-async wrote it), "
            "now http://B",
            id="older-checkpoint",
        ),
        pytest.param(
            {"filters": {"state": "NY"}, "max_items": None},
            {"filters": {}, "max_items": 5},
            "filters differs: checkpoint state=NY, now (none); "
            "max_items differs: checkpoint (none), now 5",
            id="two-differences",
        ),
    ],
)
def test_differences_name_each_changed_option(
    before: dict[str, object], now: dict[str, object], message: str
) -> None:
    """The refusal names every option that differs, with the checkpoint's value and today's."""
    assert differences(before, now) == message


# -- 3. the demo never touches files it did not create --


def demo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = ["demo", "--locations", "300", "--latency", "2ms", "--jitter", "1ms", *args]
    return subprocess.run(
        [sys.executable, "-m", "paren_async", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_demo_leaves_an_unfinished_harvest_in_its_folder_alone(tmp_path: Path) -> None:
    """An unfinished harvest's journal and checkpoint in the folder survive a demo byte for byte."""
    real = {
        "locations.ndjson.part": b'{"id":"real-1"}\n' * 991,
        "locations.ndjson.checkpoint": b'{"version":1,"fingerprint":"x"}\n',
        "locations.ndjson": b'{"id":"yesterday"}\n',
    }
    for name, data in real.items():
        (tmp_path / name).write_bytes(data)
    done = demo(tmp_path)
    assert done.returncode == 0, done.stderr
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == real
    written = Path(done.stdout.split("Harvested 300 locations into ")[1].split(" (")[0])
    try:
        assert written.parent.name.startswith("paren-demo-")
        assert len(written.read_bytes().splitlines()) == 300
    finally:
        shutil.rmtree(written.parent)


@pytest.mark.parametrize(
    "existing",
    [
        pytest.param("mine.ndjson", id="the-output"),
        pytest.param("mine.ndjson.checkpoint", id="a-checkpoint"),
        pytest.param("mine.ndjson.part", id="a-journal"),
    ],
)
def test_demo_refuses_an_out_that_exists(tmp_path: Path, existing: str) -> None:
    """``--out`` naming an existing file, or one with a checkpoint or journal, exits 5 untouched."""
    (tmp_path / existing).write_bytes(b"precious\n")
    done = demo(tmp_path, "--out", "mine.ndjson")
    assert done.returncode == 5
    assert "the demo did not create it" in done.stderr
    assert files(tmp_path) == [existing]
    assert (tmp_path / existing).read_bytes() == b"precious\n"


# -- 2. a record the typed export cannot take is set aside, never a blocked job --

GOOD = [b'{"id":"L%d","address":{"postal_code":"0703%d"}}' % (i, i) for i in range(5)]
BAD = [
    b'{"id":"prose-stamp","last_updated":"soon"}',
    b'{"id":"string-evses","charging_pool":{"evses":"many"}}',
    b'{"id":"latin-1","name":"Caf\xe9 Borne"}',
]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
async def test_records_the_export_cannot_take_go_to_a_rejects_file(
    tmp_path: Path, fmt: str
) -> None:
    """Bad records are written raw beside the output and counted; the run completes, exit 0."""
    records = [GOOD[0], BAD[0], GOOD[1], BAD[1], GOOD[2], BAD[2], *GOOD[3:]]
    async with records_server(records) as url:
        code, stdout, stderr = await cli(tmp_path, "harvest", "--out", f"o.{fmt}", base_url=url)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    line = summary(stdout)
    assert (line["event"], line["records"], line["rejected"]) == ("harvest.done", 8, 3)
    assert line["rejects"] == f"o.{fmt}.rejects.ndjson"
    assert (tmp_path / f"o.{fmt}.rejects.ndjson").read_bytes() == b"".join(r + b"\n" for r in BAD)
    assert "3 records could not become" in stderr
    assert "line 2 (prose-stamp): Invalid RFC3339 encoded datetime - at `$.last_updated`" in stderr
    assert files(tmp_path) == [f"o.{fmt}", f"o.{fmt}.rejects.ndjson"]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO((tmp_path / "o.csv").read_text())))
    else:
        import pyarrow.parquet as pq

        rows = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert [row["id"] for row in rows] == [f"L{i}" for i in range(5)]
    assert [row["postal_code"] for row in rows] == [f"0703{i}" for i in range(5)]


async def test_a_clean_republication_removes_the_old_rejects_file(tmp_path: Path) -> None:
    """The rejects file describes the output beside it: a clean harvest of it removes a stale one."""
    async with records_server([BAD[0], *GOOD]) as url:
        assert (await cli(tmp_path, "harvest", "--out", "o.csv", base_url=url))[0] == 0
    assert (tmp_path / "o.csv.rejects.ndjson").exists()
    async with records_server(GOOD) as url:
        code, stdout, _ = await cli(tmp_path, "harvest", "--out", "o.csv", base_url=url)
    assert (code, summary(stdout)["rejected"], files(tmp_path)) == (0, 0, ["o.csv"])


# -- 4. a resume loses nothing whatever was removed while stopped --


@pytest.mark.parametrize(
    ("removed", "at"),
    [
        pytest.param(5, 100, id="five-before-the-checkpoint"),
        pytest.param(5, 0, id="five-at-the-start"),
        pytest.param(250, 100, id="more-than-two-pages"),
    ],
)
async def test_resume_after_removals_loses_nothing(
    paren_emulator: ParenEmulator, tmp_path: Path, removed: int, at: int
) -> None:
    """Killed near offset 500, records before it removed while stopped: the resume finds the rest."""
    out = tmp_path / "o.ndjson"
    await fail_from_page(paren_emulator, 5)
    first = await run(paren_emulator, out)
    assert first.checkpoint is not None and 400 <= first.offset <= 500
    paren_emulator.clear_faults()
    gone = set(paren_emulator.remove(removed, at=at))
    done = await run(paren_emulator, out, resume=True)
    harvested = ids(out)
    assert done.status == "done"
    assert len(harvested) == len(set(harvested)) == done.records
    assert set(paren_emulator.ids()) <= set(harvested)  # before the fix: 5 shifted ones missing
    assert set(harvested) - set(paren_emulator.ids()) <= gone
    assert done.duplicates == 0  # the re-read before the checkpoint is not drift
    assert done.as_json()["changed"] is False


async def test_resume_without_changes_rereads_one_page_only(
    paren_emulator: ParenEmulator, tmp_path: Path
) -> None:
    """With nothing changed, a resume re-reads one page before its checkpoint, no more."""
    out = tmp_path / "o.ndjson"
    await fail_from_page(paren_emulator, 5)
    first = await run(paren_emulator, out)
    paren_emulator.clear_faults()
    paren_emulator.reset_statistics()
    done = await run(paren_emulator, out, resume=True)
    assert (done.status, ids(out)) == ("done", paren_emulator.ids())
    offsets = sorted({r.offset for r in paren_emulator.requests if r.offset is not None})
    assert offsets[0] == first.offset - 100


# -- 5. every exit prints the one JSON line; filters; empty harvests; one span for time and rate --


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--page-size", "0"], "must be an integer from 1 to 100", id="bad-value"),
        pytest.param(["--bogus"], "unrecognized arguments: --bogus", id="unknown-option"),
        pytest.param(["--format", "xml"], "invalid choice: 'xml'", id="bad-choice"),
        pytest.param(["--filter", "state"], "expected KEY=VALUE", id="bad-filter"),
        pytest.param(
            ["--filter", "state=NY", "--filter", "state=NJ"],
            "--filter state given twice (NY, NJ)",
            id="repeated-filter",
        ),
    ],
)
async def test_argument_errors_print_the_json_line_and_exit_2(
    paren_emulator: ParenEmulator, tmp_path: Path, args: list[str], message: str
) -> None:
    """Bad arguments exit 2 with the message on stderr and one JSON line; nothing is sent."""
    paren_emulator.reset_statistics()
    code, stdout, stderr = await cli_at(paren_emulator, tmp_path, "harvest", *args)
    assert code == 2
    assert message in stderr
    line = summary(stdout)
    assert (line["event"], line["exit"]) == ("harvest.failed", 2)
    assert message in line["error"]
    assert paren_emulator.statistics().requests == 0
    assert files(tmp_path) == []


async def test_the_same_filter_twice_with_one_value_is_one_filter(
    paren_emulator: ParenEmulator, tmp_path: Path
) -> None:
    """``--filter state=NY --filter state=NY`` asks for NY once and harvests normally."""
    args = ("--filter", "state=NY", "--filter", "state=NY", "--quiet")
    code, stdout, _ = await cli_at(paren_emulator, tmp_path, "harvest", *args)
    assert (code, summary(stdout)["records"]) == (0, 1_000)
    queries = [r.query for r in paren_emulator.requests]
    assert queries and all(q.get("state") == "NY" for q in queries)


async def test_a_filtered_harvest_that_finds_nothing_says_so(
    paren_emulator: ParenEmulator, tmp_path: Path
) -> None:
    """0 records is done (exit 0), and both the summary and the JSON line say why it may be."""
    code, stdout, stderr = await cli_at(paren_emulator, tmp_path, "harvest", "--filter", "state=ZZ")
    line = summary(stdout)
    assert (code, line["records"]) == (0, 0)
    note = "no records: nothing matched the filters state=ZZ"
    assert note in stderr
    assert any(note in text for text in line["notes"])


async def test_after_a_resume_time_and_rate_describe_this_run(
    paren_emulator: ParenEmulator, tmp_path: Path
) -> None:
    """elapsed_s and records_per_s describe one span, this run; earlier runs are in the total."""
    out = tmp_path / "o.ndjson"
    await fail_from_page(paren_emulator, 5)
    first = await run(paren_emulator, out)
    paren_emulator.clear_faults()
    done = await run(paren_emulator, out, resume=True)
    line: dict[str, Any] = done.as_json()
    assert line["run_records"] == 1_000 - first.records
    assert line["elapsed_s"] == round(done.run_elapsed, 3)
    assert line["records_per_s"] == pytest.approx(line["run_records"] / done.run_elapsed, rel=0.01)
    assert line["total_elapsed_s"] >= line["elapsed_s"]
    assert "this run" in done.lines()[0]


def test_an_unexpected_error_still_prints_the_json_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug (any exception) exits 1 with its message and the JSON line, never silently."""
    from paren_async._cli import harvest as command

    def broken(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(command, "_run", broken)
    assert command.run(argparse.Namespace()) == command.EXIT_INTERNAL == 1
    captured = capsys.readouterr()
    assert "unexpected RuntimeError: boom" in captured.err
    line = summary(captured.out)
    assert (line["event"], line["exit"], line["error_type"]) == (
        "harvest.failed",
        1,
        "RuntimeError",
    )
