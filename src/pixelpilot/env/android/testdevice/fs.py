"""The test device's file system: directories and files with their contents, modes and times.

Paths are absolute, "/"-separated, without a trailing "/". The sync service (push, pull, stat,
list), redirections and the toolbox commands (`ls`, `cat`, `mkdir`, `rm`, ...) share one tree.
"""

from __future__ import annotations

import stat
import time

DIR_MODE = stat.S_IFDIR | 0o771
FILE_MODE = stat.S_IFREG | 0o660
_BOOT = int(time.time())


class VirtualFs:
    """Directories and files; `files` maps a path to its bytes, `modes`/`mtimes` its metadata."""

    def __init__(self) -> None:
        self.dirs: set[str] = {
            "/",
            "/data",
            "/data/local",
            "/data/local/tmp",
            "/data/app",
            "/sdcard",
            "/sdcard/Download",
            "/storage",
            "/storage/emulated",
            "/storage/emulated/0",
            "/system",
            "/system/bin",
            "/dev",
        }
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, int] = {}
        self.mtimes: dict[str, int] = {}

    @staticmethod
    def normalize(path: str) -> str:
        """`path` without "." parts, repeated or trailing slashes (relative paths start at /)."""
        parts: list[str] = []
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    @staticmethod
    def parent(path: str) -> str:
        return path.rstrip("/").rsplit("/", 1)[0] or "/"

    def exists(self, path: str) -> bool:
        return path in self.dirs or path in self.files

    def is_dir(self, path: str) -> bool:
        return path in self.dirs

    def makedirs(self, path: str) -> None:
        """Create `path` and its missing parents (like `mkdir -p`)."""
        while path not in self.dirs:
            self.dirs.add(path)
            self.mtimes[path] = int(time.time())
            path = self.parent(path)

    def write(self, path: str, data: bytes, *, mode: int | None = None) -> None:
        """Create or replace the file `path` (its directory must exist or is created)."""
        self.makedirs(self.parent(path))
        self.files[path] = data
        if mode is not None:
            self.modes[path] = stat.S_IFREG | (mode & 0o7777)
        self.mtimes[path] = int(time.time())

    def stat(self, path: str) -> tuple[int, int, int] | None:
        """(mode, size in bytes, mtime in seconds since the epoch), or None when missing."""
        if path in self.dirs:
            return DIR_MODE, 4096, self.mtimes.get(path, _BOOT)
        if path in self.files:
            mode = self.modes.get(path, FILE_MODE)
            return mode, len(self.files[path]), self.mtimes.get(path, _BOOT)
        return None

    def listdir(self, path: str) -> list[str]:
        """The names directly inside the directory `path`, sorted."""
        prefix = path.rstrip("/") + "/"
        names = {
            entry[len(prefix) :].split("/", 1)[0]
            for entry in (*self.dirs, *self.files)
            if entry.startswith(prefix) and entry != prefix
        }
        return sorted(name for name in names if name)

    def remove_tree(self, path: str) -> None:
        prefix = path.rstrip("/") + "/"
        self.dirs = {d for d in self.dirs if d != path and not d.startswith(prefix)}
        self.files = {f: v for f, v in self.files.items() if f != path and not f.startswith(prefix)}
