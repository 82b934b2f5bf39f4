"""One pixelpilot process at a time per output folder.

Two runs writing the same folder (a second `eval --resume` started while the first still runs,
two `run --out` given the same directory) would interleave their records: duplicated or torn
prediction lines, two episodes' steps in one trajectory. Every writer of an output folder holds
its lock file, `FOLDER/.pixelpilot.lock`, for as long as it writes; a second one is refused in
one line naming the holder's process id, host and start time.

The lock is an `flock` taken through the `filelock` library (>= 4, whose losing contenders do
not truncate the file, so the holder's line stays readable). The kernel releases it when the
process ends, however it ends, so a killed run never leaves a folder locked; the file itself
stays (removing a lock file on release races with a contender that opened it). Only the
process id, host and time are written: never the command line, which may hold a secret.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from pixelpilot.errors import UserError

LOCK_NAME = ".pixelpilot.lock"


class FolderLock:
    """Holds `folder`'s lock file while in use (a context manager; `release` is idempotent).

    Args:
        folder: the output folder; it must exist.
        what: what the folder is for, in the refusal ("--out", "the run directory").

    Raises (from `acquire` / `__enter__`):
        UserError: another process holds the folder (the message names it and says what to
            do), or the lock file cannot be created (the OS reason).
    """

    def __init__(self, folder: Path, *, what: str = "--out") -> None:
        self.folder = folder
        self.path = folder / LOCK_NAME
        self.what = what
        self._lock = FileLock(str(self.path), timeout=0, thread_local=False)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._lock.is_locked

    def acquire(self) -> None:
        if self._lock.is_locked:
            return
        try:
            self._lock.acquire()
        except Timeout:
            raise UserError(
                f"{self.what} {self.folder} is in use by another pixelpilot process "
                f"({self.owner() or 'its details are not written yet'}): wait for it to end, "
                f"or give another {self.what}"
            ) from None
        except OSError as exc:
            raise UserError(f"cannot lock {self.folder} ({self.path}): {exc.strerror}") from None
        started = datetime.now(UTC).isoformat(timespec="seconds")
        line = f"pid {os.getpid()} on {socket.gethostname()}, since {started}\n"
        try:
            with open(self.path, "w", encoding="utf-8") as handle:  # same inode: stays locked
                handle.write(line)
        except OSError:
            pass  # the lock holds without its description; a refusal then says so

    def owner(self) -> str:
        """The holder's line from the lock file ('' when unreadable or not written yet)."""
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return ""

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    def remove_if_unused(self) -> None:
        """Release, then remove the folder when it holds nothing but the lock file (a run
        refused or failed before it wrote anything leaves no empty folder behind)."""
        self.release()
        try:
            if [entry.name for entry in self.folder.iterdir()] == [LOCK_NAME]:
                self.path.unlink()
                self.folder.rmdir()
        except OSError:
            pass  # in use again, or not ours to remove: leave it

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
