"""Every Python snippet in README.md runs as pasted, so a broken snippet fails the suite.

Each ```python block runs in a fresh interpreter with warnings as errors, no ``PAREN_*``
variables and no network, and must exit 0 with nothing on stderr. A comment line just before
the block says what it needs:

- none: it runs on its own (the Quick start starts its own emulator);
- ``<!-- readme-test: env -->``: the real API, with credentials from the environment; here the
  ``PAREN_*`` variables point at a local emulator instead;
- ``<!-- readme-test: pytest -->``: a test module, run by pytest in pytest-asyncio's default
  (strict) mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from emulator_support import emulator_env

from paren_async.testing import ParenEmulator

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(
    r"^(?:<!-- readme-test: (?P<mode>\w+) -->\n)?```python\n(?P<code>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
MODES = {None, "env", "pytest"}
SNIPPET_TIMEOUT = 60.0


@dataclass(frozen=True)
class Snippet:
    line: int
    mode: str | None
    code: str


def snippets(text: str) -> list[Snippet]:
    return [
        Snippet(text.count("\n", 0, match.start("code")) + 1, match["mode"], match["code"])
        for match in BLOCK.finditer(text)
    ]


SNIPPETS = snippets(README.read_text(encoding="utf-8"))


def environment(emulator: ParenEmulator | None, home: Path) -> dict[str, str]:
    # A home of its own: tools a snippet runs (dlt's pipeline state) write nothing outside.
    return emulator_env(emulator, HOME=str(home), DLT_DATA_DIR=str(home / ".dlt"))


def test_every_python_block_is_collected() -> None:
    """The extractor sees every ```python fence in the README, and each has a known mode."""
    text = README.read_text(encoding="utf-8")
    assert len(SNIPPETS) == text.count("```python\n") >= 4
    assert {snippet.mode for snippet in SNIPPETS} <= MODES


def test_the_first_snippet_needs_nothing() -> None:
    """The Quick start's first snippet runs with no credentials: it brings its own emulator."""
    assert SNIPPETS[0].mode is None
    assert "ParenEmulator" in SNIPPETS[0].code


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import asyncio\nasync with asyncio.timeout(1):\n    pass\n", id="syntax"),
        pytest.param("import warnings\nwarnings.warn('old', DeprecationWarning)\n", id="warning"),
        pytest.param("import sys\nprint('oops', file=sys.stderr)\n", id="stderr"),
    ],
)
async def test_a_broken_snippet_fails(code: str, tmp_path: Path) -> None:
    """The runner has reach: a SyntaxError (the README's old top-level ``async with``), a
    warning or any output on stderr fails the snippet."""
    with pytest.raises(AssertionError, match=r"README\.md line 1:"):
        await run_snippet(Snippet(1, None, code), None, tmp_path)


@pytest.mark.parametrize("snippet", [pytest.param(s, id=f"line-{s.line}") for s in SNIPPETS])
async def test_snippet_runs_as_pasted(snippet: Snippet, tmp_path: Path) -> None:
    """The snippet exits 0 and prints nothing on stderr (no warning, no traceback)."""
    async with contextlib.AsyncExitStack() as stack:
        emulator = None
        if snippet.mode == "env":
            emulator = await stack.enter_async_context(ParenEmulator(locations=600))
        await run_snippet(snippet, emulator, tmp_path)


async def run_snippet(snippet: Snippet, emulator: ParenEmulator | None, tmp_path: Path) -> None:
    if snippet.mode == "pytest":
        (tmp_path / "test_snippet.py").write_text(snippet.code)
        (tmp_path / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
        )
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    else:
        (tmp_path / "snippet.py").write_text(snippet.code)
        command = [sys.executable, "-W", "error", "snippet.py"]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        env=environment(emulator, tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), SNIPPET_TIMEOUT)
    report = f"README.md line {snippet.line}:\n{out.decode()}\n{err.decode()}"
    assert process.returncode == 0, report
    assert err == b"", report
    if snippet.mode == "pytest":
        assert re.search(rb"\b[1-9]\d* passed\b", out), report
