"""Runs parsed command lines against the test device's commands, recording every command run.

`Shell.run(line)` is what adbd's `sh -c LINE` does on the test device: every simple command
that executes (including those inside `$(...)`, after `;`, `&&`, `|`, in groups) is appended
to the record with its final argv, so a test can prove exactly which commands ran. Commands
the device does not know fail like on Android (`/system/bin/sh: NAME: not found`, status 127)
and are recorded too. `Shell.execute(line)` keeps stdout and stderr apart (in the order they
were written) with the exit status, for shell protocol v2; `Shell.run` merges them as the v1
`shell:` and `exec:` services do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pixelpilot.env.android.testdevice.arith import ArithError, evaluate
from pixelpilot.env.android.testdevice.fs import VirtualFs
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
STDOUT = 1
STDERR = 2


@dataclass(frozen=True)
class ShellResult:
    """What one command line printed and how it ended.

    Attributes:
        output: (1 or 2, bytes) pieces in the order they were written (stdout 1, stderr 2).
        status: the exit status of the last command (0-255).
        exited: the line ran `exit` (an interactive session ends there).
    """

    output: tuple[tuple[int, bytes], ...]
    status: int
    exited: bool = False

    @property
    def merged(self) -> bytes:
        """stdout and stderr interleaved, as a session without shell protocol v2 sees them."""
        return b"".join(data for _, data in self.output)

    def stream(self, fd: int) -> bytes:
        return b"".join(data for kind, data in self.output if kind == fd)


class _Sink:
    """Collects one stream's writes into the ordered output of a whole command line."""

    def __init__(self, fd: int, ordered: list[tuple[int, bytes]]) -> None:
        self.fd = fd
        self.ordered = ordered

    def append(self, data: bytes) -> None:
        if data:
            self.ordered.append((self.fd, data))


class Writer(Protocol):
    """Where a command's output goes: a list of chunks or a `_Sink`."""

    def append(self, data: bytes, /) -> None: ...


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

    def resolve(self, path: str) -> str:
        """`path` as an absolute, normalized path (relative ones start at the shell's $PWD)."""
        if not path.startswith("/"):
            path = f"{self.env.get('PWD', '/')}/{path}"
        return self.fs.normalize(path)


CommandFn = Callable[[Invocation], int]


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
            "PWD": "/",
        }

    def run(self, line: str, *, service: str = "shell") -> bytes:
        """Run one command line; returns what the session prints (stdout and stderr)."""
        return self.execute(line, service=service).merged

    def execute(
        self,
        line: str,
        *,
        service: str = "shell",
        env: dict[str, str] | None = None,
        status: int = 0,
    ) -> ShellResult:
        """Run one command line; returns its stdout and stderr apart, and its exit status.

        Args:
            line: the command line, as `sh -c` gets it.
            service: recorded with each command ("shell" or "exec").
            env: the variables (and $PWD) to run with, changed in place: an interactive
                session passes the same dict for every line. None: a fresh environment.
            status: what `$?` is before the first command (the previous line's status).
        """
        with self.lock:
            self.lines.append((service, line))
        try:
            script = parse(line)
        except ShellSyntaxError as exc:
            return ShellResult(((STDERR, f"/system/bin/sh: {exc}\n".encode()),), 2)
        run = _Run(self, line, service, env)
        run.status = status
        ordered: list[tuple[int, bytes]] = []
        run.err = _Sink(STDERR, ordered)
        try:
            run.script(script, _Sink(STDOUT, ordered), run.err)
        except _Exit as done:
            return ShellResult(tuple(ordered), done.status, exited=True)
        return ShellResult(tuple(ordered), run.status & 0xFF)


class _Exit(Exception):
    """`exit N`: ends the (sub)shell with status N."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Run:
    """The state of one `sh -c` invocation: variables, the last status, the output."""

    def __init__(
        self, shell: Shell, line: str, service: str, env: dict[str, str] | None = None
    ) -> None:
        self.shell = shell
        self.line = line
        self.service = service
        self.env = env if env is not None else dict(shell.base_env)
        self.status = 0
        self.err: Writer = []

    def script(self, script: tuple[AndOr, ...], out: Writer, err: Writer) -> None:
        for and_or in script:
            for op, pipeline in and_or.items:
                if (op == "&&" and self.status != 0) or (op == "||" and self.status == 0):
                    continue
                self.status = self.pipeline(pipeline, out, err)

    def subshell(self, script: tuple[AndOr, ...], out: Writer, err: Writer) -> None:
        """Run `script` as a (sub)shell: `exit` ends it, not the whole command line."""
        try:
            self.script(script, out, err)
        except _Exit as done:
            self.status = done.status

    def pipeline(self, pipeline: Pipeline, out: Writer, err: Writer) -> int:
        data = b""
        status = 0
        for command in pipeline.commands:
            if isinstance(command, Group):
                inner: list[bytes] = []
                self.subshell(command.script, inner, err)
                data, status = b"".join(inner), self.status
            else:
                data, status = self.simple(command, data, err)
        out.append(data)
        return status

    def simple(self, command: Simple, stdin: bytes, err: Writer) -> tuple[bytes, int]:
        argv: list[str] = []
        try:
            for word in command.words:
                argv.extend(self.expand(word))
            if not argv:
                self.status = 0  # an assignment alone ends with its last substitution's status
            values = {
                name: "".join(self.expand(word, split=False)) for name, word in command.assignments
            }
        except ArithError as exc:
            err.append(f"/system/bin/sh: {exc}\n".encode())
            return b"", 1
        if not argv:
            self.env.update(values)
            return b"", self.status
        fs = self.shell.fs
        for redirect in command.redirects:
            if redirect.fd == 0 and redirect.op == "<":
                source = self._path("".join(self.expand(redirect.target, split=False)))
                stdin = fs.files.get(source, b"")
        inv = Invocation(argv=argv, stdin=stdin, env={**self.env, **values}, fs=fs)
        name = argv[0]
        if name == "cd":
            return b"", self.change_directory(argv, err)
        if name == "exit":
            code = argv[1] if len(argv) > 1 else str(self.status)
            raise _Exit(int(code) & 0xFF if code.lstrip("-").isdigit() else 2)
        fn = self.shell.commands.get(name.rsplit("/", 1)[-1] if name.startswith("/") else name)
        if fn is None:
            inv.err(f"/system/bin/sh: {name}: not found\n")
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

    def change_directory(self, argv: list[str], err: Writer) -> int:
        """The `cd [DIR]` builtin: later relative paths of this command line start at DIR."""
        fs = self.shell.fs
        target = argv[1] if len(argv) > 1 else self.env.get("HOME", "/")
        if not target.startswith("/"):
            target = f"{self.env.get('PWD', '/')}/{target}"
        path = fs.normalize(target)
        if not fs.is_dir(path):
            err.append(f"/system/bin/sh: cd: {argv[1]}: No such file or directory\n".encode())
            return 2
        self.env["PWD"] = path
        return 0

    def _path(self, target: str) -> str:
        if target.startswith("/"):
            return target
        return self.shell.fs.normalize(f"{self.env.get('PWD', '/')}/{target}")

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
            target = self._path(target)
            fs = self.shell.fs
            with self.shell.lock:
                old = fs.files.get(target, b"") if redirect.op == ">>" else b""
                fs.write(target, old + payload)
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
        if part.kind == "arith":
            return str(evaluate(part.text, self.variable))
        captured: list[bytes] = []
        self.subshell(part.script, captured, self.err)
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


__all__ = [
    "CommandFn",
    "Invocation",
    "Shell",
    "ShellRecord",
    "ShellResult",
    "VirtualFs",
    "sleep_command",
]
