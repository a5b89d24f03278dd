"""The harvest's pure pieces: id keys, de-duplication, checkpoints, the journal, rows, summaries."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import pytest

from paren_async import Location
from paren_async._cli import build_parser, main
from paren_async._cli.harvest import _format, _resume_command
from paren_async._harvest import EXIT_API, Outcome
from paren_async._harvest._checkpoint import (
    Checkpoint,
    JournalError,
    Paths,
    fingerprint,
    read_checkpoint,
    write_checkpoint,
)
from paren_async._harvest._export import Rejects, export
from paren_async._harvest._ids import IdSet, record_key
from paren_async._harvest._journal import Journal
from paren_async._harvest._rows import STANDARDS, STATUSES, RowError, columns, flatten, row

RUN = {"base_url": "http://127.0.0.1:1", "endpoint": "metadata", "filters": {},
       "format": "ndjson", "max_items": None, "offset": 0, "page_size": 100,
       "path": "/metadata/v1/locations"}  # fmt: skip


def checkpoint(**changes: object) -> Checkpoint:
    base = Checkpoint(fingerprint=fingerprint(RUN), run=RUN, offset=0, size=0, records=0)
    return msgspec.structs.replace(base, **changes)


# -- ids --


@pytest.mark.parametrize(
    ("record", "key"),
    [
        pytest.param(b'{"id":"PRN-1","x":1}', b"PRN-1", id="id-first-compact"),
        pytest.param(b'{"x": 1, "id": "PRN-1"}', b"PRN-1", id="id-later-spaced"),
        pytest.param(b'{"id":"PRN-\\u0031"}', b"PRN-1", id="escaped-same-key"),
        pytest.param('{"id":"Café-1"}'.encode(), "Café-1".encode(), id="utf8"),
        pytest.param(b'{"id":7}', b"\x007", id="number-not-string"),
        pytest.param(b'{"x":1}', None, id="no-id"),
        pytest.param(b'{"id":null}', None, id="null-id"),
        pytest.param(b"<html>", None, id="not-json"),
    ],
)
def test_record_key(record: bytes, key: bytes | None) -> None:
    """A record's key is its id's UTF-8 bytes whatever the layout, and None without an id."""
    assert record_key(record) == key


def test_number_and_string_ids_differ() -> None:
    """The id 7 and the id "7" are different records."""
    assert record_key(b'{"id":7}') != record_key(b'{"id":"7"}')


def test_idset_drops_repeats_across_pages() -> None:
    """A record whose id was already written is dropped and counted, on any later page."""
    ids = IdSet()
    assert ids.fresh([b'{"id":"a"}', b'{"id":"b"}']) == [b'{"id":"a"}', b'{"id":"b"}']
    assert ids.fresh([b'{"id":"b"}', b'{"id":"c"}', b'{"id": "a"}']) == [b'{"id":"c"}']
    assert ids.duplicates == 2
    assert len(ids) == 3


def test_idset_keeps_records_without_id() -> None:
    """Records without an id cannot be de-duplicated, so all of them are kept."""
    ids = IdSet()
    assert len(ids.fresh([b"{}", b"{}"])) == 2


def test_idset_load_file_reads_only_the_vouched_bytes(tmp_path: Path) -> None:
    """Rebuilding from a journal reads the first ``size`` bytes, across read chunks."""
    lines = [f'{{"id":"r{i}"}}\n'.encode() for i in range(1000)]
    path = tmp_path / "j"
    path.write_bytes(b"".join(lines) + b'{"id":"partial')
    ids = IdSet()
    with open(path, "rb") as file:
        assert ids.load_file(file, sum(map(len, lines))) == 1000
    assert ids.fresh([b'{"id":"r999"}', b'{"id":"partial"}']) == [b'{"id":"partial"}']


# -- fingerprint and checkpoint --


def test_fingerprint_is_stable_and_order_free() -> None:
    """The same parameters in any order give the same fingerprint."""
    assert fingerprint(RUN) == fingerprint(dict(reversed(list(RUN.items()))))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"endpoint": "realtime"}, id="endpoint"),
        pytest.param({"base_url": "http://127.0.0.1:2"}, id="base-url"),
        pytest.param({"path": "/metadata/v2/locations"}, id="path"),
        pytest.param({"filters": {"state": "NY"}}, id="filters"),
        pytest.param({"page_size": 50}, id="page-size"),
        pytest.param({"format": "csv"}, id="format"),
        pytest.param({"offset": 10}, id="offset"),
        pytest.param({"max_items": 5}, id="max-items"),
    ],
)
def test_fingerprint_changes_with_what_is_harvested(change: dict[str, object]) -> None:
    """Any parameter that changes what the output holds changes the fingerprint."""
    assert fingerprint({**RUN, **change}) != fingerprint(RUN)


def test_checkpoint_round_trip_is_atomic(tmp_path: Path) -> None:
    """A written checkpoint reads back equal, and no temporary file is left behind."""
    path = tmp_path / "out.checkpoint"
    state = checkpoint(offset=300, size=1234, records=297, duplicates=3, done=True)
    write_checkpoint(path, state)
    read = read_checkpoint(path)
    assert read is not None
    assert msgspec.structs.replace(read, updated="") == state
    assert read.updated.endswith("Z")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.checkpoint"]


def test_missing_checkpoint_reads_as_none(tmp_path: Path) -> None:
    """No checkpoint file means no unfinished harvest."""
    assert read_checkpoint(tmp_path / "nothing.checkpoint") is None


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{not json", id="garbage"),
        pytest.param(b'{"version": 1}', id="missing-fields"),
        pytest.param(
            json.dumps({**msgspec.to_builtins(checkpoint()), "version": 9}).encode(),
            id="future-version",
        ),
    ],
)
def test_unusable_checkpoint_is_an_error(tmp_path: Path, content: bytes) -> None:
    """A checkpoint that cannot be trusted stops the harvest instead of being ignored."""
    path = tmp_path / "out.checkpoint"
    path.write_bytes(content)
    with pytest.raises(JournalError):
        read_checkpoint(path)


# -- journal --


def test_journal_reset_cuts_the_unvouched_tail(tmp_path: Path) -> None:
    """Reopening cuts the journal to the checkpointed size: a crash's partial tail goes."""
    paths = Paths.for_output(tmp_path / "out.ndjson")
    paths.part.write_bytes(b'{"id":"a"}\n{"id":"b"}\n{"id":"c')
    journal = Journal.open(paths)
    journal.reset(checkpoint(size=22, records=2))
    journal.append(b'{"id":"c"}\n')
    journal.close()
    assert paths.part.read_bytes() == b'{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n'


def test_journal_shorter_than_checkpoint_is_refused(tmp_path: Path) -> None:
    """A journal missing bytes its checkpoint vouches for was altered: refuse to continue."""
    paths = Paths.for_output(tmp_path / "out.ndjson")
    paths.part.write_bytes(b'{"id":"a"}\n')
    journal = Journal.open(paths)
    with pytest.raises(JournalError, match="altered"):
        journal.reset(checkpoint(size=100, records=9))
    journal.close()


def test_journal_is_locked_against_a_second_harvest(tmp_path: Path) -> None:
    """Two harvests of the same output cannot write one journal at once."""
    paths = Paths.for_output(tmp_path / "out.ndjson")
    first = Journal.open(paths)
    with pytest.raises(JournalError, match="another harvest"):
        Journal.open(paths)
    first.close()
    Journal.open(paths).close()


# -- rows --

METADATA = {
    "id": "PRN-1",
    "name": "Depot",
    "operator": {"name": "Net"},
    "last_updated": "2025-05-13T20:22:24Z",
    "address": {"address": "1 Main St", "city": "Albany", "postal_code": "12207",
                "state": "NY", "country": "USA",
                "coordinates": {"latitude": "42.65", "longitude": -73.75}},
    "charging_pool": {"id": "P1", "model": "L2+DCFC", "program": "NEVI", "evses": [
        {"status": "AVAILABLE", "connectors": [
            {"standard": "IEC_62196_T1", "power_type": "AC_1_PHASE", "max_electric_power": 7680},
            {"standard": "SAE_J3400", "power_type": "AC_1_PHASE", "max_electric_power": 11520}]},
        {"status": "CHARGING", "connectors": [{"standard": "IEC_62196_T1_COMBO",
                                               "power_type": "DC",
                                               "max_electric_power": 150000}]},
        {"status": "WARP_DRIVE", "connectors": [{"standard": "MAGLEV"}]},
        {"connectors": []},
    ]},
    "amenities": ["FOOD"],
}  # fmt: skip


def test_row_flattens_address_pool_and_evse_summaries() -> None:
    """One row per location: address, coordinates as floats, counts per status and standard."""
    location = msgspec.json.decode(json.dumps(METADATA), type=Location, strict=False)
    values = dict(zip([c.name for c in columns("metadata")], row(location), strict=True))
    assert values["id"] == "PRN-1"
    assert values["operator"] == "Net"
    assert values["last_updated"] == datetime(2025, 5, 13, 20, 22, 24, tzinfo=timezone.utc)
    assert (values["city"], values["state"]) == ("Albany", "NY")
    assert (values["latitude"], values["longitude"]) == (42.65, -73.75)
    assert (values["pool_model"], values["pool_program"]) == ("L2+DCFC", "NEVI")
    assert (values["evses"], values["connectors"]) == (4, 4)
    assert (values["max_power_kw"], values["max_dc_power_kw"]) == (150.0, 150.0)
    assert (values["evses_ac"], values["evses_dc"]) == (1, 1)  # two ports have no power type
    assert values["postal_code"] == "12207"
    assert (values["evses_available"], values["evses_charging"]) == (1, 1)
    assert values["evses_other"] == 2  # an unknown status and a missing one
    assert values["connectors_iec_62196_t1"] == 1
    assert values["connectors_other"] == 1
    assert sum(values[f"evses_{s.lower()}"] for s in STATUSES) + values["evses_other"] == 4
    assert sum(values[f"connectors_{s.lower()}"] for s in STANDARDS) == 3


def test_row_of_a_bare_location_is_empty_not_an_error() -> None:
    """A location with only an id gives a row of empty cells and zero counts."""
    values = row(Location(id="x"))
    assert values[0] == "x"
    assert len(values) == len(columns("metadata"))
    assert values[1:15] == (None,) * 14


def test_realtime_row_adds_prices_with_units_and_reliability() -> None:
    """Realtime rows add prices per unit, member prices, price types and the reliability block."""
    record = {"id": "R", "name": "ignored", "charging_pool": {"current_pricing": {
        "non-member": {"currency": "USD", "elements": [
            {"pricing_components": {"type": "ENERGY", "price": 0.48}},
            {"pricing_components": [{"type": "ENERGY", "price": 0.31},
                                    {"type": "FLAT", "price": 1.0},
                                    {"type": "IDLE_FEE", "price": 0.4}]}]},
        "member": {"currency": "USD", "elements": [
            {"pricing_components": {"type": "ENERGY", "price": 0.26}}]}}},
        "reliability": {"uptime_7d": 0.97, "failed_sessions_7d": "2", "new_metric": [1]}}  # fmt: skip
    values = dict(
        zip(
            [c.name for c in columns("realtime")],
            flatten(json.dumps(record).encode(), "realtime"),
            strict=True,
        )
    )
    assert "name" not in values and "operator" not in values and "pool_model" not in values
    assert values["currency"] == "USD"
    assert (values["energy_price_min_per_kwh"], values["energy_price_max_per_kwh"]) == (0.31, 0.48)
    assert values["member_energy_price_min_per_kwh"] == 0.26
    assert (values["flat_fee"], values["time_price_per_hour"]) == (1.0, None)
    assert values["price_types"] == "ENERGY,FLAT,IDLE_FEE"
    assert values["reliability_uptime_7d"] == 0.97
    assert values["reliability_failed_sessions_7d"] == 2
    assert json.loads(str(values["reliability"]))["new_metric"] == [1]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        pytest.param(b'{"id":"a","last_updated":"soon"}', "$.last_updated", id="prose-timestamp"),
        pytest.param(b'{"id":"a","charging_pool":{"evses":"many"}}', "$.charging_pool.evses",
                     id="string-evses"),
        pytest.param(b'{"id":"a","name":"Caf\xe9"}', "UTF-8", id="latin-1"),
        pytest.param(b'{"id":"a"', "truncated", id="truncated"),
        pytest.param(b"[1, 2]", "Expected `object`", id="not-an-object"),
    ],
)  # fmt: skip
def test_flatten_refuses_one_bad_record_with_a_reason(record: bytes, reason: str) -> None:
    """A record the typed models refuse raises RowError naming why, and nothing else."""
    with pytest.raises(RowError, match=re.escape(reason)):
        flatten(record, "metadata")


def test_csv_export_bytes(tmp_path: Path) -> None:
    """CSV: a header, then one row per journal line; UTC timestamps end in Z, empty is empty."""
    journal = tmp_path / "out.part"
    journal.write_bytes(json.dumps(METADATA).encode() + b'\n{"id":"bare"}\n')
    target = tmp_path / "out.csv"
    rejects = Rejects(tmp_path / "rejects")
    assert export(journal, target, "csv", "metadata", lambda: False, rejects) == 2
    assert rejects.count == 0
    assert not rejects.path.exists()
    text = target.read_text()
    assert text.endswith("\n")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0]) == [c.name for c in columns("metadata")]
    assert parsed[0]["last_updated"] == "2025-05-13T20:22:24Z"
    assert parsed[0]["latitude"] == "42.65"
    assert parsed[1]["id"] == "bare"
    assert parsed[1]["city"] == ""
    assert parsed[1]["evses"] == "0"


# -- summaries and command line --


def test_outcome_json_line_is_one_line_of_json() -> None:
    """The scheduler's summary is one line of JSON naming the event and the exit code."""
    outcome = Outcome("failed", EXIT_API, Path("o.ndjson"), "ndjson", "metadata", records=5)
    line = json.dumps(outcome.as_json())
    assert "\n" not in line
    assert json.loads(line)["event"] == "harvest.failed"
    assert json.loads(line)["exit"] == EXIT_API


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["harvest", *argv])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param([], "ndjson", id="default"),
        pytest.param(["--out", "x.CSV"], "csv", id="from-suffix"),
        pytest.param(["--out", "x.parquet"], "parquet", id="parquet-suffix"),
        pytest.param(["--out", "x.csv", "--format", "ndjson"], "ndjson", id="explicit-wins"),
        pytest.param(["--out", "x.data"], "ndjson", id="unknown-suffix"),
    ],
)
def test_format_from_arguments(argv: list[str], expected: str) -> None:
    """--format wins; otherwise --out's suffix decides; otherwise NDJSON."""
    assert _format(parse(*argv)) == expected


def test_resume_command_repeats_what_matters() -> None:
    """The printed resume command repeats the harvest's parameters and adds --resume."""
    args = parse("--realtime", "--page-size", "50", "--filter", "state=NY", "city=New York")
    command = _resume_command(args, "csv", Path("o.csv"))
    assert command == (
        "paren-async harvest --realtime --out o.csv --format csv --page-size 50 "
        "--filter state=NY 'city=New York' --resume"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--concurrency", "x"], "must be an integer", id="concurrency"),
        pytest.param(["--concurrency", "65"], "from 1 to 64", id="concurrency-range"),
        pytest.param(["--max-items", "-1"], "must be an integer >= 0", id="max-items"),
        pytest.param(["--format", "xml"], "invalid choice", id="format"),
        pytest.param(["--filter", "stateNY"], "KEY=VALUE", id="filter-shape"),
        pytest.param(["--checkpoint-interval", "0"], "seconds", id="checkpoint-interval"),
    ],
)
def test_argparse_rejects_bad_values(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Values argparse can judge alone exit 2 with a message naming the problem."""
    with pytest.raises(SystemExit) as exit_info:
        main(["harvest", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials in the environment, and no base URL."""
    monkeypatch.setenv("PAREN_API_KEY", "k")
    monkeypatch.setenv("PAREN_API_SECRET", "s")
    monkeypatch.delenv("PAREN_BASE_URL", raising=False)


@pytest.mark.usefixtures("credentials")
def test_bad_base_url_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A base URL the client refuses exits 2 with one JSON line on stdout."""
    assert main(["harvest", "--out", str(tmp_path / "o.ndjson"), "--base-url", "ftp://x"]) == 2
    captured = capsys.readouterr()
    assert "http" in captured.err
    assert json.loads(captured.out)["exit"] == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("credentials")
def test_parquet_without_pyarrow_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asking for Parquet without pyarrow exits 2 and names the extra to install."""
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    assert main(["harvest", "--out", str(tmp_path / "o.parquet")]) == 2
    assert "pip install 'paren-async[parquet]'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("stamp", "written"),
    [
        pytest.param("2025-05-13T20:22:24Z", "2025-05-13T20:22:24Z", id="utc"),
        pytest.param("2025-05-13T20:22:24", "2025-05-13T20:22:24Z", id="zone-less-means-utc"),
        pytest.param("2025-05-13T22:22:24+02:00", "2025-05-13T20:22:24Z", id="offset"),
    ],
)
def test_timestamps_are_utc_in_every_export(tmp_path: Path, stamp: str, written: str) -> None:
    """Every timestamp column is UTC, whatever zone the record used, in CSV as in Parquet."""
    import pyarrow.parquet as pq

    journal = tmp_path / "out.part"
    journal.write_bytes(b'{"id":"a","last_updated":"%s"}\n' % stamp.encode())
    for fmt in ("csv", "parquet"):
        export(
            journal, tmp_path / f"o.{fmt}", fmt, "metadata", lambda: False, Rejects(tmp_path / "r")
        )
    assert (
        next(csv.DictReader(io.StringIO((tmp_path / "o.csv").read_text())))["last_updated"]
        == written
    )
    moment = pq.read_table(tmp_path / "o.parquet").column("last_updated").to_pylist()[0]
    assert moment == datetime.fromisoformat(written.replace("Z", "+00:00"))


def test_demo_facts_skip_a_record_the_models_refuse(tmp_path: Path) -> None:
    """The demo's tally counts a refused record as unreadable and goes on with the rest."""
    from paren_async._harvest._facts import facts

    path = tmp_path / "o.ndjson"
    path.write_bytes(b'{"id":"a"}\n{"id":"b","last_updated":"soon"}\n{"id":"c"}\n')
    found = facts(path)
    assert (found.locations, found.unreadable) == (2, 1)
