"""The checkpoint: a small JSON file vouching for how much of the journal is durable.

It is replaced atomically (temporary file, fsync, ``os.replace``, fsync of the directory) and only
after the journal bytes it names were fsynced: whatever instant a crash strikes, the checkpoint on
disk describes bytes that are on disk. The fingerprint ties it to what was asked for, so a resume
with other arguments is refused instead of mixing two harvests in one file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import msgspec

__all__ = [
    "Checkpoint",
    "JournalError",
    "Paths",
    "fingerprint",
    "fsync_directory",
    "read_checkpoint",
    "remove",
    "write_checkpoint",
]

CHECKPOINT_VERSION: Final = 1


class JournalError(Exception):
    """The output, journal or checkpoint cannot be used as asked (exit code 5)."""


class Checkpoint(msgspec.Struct, kw_only=True, frozen=True):
    """What is durably harvested so far. Counters include every earlier run of the same harvest."""

    version: int = CHECKPOINT_VERSION
    fingerprint: str
    #: The parameters the fingerprint covers, readable, to explain a mismatch.
    run: dict[str, object]
    #: Walk offset after the last durable record: where the next run continues.
    offset: int
    #: Durable bytes of the journal.
    size: int
    #: Records in those bytes.
    records: int
    #: Records the walk yielded so far (written plus dropped as duplicates), for ``--max-items``.
    walked: int = 0
    duplicates: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    drift_events: int = 0
    recovered: int = 0
    unrecovered_drift: int = 0
    elapsed: float = 0.0
    #: The walk reached its end: only the final rename or export is left.
    done: bool = False
    updated: str = ""


_ENCODE: Final = msgspec.json.Encoder()
_DECODE: Final = msgspec.json.Decoder(Checkpoint)


def fingerprint(run: Mapping[str, object]) -> str:
    """A short stable digest of what a harvest asks for; a resume must ask for the same."""
    canonical = msgspec.json.encode(dict(sorted(run.items())), order="sorted")
    return hashlib.sha256(canonical).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Paths:
    out: Path
    part: Path
    checkpoint: Path
    export: Path
    #: Records a CSV or Parquet export could not take, raw, one per line (and its temporary).
    rejects: Path
    rejects_export: Path

    @classmethod
    def for_output(cls, out: Path) -> Paths:
        name = out.name
        return cls(
            out=out,
            part=out.with_name(name + ".part"),
            checkpoint=out.with_name(name + ".checkpoint"),
            export=out.with_name(name + ".tmp"),
            rejects=out.with_name(name + ".rejects.ndjson"),
            rejects_export=out.with_name(name + ".rejects.ndjson.tmp"),
        )


def read_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint at ``path``, None when there is none; unreadable is a ``JournalError``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError(f"cannot read checkpoint {path}: {exc.strerror}") from exc
    try:
        checkpoint = _DECODE.decode(data)
    except msgspec.DecodeError as exc:
        raise JournalError(
            f"checkpoint {path} is unreadable ({exc}); delete it to start over"
        ) from exc
    if checkpoint.version != CHECKPOINT_VERSION:
        raise JournalError(f"checkpoint {path} has unknown version {checkpoint.version}")
    return checkpoint


def write_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Replace the checkpoint atomically and durably (blocking: run it in a thread)."""
    stamped = msgspec.structs.replace(
        checkpoint, updated=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    )
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as file:
        file.write(_ENCODE.encode(stamped) + b"\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make renames and new files in ``directory`` durable (a no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
