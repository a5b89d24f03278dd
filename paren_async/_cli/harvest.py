"""``paren-async harvest``: every location of an endpoint into one file, crash-safe and resumable.

Credentials come from ``PAREN_API_KEY`` / ``PAREN_API_SECRET`` only: arguments land in shell
history and ``ps``. Progress and the human summary go to stderr; stdout carries exactly one JSON
line (``{"event": "harvest.done", "exit": 0, ...}``) for schedulers, whatever the exit: bad
arguments and unexpected errors included (``--help`` alone prints none).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, cast

from . import EXIT_USAGE

__all__ = ["EXIT_INTERNAL", "register"]

#: An unexpected error: a bug in paren-async (the message and traceback are on stderr).
EXIT_INTERNAL = 1

EPILOG = """\
credentials:
  PAREN_API_KEY and PAREN_API_SECRET, from the environment only; PAREN_BASE_URL or
  --base-url for another host.

output:
  Records are journaled to OUT.part and checkpointed in OUT.checkpoint about every second;
  OUT itself appears only when the harvest is complete (atomically). ndjson holds each record
  exactly as the server sent it, one per line; csv and parquet hold one flat row per location
  (what each column holds: paren-async columns). After a crash, an error or Ctrl-C, run the
  same command with --resume.

exit codes:
  0    done
  2    bad arguments or configuration (also the server's 400/404, missing pyarrow)
  3    authentication failed (401/403)
  4    the API or the network kept failing after retries: run again with --resume
  5    output problem: an unfinished harvest without --resume, a checkpoint of another
       harvest, a locked or unwritable file
  130  interrupted (SIGINT/SIGTERM): progress checkpointed, run again with --resume
  1    unexpected error: a bug in paren-async, please report it with the message
  Every exit prints one JSON line on stdout ("event", "exit", counts, "error"). A CSV or
  Parquet harvest that could not turn some records into rows still exits 0: they are in
  OUT.rejects.ndjson, counted as "rejected".
"""

_SUFFIXES = {".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv", ".parquet": "parquet"}


def _count(low: int, high: int | None = None) -> type[int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"must be an integer {bounds}, got {text!r}")
        return value

    return parse  # type: ignore[return-value]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds from 0 to 3600, got {text!r}"
        )
    return value


def _filter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error also prints the JSON line schedulers read."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.exit(_fail(message))

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # The top-level parser would report our leftovers without the JSON line: report them here.
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "harvest",
        help="harvest every location into an NDJSON, CSV or Parquet file",
        description="Harvest every location of the Metadata (default) or Realtime API into one "
        "file: lossless, de-duplicated, crash-safe and resumable.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.__class__ = _Parser  # argparse builds subparsers itself; only their errors change
    add = parser.add_argument
    add("--realtime", action="store_true", help="harvest the Realtime API instead of Metadata")
    add("--out", type=Path, help="output file (default: locations.FORMAT)")
    add("--format", choices=("ndjson", "csv", "parquet"), help="default: from --out, else ndjson")
    add("--max-items", type=_count(0), help="stop after N records")
    add("--offset", type=_count(0), default=0, help="start at this offset (default: 0)")
    add("--concurrency", type=_count(1, 64), help="pages in flight (default: 8)")
    add("--page-size", type=_count(1, 100), default=100, help="records per page (default: 100)")
    add("--filter", type=_filter, nargs="+", action="extend", default=[], metavar="KEY=VALUE",
        help="query filter passed to the API, e.g. state=NY (repeatable, one value per key)",
        )  # fmt: skip
    add("--resume", action="store_true", help="continue an interrupted harvest of --out")
    add("--base-url", help="API base URL (default: PAREN_BASE_URL or https://api.paren.app)")
    add("--max-attempts", type=_count(1, 100), default=4, help="attempts per request (default: 4)")
    add("--checkpoint-interval", type=_seconds, default=1.0, metavar="SECONDS",
        help="seconds between checkpoints: the most a crash costs (default: 1)")  # fmt: skip
    add("--quiet", "-q", action="store_true", help="no progress and no summary on stderr")
    parser.set_defaults(func=run)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.out is not None:
        return _SUFFIXES.get(args.out.suffix.lower(), "ndjson")
    return "ndjson"


def _resume_command(args: argparse.Namespace, fmt: str, out: Path) -> str:
    argv = ["paren-async", "harvest"]
    if args.realtime:
        argv.append("--realtime")
    argv += ["--out", str(out), "--format", fmt]
    for flag, value in (
        ("--max-items", args.max_items),
        ("--offset", args.offset or None),
        ("--concurrency", args.concurrency),
        ("--page-size", args.page_size if args.page_size != 100 else None),
        ("--base-url", args.base_url),
        ("--max-attempts", args.max_attempts if args.max_attempts != 4 else None),
        (
            "--checkpoint-interval",
            args.checkpoint_interval if args.checkpoint_interval != 1 else None,
        ),
    ):
        if value is not None:
            argv += [flag, str(value)]
    if args.filter:
        argv += ["--filter", *(f"{key}={value}" for key, value in args.filter)]
    return shlex.join([*argv, "--resume"])


def _fail(message: str) -> int:
    print(f"paren-async harvest: error: {message}", file=sys.stderr)
    line = {"event": "harvest.failed", "exit": EXIT_USAGE, "error": message, "error_type": "usage"}
    print(json.dumps(line), flush=True)
    return EXIT_USAGE


def _filters(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """``--filter`` pairs as a mapping; one key with two values is a usage error.

    Whether the API reads ``state=NY&state=NJ`` as either state, both or the last is not
    documented, so the harvest refuses to guess rather than send something it cannot vouch for.
    """
    filters: dict[str, str] = {}
    for key, value in pairs:
        if filters.get(key, value) != value:
            raise ValueError(
                f"--filter {key} given twice ({filters[key]}, {value}): the API takes one value "
                f"per filter; run one harvest per {key}"
            )
        filters[key] = value
    return filters


def run(args: argparse.Namespace) -> int:
    """The command: every failure, expected or not, ends with the one JSON line."""
    try:
        return _run(args)
    except Exception as exc:  # a bug: still tell the scheduler, with a code of its own
        traceback.print_exc()
        message = f"unexpected {type(exc).__name__}: {exc}"
        print(f"paren-async harvest: error: {message} (a bug: please report it)", file=sys.stderr)
        line: dict[str, Any] = {"event": "harvest.failed", "exit": EXIT_INTERNAL}
        line.update(error=message, error_type=type(exc).__name__)
        print(json.dumps(line), flush=True)
        return EXIT_INTERNAL


def _run(args: argparse.Namespace) -> int:
    from paren_async import ParenClient, RetryPolicy, UsageError
    from paren_async._harvest import (
        EXIT_INTERRUPTED,
        Format,
        HarvestOptions,
        Outcome,
        harvest,
        parquet_missing,
    )

    fmt = _format(args)
    prefix = "realtime-locations" if args.realtime else "locations"
    out: Path = args.out if args.out is not None else Path(f"{prefix}.{fmt}")
    if fmt == "parquet" and (missing := parquet_missing()):
        return _fail(missing)
    try:
        filters = _filters(args.filter)
    except ValueError as exc:
        return _fail(str(exc))
    key, secret = os.environ.get("PAREN_API_KEY"), os.environ.get("PAREN_API_SECRET")
    if not key or not secret:
        return _fail("set PAREN_API_KEY and PAREN_API_SECRET in the environment")
    options = HarvestOptions(
        out=out,
        format=cast(Format, fmt),
        realtime=args.realtime,
        offset=args.offset,
        max_items=args.max_items,
        page_size=args.page_size,
        concurrency=args.concurrency,
        filters=filters,
        resume=args.resume,
        checkpoint_interval=args.checkpoint_interval,
    )

    async def main() -> Outcome:
        extra = {"concurrency": args.concurrency} if args.concurrency else {}
        client = ParenClient(
            key,
            secret,
            base_url=args.base_url,
            retry=RetryPolicy(max_attempts=args.max_attempts),
            **extra,
        )
        async with client:
            return await harvest(
                client, options, stream=sys.stderr, progress="quiet" if args.quiet else "auto"
            )

    try:
        outcome = asyncio.run(main())
    except UsageError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:  # before the harvest's own handlers were installed
        print("paren-async harvest: interrupted", file=sys.stderr)
        print(json.dumps({"event": "harvest.interrupted", "exit": EXIT_INTERRUPTED}))
        return EXIT_INTERRUPTED
    if not args.quiet or outcome.status != "done":
        for line in outcome.lines():
            print(line, file=sys.stderr)
        if outcome.checkpoint is not None and outcome.status != "done":
            print(f"  resume with: {_resume_command(args, fmt, out)}", file=sys.stderr)
    print(json.dumps(outcome.as_json()), flush=True)
    return outcome.exit_code
