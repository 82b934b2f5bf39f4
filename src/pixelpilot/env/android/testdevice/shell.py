"""Runs parsed command lines against the test device's commands, recording every command run.

`Shell.run(line)` is what adbd's `sh -c LINE` does on the test device: every simple command
that executes (including those inside `$(...)`, after `;`, `&&`, `|`, in groups) is appended
to the record with its final argv, so a test can prove exactly which commands ran. Commands
the device does not know fail like on Android (`sh: NAME: inaccessible or not found`, status
127) and are recorded too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pixelpilot.env.android.testdevice.shparse import (
    AndOr,
    Group,
    Part,
    Pipeline,
    Redirect,
    ShellSyntaxError,
    Simple,
    Word,
    parse,
)

IFS = " \t\n"


@dataclass(frozen=True)
class ShellRecord:
    """One command that ran: its argv after expansion, the service and the whole line."""

    argv: tuple[str, ...]
    line: str
    service: str
    status: int


@dataclass
class Invocation:
    """What a device command gets: argv, stdin, and buffers for its output."""

    argv: list[str]
    stdin: bytes
    env: dict[str, str]
    fs: VirtualFs
    stdout: list[bytes] = field(default_factory=list)
    stderr: list[bytes] = field(default_factory=list)

    def write(self, data: bytes) -> None:
        """Append bytes to stdout (kept as chunks: a 10 MB frame is never copied twice)."""
        self.stdout.append(data)

    def out(self, text: str) -> None:
        self.stdout.append(text.encode())

    def err(self, text: str) -> None:
        self.stderr.append(text.encode())


CommandFn = Callable[[Invocation], int]


class VirtualFs:
    """Directories and files the shell can create (for `mkdir`, `rm`, `cat` and redirections)."""

    def __init__(self) -> None:
        self.dirs: set[str] = {"/", "/data", "/data/local", "/data/local/tmp", "/sdcard", "/dev"}
        self.files: dict[str, bytes] = {}

    @staticmethod
    def parent(path: str) -> str:
        return path.rstrip("/").rsplit("/", 1)[0] or "/"

    def exists(self, path: str) -> bool:
        return path in self.dirs or path in self.files

    def remove_tree(self, path: str) -> None:
        prefix = path.rstrip("/") + "/"
        self.dirs = {d for d in self.dirs if d != path and not d.startswith(prefix)}
        self.files = {f: v for f, v in self.files.items() if f != path and not f.startswith(prefix)}


class Shell:
    """An `sh -c` for the test device.

    Args:
        commands: name -> function implementing the command.
        lock: held while a command runs, so commands from several connections never interleave.
    """

    def __init__(self, commands: Mapping[str, CommandFn], lock: threading.RLock) -> None:
        self.commands = dict(commands)
        self.lock = lock
        self.fs = VirtualFs()
        self.records: list[ShellRecord] = []
        self.lines: list[tuple[str, str]] = []
        self.base_env = {
            "HOME": "/",
            "PATH": "/product/bin:/apex/com.android.runtime/bin:/system/bin:/system/xbin",
            "SHELL": "/system/bin/sh",
            "USER": "shell",
            "HOSTNAME": "pixelpilot",
            "TMPDIR": "/data/local/tmp",
        }

    def run(self, line: str, *, service: str = "shell") -> bytes:
        """Run one command line; returns what the session prints (stdout and stderr)."""
        with self.lock:
            self.lines.append((service, line))
        try:
            script = parse(line)
        except ShellSyntaxError as exc:
            return f"/system/bin/sh: {exc}\n".encode()
        run = _Run(self, line, service)
        run.script(script, run.output, run.output)
        return b"".join(run.output)


class _Run:
    """The state of one `sh -c` invocation: variables, the last status, the output."""

    def __init__(self, shell: Shell, line: str, service: str) -> None:
        self.shell = shell
        self.line = line
        self.service = service
        self.env = dict(shell.base_env)
        self.status = 0
        self.output: list[bytes] = []

    def script(self, script: tuple[AndOr, ...], out: list[bytes], err: list[bytes]) -> None:
        for and_or in script:
            for op, pipeline in and_or.items:
                if (op == "&&" and self.status != 0) or (op == "||" and self.status == 0):
                    continue
                self.status = self.pipeline(pipeline, out, err)

    def pipeline(self, pipeline: Pipeline, out: list[bytes], err: list[bytes]) -> int:
        data = b""
        status = 0
        for command in pipeline.commands:
            if isinstance(command, Group):
                inner: list[bytes] = []
                self.script(command.script, inner, err)
                data, status = b"".join(inner), self.status
            else:
                data, status = self.simple(command, data, err)
        out.append(data)
        return status

    def simple(self, command: Simple, stdin: bytes, err: list[bytes]) -> tuple[bytes, int]:
        argv: list[str] = []
        for word in command.words:
            argv.extend(self.expand(word))
        values = {
            name: "".join(self.expand(word, split=False)) for name, word in command.assignments
        }
        if not argv:
            self.env.update(values)
            return b"", 0
        fs = self.shell.fs
        for redirect in command.redirects:
            if redirect.fd == 0 and redirect.op == "<":
                stdin = fs.files.get("".join(self.expand(redirect.target, split=False)), b"")
        inv = Invocation(argv=argv, stdin=stdin, env={**self.env, **values}, fs=fs)
        name = argv[0]
        fn = self.shell.commands.get(name.rsplit("/", 1)[-1] if name.startswith("/") else name)
        if fn is None:
            inv.err(f"/system/bin/sh: {name}: inaccessible or not found\n")
            status = 127
        elif name == "sleep":
            status = fn(inv)  # sleeping must not block other connections' commands
        else:
            with self.shell.lock:
                status = fn(inv)
        with self.shell.lock:
            self.shell.records.append(ShellRecord(tuple(argv), self.line, self.service, status))
        out, errors = b"".join(inv.stdout), b"".join(inv.stderr)
        for redirect in command.redirects:
            out, errors = self.apply_redirect(redirect, out, errors)
        err.append(errors)
        return out, status

    def apply_redirect(self, redirect: Redirect, out: bytes, err: bytes) -> tuple[bytes, bytes]:
        target = "".join(self.expand(redirect.target, split=False))
        if redirect.op in (">&", "<&"):
            if redirect.fd == 2 and target == "1":
                return out + err, b""
            if redirect.fd == 1 and target == "2":
                return b"", err + out
            return out, err
        if redirect.fd not in (1, 2) or redirect.op == "<":
            return out, err
        payload = out if redirect.fd == 1 else err
        if target != "/dev/null":
            fs = self.shell.fs
            with self.shell.lock:
                old = fs.files.get(target, b"") if redirect.op == ">>" else b""
                fs.files[target] = old + payload
        return (b"", err) if redirect.fd == 1 else (out, b"")

    def expand(self, word: Word, *, split: bool = True) -> list[str]:
        """The fields a word expands to (quoted parts never split; unquoted results do)."""
        fields: list[str] = [""]
        alive = [False]
        for part in word.parts:
            text = self.part_text(part)
            if part.kind == "lit" or part.quoted or not split:
                fields[-1] += text
                alive[-1] = alive[-1] or part.quoted or bool(text)
                continue
            pieces = text.split()
            if text[:1] in IFS and text and alive[-1]:
                fields.append("")
                alive.append(False)
            for n, piece in enumerate(pieces):
                if n:
                    fields.append("")
                    alive.append(False)
                fields[-1] += piece
                alive[-1] = True
            if text[-1:] in IFS and text and alive[-1]:
                fields.append("")
                alive.append(False)
        return [f for f, keep in zip(fields, alive, strict=True) if keep]

    def part_text(self, part: Part) -> str:
        if part.kind == "lit":
            return part.text
        if part.kind == "var":
            return self.variable(part.text)
        captured: list[bytes] = []
        self.script(part.script, captured, self.output)
        return b"".join(captured).decode("utf-8", "replace").rstrip("\n")

    def variable(self, name: str) -> str:
        if name == "?":
            return str(self.status)
        if name == "$":
            return "4242"
        if name in ("#", "!", "-") or name.isdigit():
            return "/system/bin/sh" if name == "0" else ("0" if name == "#" else "")
        if name in ("@", "*"):
            return ""
        return self.env.get(name, "")


def sleep_command(inv: Invocation) -> int:
    """`sleep SECONDS` (at most 30 s on the test device)."""
    try:
        seconds = float(inv.argv[1]) if len(inv.argv) > 1 else -1.0
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        inv.err("sleep: usage: sleep SECONDS\n")
        return 1
    time.sleep(min(seconds, 30.0))
    return 0


__all__ = ["CommandFn", "Invocation", "Shell", "ShellRecord", "VirtualFs", "sleep_command"]
