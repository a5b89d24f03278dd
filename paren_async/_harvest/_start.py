"""How a harvest starts: fresh, resumed, refused, or already finished by an earlier run."""

from __future__ import annotations

from collections.abc import Mapping

from ._checkpoint import Checkpoint, JournalError, Paths, fingerprint, remove
from ._journal import Journal
from ._options import HarvestOptions
from ._outcome import Outcome, fill

__all__ = ["differences", "open_journal"]

_UNRECORDED = "(not recorded: an older paren-async wrote it)"


def differences(before: Mapping[str, object], now: Mapping[str, object]) -> str:
    """``"base_url differs: checkpoint http://A, now http://B"``, one clause per difference."""
    differ = sorted(key for key in {*before, *now} if before.get(key) != now.get(key))
    clauses = [
        f"{key} differs: checkpoint {_shown(before, key)}, now {_shown(now, key)}" for key in differ
    ]
    return "; ".join(clauses) or "its fingerprint differs"


def _shown(run: Mapping[str, object], key: str) -> str:
    if key not in run:
        return _UNRECORDED
    value = run[key]
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    return "(none)" if value is None else str(value)


def open_journal(
    paths: Paths, options: HarvestOptions, outcome: Outcome
) -> tuple[Journal | None, Checkpoint]:
    if not paths.out.parent.is_dir():
        raise JournalError(f"the directory of {paths.out} does not exist")
    if paths.out.is_dir():
        raise JournalError(f"{paths.out} is a directory; --out names the file to write")
    run = options.run()
    start = Checkpoint(
        fingerprint=fingerprint(run), run=run, offset=options.offset, size=0, records=0
    )
    published = paths.out.exists() and not paths.part.exists()
    journal = Journal.open(paths)
    try:
        previous = journal.read_checkpoint()
        if previous is not None:
            if not options.resume:
                raise JournalError(
                    f"an unfinished harvest of {paths.out} exists ({previous.records:,} records "
                    f"in {paths.part}): pass --resume to continue it, or delete "
                    f"{paths.checkpoint} and {paths.part} to start over"
                )
            if previous.fingerprint != start.fingerprint:
                raise JournalError(
                    f"{paths.checkpoint} belongs to a different harvest: "
                    f"{differences(previous.run, run)}; resume with the same arguments, "
                    f"or delete it and {paths.part} to start over"
                )
            outcome.resumed = True
            if previous.done and published:
                # The crash came between publishing the output and removing the checkpoint.
                journal.close()
                remove(paths.part)
                remove(paths.checkpoint)
                fill(outcome, previous)
                outcome.size = paths.out.stat().st_size
                return None, previous
            start = previous
        journal.reset(start)
    except BaseException:
        journal.close()
        raise
    return journal, start
