"""Before and after: the same contender from different source trees of paren-async, alternated.

    python -m benchmarks.compare [--latency 0] [--records 20000] [--concurrency 8] [--rounds 5]
        TREE[:CONTENDER] ...

Each TREE is a directory holding a ``paren_async`` package (a git worktree, ``git archive`` output,
or a patched copy); CONTENDER is a key of ``benchmarks._contenders`` (default ``typed``).
``.:limit`` is the stack limit. One emulator serves every variant; each round starts one fresh
interpreter per variant (in alternating order) with ``PYTHONPATH=TREE``, which walks once untimed
and three times timed. Medians of records/s and of client CPU per page are printed, with each
variant's ratio to the first one, and the HTTP requests per walk the server received (all four
walks of a child counted, divided by four).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from ._contenders import BY_KEY, Target
from ._server import Server

_CHILD = """
import gc, importlib.util, json, os, sys, time
url, records, concurrency, key, here = sys.argv[1:6]
records, concurrency = int(records), int(concurrency)
# These benchmarks, whatever `benchmarks` directory the tree under test has (or lacks).
spec = importlib.util.spec_from_file_location(
    "benchmarks", os.path.join(here, "__init__.py"), submodule_search_locations=[here]
)
package = importlib.util.module_from_spec(spec)
sys.modules["benchmarks"] = package
spec.loader.exec_module(package)
from benchmarks._contenders import BY_KEY, Target
target = Target(url, records, concurrency)
BY_KEY[key].walk(target)
runs = []
for _ in range(3):
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    seen = BY_KEY[key].walk(target)
    runs.append((time.perf_counter() - started, time.process_time() - cpu))
    assert seen == records, (seen, records)
print(json.dumps(runs))
"""

_HERE = Path(__file__).resolve().parent
#: The child's untimed walk and its three timed ones.
_WALKS_PER_CHILD = 4


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="server latency in ms")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("variants", nargs="+", metavar="TREE[:CONTENDER]")
    args = parser.parse_args()
    variants: list[tuple[str, Path, str]] = []
    for text in args.variants:
        tree, _, key = text.partition(":")
        key = key or "typed"
        if key not in BY_KEY:
            parser.error(f"unknown contender {key!r}: one of {', '.join(BY_KEY)}")
        root = Path(tree).resolve()
        if not (root / "paren_async").is_dir():
            parser.error(f"{root} holds no paren_async package")
        variants.append((text, root, key))

    runs: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in variants}
    requests: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    with Server(args.records, args.latency) as server:
        BY_KEY["transport"].walk(Target(server.url, args.records, 8))  # fill the server's cache
        for round_ in range(args.rounds):
            order = variants if round_ % 2 == 0 else variants[::-1]
            for name, root, key in order:
                child = [server.url, str(args.records), str(args.concurrency), key, str(_HERE)]
                before = server.requests_served(settle=True)
                completed = subprocess.run(
                    [sys.executable, "-c", _CHILD, *child],
                    env=dict(os.environ, PYTHONPATH=str(root)),
                    cwd=root,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs[name] += json.loads(completed.stdout)
                after = server.requests_served(settle=True)
                if before is not None and after is not None:
                    requests[name].append((after - before) / _WALKS_PER_CHILD)
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)

    pages = -(-args.records // 100)
    first = None
    print(
        f"{args.latency:g} ms latency, concurrency {args.concurrency}, {args.records:,} records, "
        f"{args.rounds} rounds x 3 walks; medians"
    )
    for name, found in runs.items():
        rate = args.records / statistics.median(wall for wall, _ in found)
        cpu = 1000 * statistics.median(cpu for _, cpu in found) / pages
        first = first or rate
        sent = f"{statistics.median(requests[name]):6.1f}" if requests[name] else "     -"
        print(
            f"  {name:<40} {rate:>10,.0f} rec/s  {rate / first:5.2f}x  {cpu:5.2f} ms CPU/page"
            f"  {sent} requests/walk"
        )


if __name__ == "__main__":
    main()
