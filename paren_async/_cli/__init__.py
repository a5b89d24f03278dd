"""``paren-async`` command line: one argparse parser, one module per subcommand.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func``: a callable taking the parsed namespace and returning the process exit code.
argparse (standard library) is the parser: it covers subcommands, help and error exits, and
adds no dependency to a client library.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

from paren_async import __version__

__all__ = ["EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
#: argparse's own code for bad arguments; every subcommand uses it for invalid input.
EXIT_USAGE = 2

_SUBCOMMANDS = ("serve", "demo", "harvest", "columns", "watch", "sync")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paren-async",
        description="Client, harvester and local emulator for the Paren EV-charging data API.",
    )
    parser.add_argument("--version", action="version", version=f"paren-async {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func = cast(Callable[[argparse.Namespace], int], args.func)
    return func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
