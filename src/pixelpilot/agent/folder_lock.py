"""One pixelpilot process at a time per output folder.

Two runs writing the same folder (a second `eval --resume` started while the first still runs,
two `run --out` given the same directory, a `run --out` into a running batch's task folder)
would interleave their records: duplicated or torn prediction lines, two episodes' steps in one
trajectory. Every writer of an output folder holds its lock file, `FOLDER/.pixelpilot.lock`,
for as long as it writes, and no folder inside one that another process writes can be claimed;
a second writer is refused in one line naming the process that writes.

The lock is an `flock` taken through the `filelock` library. The kernel releases it when the
process ends, however it ends, so a killed run never leaves a folder locked. The lock file is
never written (a writer refused for another reason leaves every file as it was) and never
removed (removing a lock file races with a contender that opened it); the holder's process id
is read from the kernel's lock table, `/proc/locks` (Linux).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from pixelpilot.errors import UserError

LOCK_NAME = ".pixelpilot.lock"


def make_folder(folder: Path, *, what: str = "--out") -> None:
    """Create `folder` (and its parents) unless it exists.

    Raises:
        UserError: it exists and is not a folder, or cannot be created (the OS reason).
    """
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{what} {folder} is a file, not a folder: give a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {what} {folder}: {exc.strerror}") from None


def lock_holder(path: Path) -> int | None:
    """The process id holding an flock on `path` (from /proc/locks); None when nobody holds
    one, the file is missing, or the table cannot be read."""
    try:
        stat = path.stat()
        table = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 2384 fe:00:3301482 0 EOF"; "->" marks a blocked waiter
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device:
            try:
                return int(fields[4])
            except ValueError:
                return None
    return None


def _lineage() -> set[int]:
    """This process and its ancestors (a worker process writes inside its driver's folder)."""
    pids = {os.getpid()}
    pid = os.getppid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def _process(pid: int | None) -> str:
    return f"pixelpilot process {pid}" if pid else "another pixelpilot process"


class FolderLock:
    """Holds `folder`'s lock file while in use (a context manager; `release` is idempotent).

    Args:
        folder: the output folder; it must exist.
        what: how the user named the folder, in messages ("--out", "run directory").

    Raises (from `acquire` / `__enter__`):
        UserError: another process holds the folder or a folder it is inside (the message
            names the process and says what to do), or the lock file cannot be opened.
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
        self.check_outer()
        try:
            self._lock.acquire()
        except Timeout:
            raise UserError(
                f"{self.what} {self.folder} is in use by {_process(lock_holder(self.path))}: "
                f"wait for it to end, or give another {self.what}"
            ) from None
        except OSError as exc:
            raise UserError(
                f"cannot lock {self.what} {self.folder}: {self.path}: {exc.strerror} (it must "
                f"be a file pixelpilot may open; remove it if no pixelpilot process is writing "
                f"{self.folder})"
            ) from None

    def check_outer(self) -> None:
        """Refuse a folder inside one another process (not this one or its ancestors) writes.

        Raises:
            UserError: naming the outer folder and its process.
        """
        mine: set[int] | None = None
        for outer in self.folder.resolve().parents:
            holder = lock_holder(outer / LOCK_NAME)
            if holder is None:
                continue
            mine = _lineage() if mine is None else mine
            if holder not in mine:
                raise UserError(
                    f"{self.what} {self.folder} is inside {outer}, which {_process(holder)} is "
                    f"writing: give a folder outside it, or wait for it to end"
                )

    def probe(self) -> None:
        """Refuse now, without holding anything, when the folder (if it exists) is in use; for
        a check before slow work (loading a model) that takes the lock later.

        Raises:
            UserError: as `acquire`.
        """
        if self.folder.is_dir():
            self.acquire()
            self.release()
        else:
            self.check_outer()

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

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
