"""Peak memory and time of one walk, measured in a fresh interpreter per run.

``python -m benchmarks._memory URL RECORDS CONTENDER CONCURRENCY SERVER_PID`` walks the whole
collection without keeping a record (after a short untimed walk) and prints one JSON line:
records seen, wall and CPU seconds, the server's CPU seconds meanwhile, the resident set size
before the walk (interpreter, imports and client code loaded) and the peak during the walk. On
Linux the kernel's high-water mark (``VmHWM``) is reset just before the walk
(``/proc/self/clear_refs``), so importing libraries cannot hide what the walk itself needs;
elsewhere the peak is ``ru_maxrss`` over the whole process. A fresh process per run keeps one
walk's garbage, caches and allocator state out of the next one's figure.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

import psutil

from ._server import Server

__all__ = ["MemoryResult", "measure"]

#: ``ru_maxrss`` is in KiB on Linux, in bytes on macOS.
_MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024


@dataclass(frozen=True, slots=True)
class MemoryResult:
    contender: str
    records: int
    seconds: float
    cpu_seconds: float
    rss_before: int  # bytes
    peak_rss: int  # bytes
    server_cpu_seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds

    @property
    def server_busy(self) -> float:
        return self.server_cpu_seconds / self.seconds

    @property
    def growth(self) -> int:
        """What the walk added on top of the loaded interpreter, in bytes."""
        return max(0, self.peak_rss - self.rss_before)


def measure(server: Server, records: int, contender: str, concurrency: int) -> MemoryResult:
    """Run one walk in a child interpreter and read its figures."""
    command = [sys.executable, "-m", "benchmarks._memory", server.url, str(records), contender]
    command += [str(concurrency), str(server.pid)]
    completed = subprocess.run(
        command,
        check=True,
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    return MemoryResult(contender=contender, **figures)


def _child(url: str, records: int, contender: str, concurrency: int, server_pid: int) -> None:
    from ._contenders import BY_KEY, Target  # imported before measuring: part of the baseline

    walk = BY_KEY[contender].walk
    # A short untimed walk first, as every walk of the main process gets (first-call costs).
    warm_up = min(records, 1_000)
    walk(Target(url, warm_up, concurrency, max_items=warm_up))
    target = Target(url, records, concurrency)
    server = psutil.Process(server_pid)
    rss_before = psutil.Process().memory_info().rss
    reset = _reset_peak()
    server_cpu = sum(server.cpu_times()[:2])
    started, cpu = time.perf_counter(), time.process_time()
    seen = walk(target)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server_cpu = sum(server.cpu_times()[:2]) - server_cpu
    if seen != records:
        raise SystemExit(f"{contender} saw {seen} records, expected {records}")
    peak = _peak_since_reset() if reset else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _MAXRSS_UNIT
    figures = {
        "records": seen,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rss_before": rss_before,
        "peak_rss": peak,
        "server_cpu_seconds": server_cpu,
    }
    print(json.dumps(figures))


def _reset_peak() -> bool:
    """Reset the process's peak RSS to its current RSS (Linux >= 4.0); False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _peak_since_reset() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return None


if __name__ == "__main__":
    _url, _records, _contender, _concurrency, _server_pid = sys.argv[1:6]
    _child(_url, int(_records), _contender, int(_concurrency), int(_server_pid))
