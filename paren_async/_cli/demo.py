"""``paren-async demo``: harvest a local emulator through the real client, then show what came.

The emulator runs in this process on 127.0.0.1 with realistic per-request latency; the harvest is
the very engine behind ``paren-async harvest`` (same journal, checkpoints and progress bar).

The demo never touches a file it did not create: by default it writes into a new temporary
directory, and an ``--out`` that exists (or has a journal, checkpoint or rejects file beside it)
is refused, so a real harvest in the same folder is never replaced or its checkpoint discarded.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import EXIT_OK
from .serve import parse_duration

if TYPE_CHECKING:
    from paren_async._harvest import Outcome

__all__ = ["register"]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return int(text)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="harvest a local emulator (no credentials, no network) and summarise the data",
        description="Start the Paren emulator in this process on 127.0.0.1, harvest every "
        "Metadata location through the public client into an NDJSON file, and summarise it.",
    )
    add = parser.add_argument
    add("--locations", type=_positive, default=12_000, help="locations (default: 12000)")
    add("--latency", type=parse_duration, default=0.2, help="per request (default: 200ms)")
    add("--jitter", type=parse_duration, default=0.05, help="latency +- (default: 50ms)")
    add("--concurrency", type=_positive, default=8, help="pages in flight (default: 8)")
    add("--out", type=Path, default=None,
        help="a new file to write; it must not exist (default: locations.ndjson in a new "
        "temporary directory)")  # fmt: skip
    parser.set_defaults(func=run)


def _taken(out: Path) -> list[Path]:
    """The files at ``out`` that a harvest of it would replace, resume or discard."""
    beside = (".part", ".checkpoint", ".tmp", ".rejects.ndjson")
    return [p for p in (out, *(out.with_name(out.name + s) for s in beside)) if p.exists()]


def run(args: argparse.Namespace) -> int:
    from paren_async._harvest import EXIT_OUTPUT

    args.started = time.monotonic()
    if args.out is None:
        args.out = Path(tempfile.mkdtemp(prefix="paren-demo-")) / "locations.ndjson"
    elif taken := _taken(args.out):
        names = ", ".join(str(path) for path in taken)
        print(
            f"paren-async demo: error: {names} exists and the demo did not create it: "
            "choose a new --out, or leave it out to write into a new temporary directory",
            file=sys.stderr,
        )
        return EXIT_OUTPUT
    try:
        return asyncio.run(_demo(args))
    except KeyboardInterrupt:  # pragma: no cover - before the harvest's own handlers
        return 130


async def _demo(args: argparse.Namespace) -> int:
    from paren_async import ParenClient
    from paren_async._harvest import HarvestOptions, harvest
    from paren_async.testing import ParenEmulator

    emulator = ParenEmulator(locations=args.locations, latency=args.latency, jitter=args.jitter)
    async with emulator:
        print(
            f"Paren emulator on {emulator.url}: {args.locations:,} locations, "
            f"{args.latency * 1000:g} ms ± {args.jitter * 1000:g} ms per request",
            flush=True,
        )
        client = ParenClient(
            emulator.api_key,
            emulator.api_secret,
            base_url=emulator.url,
            concurrency=args.concurrency,
        )
        async with client:
            options = HarvestOptions(out=args.out, expected=args.locations)
            outcome = await harvest(client, options, stream=sys.stderr)
    if outcome.status != "done":
        for line in outcome.lines():
            print(line, file=sys.stderr)
        return outcome.exit_code
    _summarise(args, outcome)
    return EXIT_OK


def _summarise(args: argparse.Namespace, outcome: Outcome) -> None:
    from paren_async._harvest._facts import facts, top

    per_page = outcome.records / outcome.pages if outcome.pages else 0.0
    bound = args.concurrency * per_page / args.latency if args.latency > 0 else 0.0
    share = f" = {outcome.rate / bound:.0%} of" if bound else ", no"
    found = facts(args.out)
    lines = [
        "",
        f"Harvested {outcome.records:,} locations into {args.out} "
        f"({outcome.size / 1e6:.1f} MB) in {outcome.elapsed:.1f} s "
        f"(demo wall time {time.monotonic() - args.started:.1f} s)",
        f"  pages       {outcome.pages:,} ({outcome.requests:,} requests, "
        f"{outcome.retries} retries)",
        f"  rate        {outcome.rate:,.0f} records/s{share} latency bound "
        f"({args.concurrency} pages in flight x {per_page:.0f} records / "
        f"{args.latency * 1000:g} ms = {bound:,.0f}/s)",
        f"  duplicates  {outcome.duplicates}; the collection "
        + ("changed" if outcome.changed else "did not change")
        + " during the walk",
        "",
        f"  {found.evses:,} EVSEs with {found.connectors:,} connectors"
        + (
            f"; {sum(found.funded.values()):,} pools publicly funded ({top(found.funded)})"
            if found.funded
            else ""
        ),
        f"  networks    {top(found.networks)}",
        f"  connectors  {top(found.standards)}",
        f"  states      {top(found.states)}",
        f"  cities      {top(found.cities, 5)}",
    ]
    if found.unreadable:
        lines.append(f"  ({found.unreadable:,} records the typed models refuse are not counted)")
    print("\n".join(lines))
