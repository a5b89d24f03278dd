"""``paren-async serve``: run the local Paren emulator until Ctrl-C or SIGTERM.

The first line printed is always ``Paren emulator listening on <url>`` (flushed at once), so a
benchmark or test can start ``paren-async serve --port 0`` in a subprocess and read the port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shlex
import signal
import sys
from typing import TYPE_CHECKING

from . import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from paren_async.testing import Fault, ParenEmulator

__all__ = ["EXIT_LISTEN_FAILED", "parse_duration", "parse_faults", "register"]

#: The address could not be listened on (in use, not local...).
EXIT_LISTEN_FAILED = 1
LISTENING = "Paren emulator listening on "

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s)?")


def parse_duration(text: str) -> float:
    """Seconds from ``30ms``, ``0.5s`` or ``2`` (a bare number is seconds)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: use e.g. 30ms, 0.5s or 2")
    value = float(match[1])
    return value / 1000 if match[2] == "ms" else value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, got {text!r}")
    return value


def _natural(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return int(text)


def parse_faults(text: str) -> dict[Fault, float]:
    """A fault mix from ``kind[=weight],...``, e.g. ``server_error=3,connection_reset``."""
    from paren_async.testing import Fault  # the emulator loads only when serving

    mix: dict[Fault, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, weight = item.partition("=")
        try:
            fault = Fault(name.strip().lower())
            mix[fault] = float(weight) if weight else 1.0
        except ValueError:
            kinds = ", ".join(f.value for f in Fault)
            raise argparse.ArgumentTypeError(
                f"invalid fault {item!r}: use kind[=weight] with kind among {kinds}"
            ) from None
    if not mix or not sum(mix.values()) > 0:
        raise argparse.ArgumentTypeError("the fault mix needs at least one positive weight")
    return mix


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the local Paren emulator",
        description="Serve the Paren API locally from real New York station data, with "
        "optional latency, faults and data drift, until Ctrl-C or SIGTERM.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    add("--port", type=_natural, default=8080, help="port; 0 picks a free one (default: 8080)")
    add("--locations", type=_natural, default=12_000, help="locations served (default: 12000)")
    add("--seed", type=int, default=0, help="data and fault seed (default: 0)")
    add("--api-key", default="demo", help="accepted API key (default: demo)")
    add("--api-secret", default="demo", help="accepted API secret (default: demo)")
    add("--latency", type=parse_duration, default=0.0, help="added to each request: 30ms, 0.5s")
    add("--jitter", type=parse_duration, default=0.0, help="latency varies by +- this much")
    add("--fault-rate", type=_probability, default=0.0, help="share of requests that fail")
    add("--faults", type=parse_faults, default=None, help="fault mix: kind[=weight],...")
    add("--retry-after", type=parse_duration, default=1.0, help="Retry-After of 429s (1s)")
    add("--hang", type=parse_duration, default=30.0, help="how long a hang fault lasts (30s)")
    add("--drift-rate", type=_probability, default=0.0, help="per-request chance of a change")
    add("--page-cap", type=_positive, default=None, help="never serve more than N per page")
    add("--ignore-offset", action="store_true", help="always serve the first page")
    add("--gzip", action="store_true", help="compress bodies for clients that accept gzip")
    add(
        "--record-cache",
        type=_natural,
        default=None,
        help="encoded records kept per API, ~2 KB each (default: 100000); raise it to make "
        "repeated walks over more locations cost a lookup per record",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from paren_async.testing import ParenEmulator

    # Left out, the option keeps the emulator's own default.
    cache = {} if args.record_cache is None else {"record_cache": args.record_cache}
    try:
        emulator = ParenEmulator(
            locations=args.locations,
            seed=args.seed,
            api_key=args.api_key,
            api_secret=args.api_secret,
            latency=args.latency,
            jitter=args.jitter,
            fault_rate=args.fault_rate,
            faults=args.faults,
            retry_after=args.retry_after,
            hang=args.hang,
            drift_rate=args.drift_rate,
            gzip=args.gzip,
            page_cap=args.page_cap,
            ignore_offset=args.ignore_offset,
            host=args.host,
            port=args.port,
            **cache,
        )
    except (TypeError, ValueError) as exc:
        print(f"paren-async serve: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(_serve(emulator, args))
    except OSError as exc:
        print(
            f"paren-async serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return EXIT_LISTEN_FAILED
    except KeyboardInterrupt:  # pragma: no cover - only where signal handlers are unsupported
        pass
    return EXIT_OK


async def _serve(emulator: ParenEmulator, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    async with emulator:
        print(f"{LISTENING}{emulator.url}", flush=True)
        print(
            f"  {args.locations:,} locations, seed {args.seed}, latency {args.latency * 1000:g}ms"
            f" +- {args.jitter * 1000:g}ms, fault rate {args.fault_rate:g}"
            + (", gzip" if args.gzip else "")
        )
        print("Point a client at it with:")
        assignments = (
            f"PAREN_BASE_URL={shlex.quote(emulator.url)}",
            f"PAREN_API_KEY={shlex.quote(args.api_key)}",
            f"PAREN_API_SECRET={shlex.quote(args.api_secret)}",
        )
        print(f"  export {' '.join(assignments)}")
        print("Press Ctrl-C to stop.", flush=True)
        # While no client is walking yet: the first walk then runs at full speed.
        preparing = asyncio.create_task(emulator.prepare())
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Windows has no loop signal handlers: Ctrl-C then arrives as KeyboardInterrupt.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            preparing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await preparing
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
    print("Paren emulator stopped.", flush=True)
