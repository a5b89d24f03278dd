"""The durable side of a harvest: the raw NDJSON journal, its syncs, and the final publication.

Files, next to ``--out``::

    <out>.part         the journal: raw records, one per line, appended in walk order
    <out>.checkpoint   JSON: how many bytes of the journal are durable, and where the walk resumes

Invariant: every byte of the journal up to ``checkpoint.size`` is on disk (fsynced) before the
checkpoint that names it is (write a temporary file, fsync, ``os.replace``, fsync the directory).
So after a crash at any instant, truncating the journal to ``checkpoint.size`` and walking again
from ``checkpoint.offset`` loses and repeats nothing. Syncs run in a worker thread, at most one at
a time, while the walk keeps writing: fsync is slow on real disks and must not stall the fetches.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import BinaryIO

from ._checkpoint import (
    Checkpoint,
    JournalError,
    Paths,
    fsync_directory,
    read_checkpoint,
    remove,
    write_checkpoint,
)
from ._export import Format, Rejects, export
from ._rows import Family

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock
    fcntl = None  # type: ignore[assignment]

__all__ = ["Journal", "as_lines"]


def as_lines(records: list[bytes]) -> bytes:
    """NDJSON for ``records``: each as is, newline-terminated.

    JSON strings cannot hold a raw newline (the client's decoder rejects one), so a record with a
    newline was pretty-printed and its newlines are whitespace: they become spaces, keeping one
    record per line. Pretty-printing is the server encoder's setting, the same for every record,
    so the first and last record of a page stand for all of it: scanning every record would cost
    a tenth of the whole harvest.
    """
    if records and (b"\n" in records[0] or b"\n" in records[-1]):
        records = [record.replace(b"\n", b" ") for record in records]
    return b"\n".join([*records, b""])


class Journal:
    """The open journal file: appends, and checkpoints what has been fsynced.

    ``append()`` is synchronous, so a page reaches the OS before the next one is awaited and a
    checkpoint built afterwards never names bytes that were not written. ``maybe_sync()`` starts a
    background fsync + checkpoint unless one is running; ``sync()`` waits for a complete one.
    """

    def __init__(self, paths: Paths, file: BinaryIO) -> None:
        self.paths = paths
        self._file = file
        #: Bytes written to the journal (durable or not).
        self.size = 0
        #: The last checkpoint known to be on disk.
        self.durable: Checkpoint | None = None
        self._syncing: asyncio.Task[None] | None = None

    @classmethod
    def open(cls, paths: Paths) -> Journal:
        """Open (create) the journal and lock it against a second harvest of the same output."""
        fd = os.open(paths.part, os.O_RDWR | os.O_CREAT, 0o644)
        file = os.fdopen(fd, "r+b")
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.close()
                raise JournalError(
                    f"another harvest is writing {paths.part}; wait for it to finish"
                ) from None
        return cls(paths, file)

    def read_checkpoint(self) -> Checkpoint | None:
        return read_checkpoint(self.paths.checkpoint)

    def size_on_disk(self) -> int:
        return os.fstat(self._file.fileno()).st_size

    def reset(self, durable: Checkpoint) -> None:
        """Cut the journal to the ``durable.size`` bytes its checkpoint vouches for."""
        actual = self.size_on_disk()
        if actual < durable.size:
            raise JournalError(
                f"{self.paths.part} holds {actual} bytes but its checkpoint vouches for "
                f"{durable.size}: it was altered; delete {self.paths.part} and "
                f"{self.paths.checkpoint} to start over"
            )
        self._file.truncate(durable.size)  # a tail written after the checkpoint is not vouched for
        self._file.seek(durable.size)
        self.size = durable.size
        self.durable = durable
        fsync_directory(self.paths.part.parent)

    @property
    def file(self) -> BinaryIO:
        return self._file

    def append(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()
        self.size += len(data)

    def maybe_sync(self, state: Checkpoint) -> bool:
        """Make ``state`` durable in the background unless a sync is running; True if started."""
        if self._syncing is not None:
            if not self._syncing.done():
                return False
            task, self._syncing = self._syncing, None
            task.result()  # a failed sync (disk full...) stops the harvest
        self._syncing = asyncio.get_running_loop().create_task(self._sync(state))
        return True

    async def sync(self, state: Checkpoint) -> None:
        """Wait for any sync running, then make ``state`` durable."""
        if self._syncing is not None:
            task, self._syncing = self._syncing, None
            await task
        await self._sync(state)

    async def _sync(self, state: Checkpoint) -> None:
        # `state` names only bytes already handed to the OS, so this fsync covers all of them.
        await asyncio.to_thread(self._sync_blocking, state)
        self.durable = state

    def _sync_blocking(self, state: Checkpoint) -> None:
        os.fsync(self._file.fileno())
        write_checkpoint(self.paths.checkpoint, state)

    def close(self) -> None:
        self._file.close()

    def publish(
        self, fmt: Format, family: Family, stop: Callable[[], bool]
    ) -> tuple[int, Rejects | None]:
        """Replace ``--out`` with the finished harvest, atomically; returns its size in bytes
        and, for CSV and Parquet, the records set aside in ``OUT.rejects.ndjson``.

        Blocking (run it in a thread). The checkpoint, marked done, goes last: a crash before that
        leaves a harvest that ``--resume`` publishes again without walking. A rejects file left
        by an earlier publication of the same output is removed: it described the file replaced.
        """
        paths = self.paths
        self._file.close()
        rejects = None
        if fmt == "ndjson":
            os.replace(paths.part, paths.out)
        else:
            rejects = Rejects(paths.rejects_export)
            try:
                export(paths.part, paths.export, fmt, family, stop, rejects)
            except BaseException:
                remove(paths.export)
                remove(paths.rejects_export)
                raise
            os.replace(paths.export, paths.out)
        if rejects is not None and rejects.count:
            os.replace(paths.rejects_export, paths.rejects)
            rejects.path = paths.rejects
        else:
            remove(paths.rejects)
        fsync_directory(paths.out.parent)
        remove(paths.part)
        remove(paths.checkpoint)
        fsync_directory(paths.out.parent)
        return paths.out.stat().st_size, rejects
