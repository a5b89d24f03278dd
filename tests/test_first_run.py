"""What a new user meets first: the package metadata, ``--version``, and progress without tqdm."""

from __future__ import annotations

import io
import subprocess
import sys
from importlib import metadata

import pytest

import paren_async
from paren_async._cli import main
from paren_async._harvest._progress import NO_BAR_HINT, LogLines, Tally, make_progress


def test_version_prints_name_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``paren-async --version`` prints ``paren-async <version>`` and exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"paren-async {paren_async.__version__}\n"


def test_version_from_the_installed_command() -> None:
    """The same from a fresh interpreter, as the console script runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "paren_async", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"paren-async {paren_async.__version__}\n",
        "",
    )


def test_metadata_names_license_pythons_and_urls() -> None:
    """The distribution states its license, each supported Python and where the project lives."""
    meta = metadata.metadata("paren-async")
    assert meta["Version"] == paren_async.__version__
    assert "MIT" in (meta.get("License-Expression") or meta.get("License") or "")
    classifiers = set(meta.get_all("Classifier") or ())
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    urls = dict(entry.split(", ", 1) for entry in meta.get_all("Project-URL") or ())
    assert {"Homepage", "Source", "Changelog", "Issues"} <= set(urls)


def test_a_terminal_without_tqdm_is_told_how_to_get_the_bar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the cli extra, one line says how to get the bar; progress lines come every second."""
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    progress = make_progress("auto", terminal, total=100, initial=0)
    assert isinstance(progress, LogLines)
    assert terminal.getvalue() == NO_BAR_HINT + "\n"
    assert "pip install 'paren-async[cli]'" in NO_BAR_HINT
    progress.update(Tally(records=40, pages=1, started=0.0), now=1.0)
    assert "40/100 records" in terminal.getvalue()


def test_no_hint_off_a_terminal() -> None:
    """Logs for schedulers get no install hint: the bar was never going to be drawn there."""
    stream = io.StringIO()
    assert isinstance(make_progress("auto", stream, total=None, initial=0), LogLines)
    assert stream.getvalue() == ""
