"""``paren-async watch``: live Realtime changes as NDJSON events, one cycle per interval.

Credentials come from ``PAREN_API_KEY`` / ``PAREN_API_SECRET`` only, as for ``harvest``. Events
are appended to ``--out`` (default: stdout), one JSON object per line, flushed (and fsynced, for
a file) at the end of every cycle; a status line per cycle goes to stderr. Ctrl-C or SIGTERM
stops the watch cleanly: stdout's last line is one JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from . import EXIT_OK, EXIT_USAGE

__all__ = ["register"]

EXIT_AUTH = 3
EXIT_API = 4
EXIT_OUTPUT = 5

EPILOG = """\
credentials:
  PAREN_API_KEY and PAREN_API_SECRET, from the environment only; PAREN_BASE_URL or
  --base-url for another host.

output:
  One JSON event per line ("event": location_added, location_removed, evse_status_changed,
  price_changed, location_changed, cycle_ended), appended to --out and flushed per cycle.
  With --state FILE the watch's memory is saved atomically after every cycle and on Ctrl-C;
  a restart with the same --state and filters continues from there instead of announcing
  every location again (events of a cycle cut short by a crash may be written twice).

exit codes:
  0  stopped by Ctrl-C/SIGTERM, or after --cycles
  2  bad arguments or configuration (also the server's 400/404, missing credentials)
  3  authentication failed (401/403)
  4  the API failed in a way no later cycle can fix
  5  output problem: unwritable --out, unreadable or foreign --state
"""


def _positive(kind: type[float] | type[int]) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            value = -1
        if not 0 <= value < float("inf") or (kind is int and value < 1):
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text!r}")
        return value

    return parse


def _filter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="stream live Realtime changes (status, price, added, removed) as NDJSON",
        description="Walk the Realtime API every --interval seconds and write what changed "
        "since the previous walk: one JSON event per line.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--interval", type=_positive(float), default=60.0, metavar="SECONDS",
        help="seconds from one cycle's start to the next (default: 60)")  # fmt: skip
    add("--filter", type=_filter, nargs="+", action="extend", default=[], metavar="KEY=VALUE",
        help="query filter passed to the API, e.g. state=NY (repeatable)")  # fmt: skip
    add("--out", default="-", help="events file, appended to (default: - for stdout)")
    add("--state", type=Path, help="save the watch's memory here; continue from it on restart")
    add("--first-cycle", choices=("snapshot", "silent"), default="snapshot",
        help="first cycle: announce every location, or nothing (default: snapshot)")  # fmt: skip
    add("--cycles", type=_positive(int), help="stop after N cycles (default: run until stopped)")
    add("--base-url", help="API base URL (default: PAREN_BASE_URL or https://api.paren.app)")
    add("--max-attempts", type=_positive(int), default=4, help="attempts per request (default: 4)")
    add("--quiet", "-q", action="store_true", help="no status lines on stderr")
    parser.set_defaults(func=run)


def _fail(code: int, message: str) -> int:
    print(f"paren-async watch: error: {message}", file=sys.stderr)
    print(json.dumps({"event": "watch.failed", "exit": code, "error": message}), flush=True)
    return code


@contextlib.contextmanager
def _stop_on_signals(task: asyncio.Task[Any], stopped: list[str]) -> Iterator[None]:
    """SIGINT/SIGTERM cancel ``task`` (the watch) and are remembered as a normal stop."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def stop(name: str) -> None:
        if not stopped:
            stopped.append(name)
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop, sig.name)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # no loop signals here (Windows, thread)
            continue
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _open_out(name: str) -> IO[bytes]:
    if name == "-":
        return os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    return open(name, "ab")


def _durable(out: IO[bytes]) -> None:
    out.flush()
    with contextlib.suppress(OSError):  # a pipe or terminal cannot be fsynced
        os.fsync(out.fileno())


def _exit_code(error: BaseException) -> int:
    from paren_async import AuthenticationError, BadRequestError, NotFoundError, UsageError

    if isinstance(error, AuthenticationError):
        return EXIT_AUTH
    if isinstance(error, (BadRequestError, NotFoundError, UsageError)):
        return EXIT_USAGE
    if isinstance(error, OSError):
        return EXIT_OUTPUT
    return EXIT_API


def run(args: argparse.Namespace) -> int:
    import msgspec

    from paren_async import ParenClient, RetryPolicy
    from paren_async._watch._tally import Tally
    from paren_async.watch import CycleEnded, WatchState, watch_realtime

    key, secret = os.environ.get("PAREN_API_KEY"), os.environ.get("PAREN_API_SECRET")
    if not key or not secret:
        return _fail(EXIT_USAGE, "set PAREN_API_KEY and PAREN_API_SECRET in the environment")
    filters = dict(args.filter)
    state: WatchState | None = None
    if args.state is not None and args.state.exists():
        try:
            state = WatchState.load(args.state)
            state.check_filters(filters)
        except (OSError, ValueError) as exc:  # UsageError is a ValueError too
            return _fail(EXIT_OUTPUT, f"--state {args.state}: {exc}")
    resumed_from = state.cycle if state is not None else None
    tally = Tally()
    stopped: list[str] = []
    encode = msgspec.json.Encoder().encode

    async def main(out: IO[bytes]) -> None:
        task = asyncio.current_task()
        assert task is not None
        memory = state if state is not None else WatchState(filters)
        client = ParenClient(
            key, secret, base_url=args.base_url, retry=RetryPolicy(max_attempts=args.max_attempts)
        )
        with _stop_on_signals(task, stopped):
            try:
                async with client:
                    events = watch_realtime(
                        client,
                        interval=args.interval,
                        first_cycle=args.first_cycle,
                        resume=memory,
                        **filters,
                    )
                    async with contextlib.aclosing(events):
                        async for event in events:
                            out.write(encode(event) + b"\n")
                            tally.count(event)
                            if isinstance(event, CycleEnded):
                                _durable(out)
                                if args.state is not None:
                                    memory.save(args.state)
                                if not args.quiet:
                                    print(tally.status_line(event), file=sys.stderr, flush=True)
                                if args.cycles is not None and tally.cycles >= args.cycles:
                                    break
            except asyncio.CancelledError:
                if not stopped:
                    raise
                uncancel = getattr(task, "uncancel", None)  # Python 3.11+
                if uncancel is not None:
                    uncancel()
            finally:
                out.flush()
                # Between events the state matches what was written: safe to keep on a stop.
                if stopped and args.state is not None:
                    memory.save(args.state)

    started = time.monotonic()
    error: BaseException | None = None
    try:
        with _open_out(args.out) as out:
            asyncio.run(main(out))
    except Exception as exc:  # reported below, in the summary line too
        error = exc
    except KeyboardInterrupt:  # before the handlers were installed
        stopped.append("SIGINT")
    code = EXIT_OK if error is None else _exit_code(error)
    if error is not None:
        print(f"paren-async watch: error: {type(error).__name__}: {error}", file=sys.stderr)
    summary = {
        "event": "watch.stopped" if error is None else "watch.failed",
        "exit": code,
        "reason": "error" if error else (f"signal {stopped[0]}" if stopped else "cycles"),
        **tally.summary(),
        "resumed_from_cycle": resumed_from,
        "elapsed_s": round(time.monotonic() - started, 3),
        "out": args.out,
        "state": str(args.state) if args.state is not None else None,
        "error": None if error is None else str(error) or type(error).__name__,
        "error_type": None if error is None else type(error).__name__,
    }
    print(json.dumps(summary), flush=True)
    return code
