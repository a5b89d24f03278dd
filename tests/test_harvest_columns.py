"""The column dictionary (issue 11, section 4): one source for exports, ``columns`` and the docs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from paren_async import ParenClient
from paren_async._cli import main
from paren_async._cli.columns import render
from paren_async._harvest import HarvestOptions, harvest
from paren_async._harvest._columns import columns
from paren_async._harvest._export import Rejects, export
from paren_async.testing import ParenEmulator

README = Path(__file__).parent.parent / "README.md"
FAMILIES = [pytest.param(False, id="metadata"), pytest.param(True, id="realtime")]


async def export_csv(emulator: ParenEmulator, out: Path, *, realtime: bool) -> list[dict[str, str]]:
    async with ParenClient(emulator.api_key, emulator.api_secret, base_url=emulator.url) as client:
        outcome = await harvest(
            client,
            HarvestOptions(out=out, format="csv", realtime=realtime),
            stream=io.StringIO(),
            progress="quiet",
            handle_signals=False,
        )
    assert outcome.status == "done"
    return read_rows(out)


def read_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def dictionary(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["columns", "--format", "json", *args]) == 0
    parsed: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return parsed


@pytest.mark.parametrize("realtime", FAMILIES)
async def test_the_dictionary_lists_exactly_the_exported_columns(
    paren_emulator: ParenEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    realtime: bool,
) -> None:
    """``paren-async columns`` names every CSV column, in order, each with a type and meaning."""
    rows = await export_csv(paren_emulator, tmp_path / "o.csv", realtime=realtime)
    described = dictionary(capsys, *(["--realtime"] if realtime else []))
    assert [column["name"] for column in described] == list(rows[0])
    assert all(column["meaning"] and column["type"] for column in described)


@pytest.mark.parametrize("realtime", FAMILIES)
async def test_no_column_is_empty_in_every_row(
    paren_emulator: ParenEmulator, tmp_path: Path, realtime: bool
) -> None:
    """Over 1,000 emulator locations every column holds something (Realtime name etc. are gone)."""
    rows = await export_csv(paren_emulator, tmp_path / "o.csv", realtime=realtime)
    empty = [name for name in rows[0] if all(row[name] == "" for row in rows)]
    assert empty == []
    if realtime:
        assert not {"name", "operator", "pool_model", "pool_program"} & set(rows[0])


def test_units_are_stated_where_a_number_has_one() -> None:
    """Power is in kW, prices per kWh, hour or session, ports are counted: the units say so."""
    units = {c.name: c.unit for c in columns("realtime")}
    assert units["max_power_kw"] == units["max_dc_power_kw"] == "kW"
    assert units["energy_price_min_per_kwh"] == "currency/kWh"
    assert units["parking_price_per_hour"] == "currency/hour"
    assert units["flat_fee"] == "currency/session"
    assert units["evses_ac"] == units["evses_dc"] == "ports"
    kinds = {c.name: c.kind for family in ("metadata", "realtime") for c in columns(family)}
    assert kinds["postal_code"] == "string"


def test_duckdb_reads_postal_codes_as_text_with_the_printed_reader(tmp_path: Path) -> None:
    """DuckDB guesses 12207 as an integer; the reader ``columns --format duckdb`` prints does not."""
    duckdb = pytest.importorskip("duckdb")
    for name, codes in (("ny", ["12207", "10001"]), ("nj", ["07030", "12207"])):
        journal = tmp_path / f"{name}.part"
        journal.write_text(
            "".join(
                f'{{"id":"L{i}","address":{{"postal_code":"{c}"}}}}\n' for i, c in enumerate(codes)
            )
        )
        target = tmp_path / f"{name}.csv"
        export(journal, target, "csv", "metadata", lambda: False, Rejects(tmp_path / "rejects"))
        if name == "ny":
            guessed = duckdb.sql(f"SELECT postal_code FROM read_csv('{target}')")
            assert guessed.types == ["BIGINT"]  # the hazard the typed reader exists for
        reader = render(columns("metadata"), "duckdb", str(target)).rstrip(";")
        typed = duckdb.sql(reader).select("postal_code")
        assert (typed.types, typed.fetchall()) == (["VARCHAR"], [(c,) for c in codes])


def test_the_readme_carries_the_dictionary() -> None:
    """The README's column tables are ``paren-async columns --format markdown``, verbatim."""
    text = README.read_text()
    for family in ("metadata", "realtime"):
        assert render(columns(family), "markdown") in text, f"regenerate the {family} table"


def test_pandas_reads_postal_codes_as_text_with_the_printed_reader(tmp_path: Path) -> None:
    """pandas guesses 12207 as an integer; the reader ``columns --format pandas`` prints does not."""
    pandas = pytest.importorskip("pandas")
    journal = tmp_path / "o.part"
    codes = ["12207", "07030"]
    journal.write_text(
        "".join(f'{{"id":"L{i}","address":{{"postal_code":"{c}"}}}}\n' for i, c in enumerate(codes))
    )
    target = tmp_path / "o.csv"
    export(journal, target, "csv", "metadata", lambda: False, Rejects(tmp_path / "rejects"))
    assert pandas.read_csv(target).postal_code.tolist() == [12207, 7030]  # the hazard
    scope: dict[str, Any] = {}
    exec(render(columns("metadata"), "pandas", str(target)), scope)
    assert scope["frame"].postal_code.tolist() == codes
