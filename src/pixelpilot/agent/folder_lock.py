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

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from pixelpilot.errors import UserError

LOCK_NAME = ".pixelpilot.lock"


def make_folder(folder: Path, *, what: str = "--out") -> list[Path]:
    """Create `folder` (and its parents) unless it exists; the folders it made, outermost
    first (`zz/../a1` makes no `zz`: the path is resolved first).

    Raises:
        UserError: it exists and is not a folder, or cannot be created (the OS reason).
    """
    check_makeable(folder, what=what)
    target = folder.resolve()
    missing = [p for p in (target, *target.parents) if not p.exists()][::-1]
    made: list[Path] = []
    try:
        for path in missing:
            try:
                path.mkdir()
            except FileExistsError:
                if not path.is_dir():
                    raise
                continue  # made meanwhile by someone else: not ours to remove
            made.append(path)
    except OSError as exc:
        _remove(made)  # a failed command leaves no folder it made
        raise UserError(f"cannot create {what} {folder}: {exc.strerror}") from None
    return made


def _remove(made: list[Path]) -> None:
    """Remove the (empty) folders `made`, innermost first; one that is not empty stays."""
    for path in reversed(made):
        with contextlib.suppress(OSError):
            path.rmdir()


def check_makeable(folder: Path, *, what: str = "--out") -> None:
    """Refuse, before anything starts, a `folder` that is a file or lies under one.

    Raises:
        UserError: naming the file.
    """
    for path in (folder, *folder.parents):
        if path.exists():
            if path == folder and not path.is_dir():
                raise UserError(f"{what} {folder} is a file, not a folder: give a folder")
            if not path.is_dir():
                raise UserError(f"{what} {folder} cannot be made: {path} is a file, not a folder")
            return


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
        # "1: FLOCK  ADVISORY  WRITE 2384 fe:00:3301482 0 EOF" ("->" marks a blocked waiter;
        # READ is a probe's instant shared lock)
        if (
            len(fields) >= 6
            and fields[1:4] == ["FLOCK", "ADVISORY", "WRITE"]
            and (fields[5] == device)
        ):
            try:
                return int(fields[4])
            except ValueError:
                return None
    return None


def folder_holder(folder: Path) -> int | None:
    """Who holds `folder`'s lock: None when nobody does; else the process id, or 0 when the
    holder cannot be seen (another PID namespace, no /proc/locks). The probe takes a shared
    lock for an instant, without creating the lock file."""
    path = folder / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None  # no lock file (or not a plain one): nobody holds it
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return lock_holder(path) or 0
    except OSError:
        return None  # no flock here: nothing can hold it either
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def check_free(folder: Path, *, doing: str) -> None:
    """Refuse to replace, move or delete `folder` while any process (this one included) holds
    it or a run directory inside it.

    Raises:
        UserError: naming the busy folder, its process and `doing` ("move aside").
    """
    locks = [folder / LOCK_NAME, *folder.rglob(LOCK_NAME)] if folder.is_dir() else []
    for path in dict.fromkeys(locks):
        holder = folder_holder(path.parent)
        if holder is not None:
            raise UserError(
                f"cannot {doing} {folder}: {path.parent} is in use by {_process(holder)}; "
                "wait for it to end"
            )


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


def _process(pid: int) -> str:
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
        self.made: list[Path] = []  # the folders its claim created (see discard_if_unused)
        self._lock = FileLock(
            str(self.path), timeout=0, thread_local=False, fallback_to_soft=False,
            preserve_lock_file=True,
        )  # fmt: skip

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._lock.is_locked

    def acquire(self) -> None:
        if self._lock.is_locked:
            return
        self.check_outer()
        self._take()

    def _take(self) -> None:
        """Take the lock file itself (`acquire` without the outer-folder check)."""
        try:
            self._lock.acquire()
        except Timeout:
            raise self._in_use(lock_holder(self.path) or 0) from None
        except OSError as exc:
            if exc.errno in (errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK):
                raise UserError(
                    f"{self.what} {self.folder} is on a file system without file locks "
                    f"({exc.strerror}): give a folder on a local file system"
                ) from None
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
            holder = folder_holder(outer)
            if holder is None:
                continue
            mine = _lineage() if mine is None else mine
            if holder not in mine:  # 0 (cannot be seen) is never ours
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
        check_makeable(self.folder, what=self.what)
        self.check_outer()
        holder = folder_holder(self.folder)
        if holder is not None:
            raise self._in_use(holder)

    def _in_use(self, holder: int) -> UserError:
        return UserError(
            f"{self.what} {self.folder} is in use by {_process(holder)}: wait for it to end, "
            f"or give another {self.what}"
        )

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    def discard_if_unused(self) -> None:
        """For a command that failed before writing anything: remove the folders its claim
        created when `folder` holds nothing but the lock file, then release. The lock file is
        unlinked while still held, so a contender either fails to lock it or finds no folder
        (no two holders); a folder the user made, or one with anything in it, is kept."""
        if not self.held or not self.made:
            self.release()
            return
        try:
            if [entry.name for entry in self.folder.iterdir()] == [LOCK_NAME]:
                self.path.unlink()
                for path in reversed(self.made):
                    path.rmdir()
        except OSError:
            pass  # something arrived meanwhile: keep it
        finally:
            self.release()

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


def claim_folder(folder: Path, *, what: str = "--out") -> FolderLock:
    """Check, create and lock an output folder, in the order that leaves nothing behind when
    refused: not a file, not inside a folder another process writes, then made, then locked.
    The lock's `folder` is the path to write to (resolved when it holds `..`).

    Raises:
        UserError: as `check_makeable`, `make_folder` and `FolderLock.acquire`.
    """
    if ".." in folder.parts:  # `zz/../a1` with no zz: the folder meant is a1 (and stays it)
        folder = folder.resolve()
    lock = FolderLock(folder, what=what)
    check_makeable(folder, what=what)
    lock.check_outer()
    made = make_folder(folder, what=what)
    try:
        lock._take()  # the outer folders were checked just above
    except UserError:
        _remove(made)
        raise
    lock.made = made
    return lock


def reserve_folder(base: Path) -> FolderLock:
    """A new folder named `base`, or `base-2`, `base-3`, ... when taken (a default output
    name: runs started in the same second get one each), created and locked.

    Raises:
        UserError: as `claim_folder`.
    """
    parent = base.parent
    made = make_folder(parent, what="output folder")
    for k in range(1, 10_000):
        folder = base if k == 1 else base.with_name(f"{base.name}-{k}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise UserError(f"cannot create {folder}: {exc.strerror}") from None
        lock = FolderLock(folder, what="output folder")
        lock.made = [*made, folder]
        try:
            lock.acquire()  # nobody else makes this name: only a folder around it can refuse
        except UserError:
            _remove(lock.made)
            raise
        return lock
    raise UserError(f"cannot find a free name for {base}: give --out")


@contextlib.contextmanager
def holding(lock: FolderLock) -> Iterator[FolderLock]:
    """Hold a claimed `lock` for a block: released at its end; when the block fails before
    writing anything, the folders the claim created are removed (`discard_if_unused`)."""
    try:
        yield lock
    except BaseException:
        lock.discard_if_unused()
        raise
    finally:
        lock.release()


def claimed(folder: Path, *, what: str = "--out") -> contextlib.AbstractContextManager[FolderLock]:
    """`claim_folder` held for a block (see `holding`).

    Raises:
        UserError: as `claim_folder`.
    """
    return holding(claim_folder(folder, what=what))


def free_name(base: Path) -> Path:
    """`base`, or `base-2`, `base-3`, ... : the first that does not exist (a default output
    name; `reserve_folder` also makes and locks it, for commands that claim it themselves)."""
    folder, k = base, 1
    while folder.exists() or folder.is_symlink():
        k += 1
        folder = base.with_name(f"{base.name}-{k}")
    return folder
