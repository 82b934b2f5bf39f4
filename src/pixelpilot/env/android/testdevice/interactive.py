"""`adb shell` without a command: an interactive session on the test device's shell.

The client's keystrokes (shell protocol v2: stdin packets; v1: the stream's bytes) are collected
into lines; each complete line runs through the device's `sh` with variables and the working
directory kept from line to line. With a terminal (`pty`, what `adb shell` uses when its own
stdin is a terminal) the session echoes what is typed, handles backspace, Ctrl-C and Ctrl-D,
turns "\\n" into "\\r\\n" and shows a prompt; without one (`raw`: stdin is a pipe or a file,
`printf 'ls\\n' | adb shell`) it prints only the commands' output. `exit [N]`, Ctrl-D on an empty
line or the end of stdin ends the session with the last status.
"""

from __future__ import annotations

import struct

from pixelpilot.env.android.testdevice.shell import Shell, ShellResult

_STDIN, _STDOUT, _STDERR, _EXIT, _CLOSE_STDIN = 0, 1, 2, 3, 4
PROMPT = "pixelpilot:{cwd} $ "


class InteractiveShell:
    """One interactive `shell` stream.

    Args:
        shell: the device's shell.
        pty: emulate a terminal (echo, prompt, line editing).
        v2: speak shell protocol v2 (packets with ids; an exit packet at the end).
    """

    def __init__(self, shell: Shell, *, pty: bool, v2: bool) -> None:
        self.shell = shell
        self.pty = pty
        self.v2 = v2
        self.env = dict(shell.base_env)
        self.status = 0
        self.finished = False
        self._line = bytearray()
        self._packets = bytearray()

    def start(self) -> bytes:
        """What the session prints before any input (the first prompt, with a terminal)."""
        return self._wrap([(_STDOUT, self._prompt())]) if self.pty else b""

    def feed(self, data: bytes) -> bytes:
        """Take bytes the client wrote; return what the session prints in answer."""
        if not self.v2:
            return self._wrap(self._keys(data))
        self._packets += data
        out: list[tuple[int, bytes]] = []
        while len(self._packets) >= 5 and not self.finished:
            kind, length = self._packets[0], struct.unpack_from("<I", self._packets, 1)[0]
            if len(self._packets) < 5 + length:
                break
            payload = bytes(self._packets[5 : 5 + length])
            del self._packets[: 5 + length]
            if kind == _STDIN:
                out += self._keys(payload)
            elif kind == _CLOSE_STDIN:
                out += self._end_of_input()
        return self._wrap(out)

    # ----- lines -------------------------------------------------------------------------

    def _prompt(self) -> bytes:
        return PROMPT.format(cwd=self.env.get("PWD", "/")).encode()

    def _keys(self, data: bytes) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        for byte in data:
            if self.finished:
                break
            char = bytes([byte])
            if char in (b"\r", b"\n") if self.pty else char == b"\n":
                out += [(_STDOUT, b"\r\n")] if self.pty else []
                out += self._run_line()
            elif self.pty and char in (b"\x7f", b"\x08"):
                if self._line:
                    self._line.pop()
                    out.append((_STDOUT, b"\b \b"))
            elif self.pty and char == b"\x03":
                self._line.clear()
                out += [(_STDOUT, b"^C\r\n" + self._prompt())]
            elif self.pty and char == b"\x04":
                if not self._line:
                    out += self._finish()
            else:
                self._line += char
                if self.pty:
                    out.append((_STDOUT, char))
        return out

    def _run_line(self) -> list[tuple[int, bytes]]:
        line = self._line.decode("utf-8", "replace").rstrip("\r")
        self._line.clear()
        out: list[tuple[int, bytes]] = []
        if line.strip():
            result: ShellResult = self.shell.execute(line, env=self.env, status=self.status)
            self.status = result.status
            out += [
                (fd, data.replace(b"\n", b"\r\n") if self.pty else data)
                for fd, data in result.output
            ]
            if result.exited:
                return out + self._finish()
        if self.pty:
            out.append((_STDOUT, self._prompt()))
        return out

    def _end_of_input(self) -> list[tuple[int, bytes]]:
        out = self._run_line() if self._line and not self.pty else []
        return out if self.finished else out + self._finish()

    def _finish(self) -> list[tuple[int, bytes]]:
        self.finished = True
        return [(_EXIT, bytes([self.status & 0xFF]))]

    def _wrap(self, pieces: list[tuple[int, bytes]]) -> bytes:
        """Protocol v2 packets, or (v1) the printed bytes with stderr merged and no exit."""
        if self.v2:
            return b"".join(
                bytes([kind]) + struct.pack("<I", len(data)) + data for kind, data in pieces if data
            )
        return b"".join(data for kind, data in pieces if kind != _EXIT)
