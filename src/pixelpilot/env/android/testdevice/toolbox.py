"""The toybox basics of the test device's shell: echo, printf, cut, ls, cat, grep, mkdir, rm,
md5sum, id, pwd, true, false, sleep. Each answers like Android's toybox for the forms clients
use; relative paths start at the shell's $PWD (`cd` is a shell builtin) in the device's
VirtualFs.
"""

from __future__ import annotations

import hashlib
import re
import stat
import time

from pixelpilot.env.android.testdevice.fs import VirtualFs
from pixelpilot.env.android.testdevice.shell import CommandFn, Invocation, sleep_command

_PRINTF_SPEC = re.compile(r"%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdiuxXoc%])")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unescape(text: str) -> str:
    return re.sub(
        r"\\(0[0-7]{0,3}|.)",
        lambda m: (
            chr(int(m.group(1), 8))
            if m.group(1)[0] == "0"
            else _ESCAPES.get(m.group(1), m.group(0))
        ),
        text,
    )


def echo(inv: Invocation) -> int:
    args = inv.argv[1:]
    newline = True
    escapes = False
    while args and args[0] in ("-n", "-e", "-E", "-ne", "-en"):
        newline = newline and "n" not in args[0]
        escapes = "e" in args[0]
        args = args[1:]
    text = " ".join(args)
    inv.out((_unescape(text) if escapes else text) + ("\n" if newline else ""))
    return 0


def _format(flags: str, width: str, precision: str | None, conv: str, arg: str) -> str:
    """One printf conversion of `arg` (ValueError: not a number for a numeric conversion)."""
    if conv in "sc":
        value = arg[:1] if conv == "c" else arg
        if precision:
            value = value[: int(precision)]
        pad = int(width or 0)
        return value.ljust(pad) if "-" in flags else value.rjust(pad)
    number = int(arg, 0) if arg else 0
    return ("%" + flags + width + {"i": "d", "u": "d"}.get(conv, conv)) % number


def printf(inv: Invocation) -> int:
    """`printf FORMAT [ARG...]`: %s %d %i %u %x %X %o %c %% with flags and widths; the format
    is reused while arguments remain."""
    if len(inv.argv) < 2:
        inv.err("printf: Need 1 argument\n")
        return 1
    fmt, args = _unescape(inv.argv[1]), list(inv.argv[2:])
    status = 0
    out: list[str] = []
    while True:
        used = 0
        pos = 0
        for m in _PRINTF_SPEC.finditer(fmt):
            out.append(fmt[pos : m.start()])
            pos = m.end()
            flags, width, precision, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            arg = args[used] if used < len(args) else ""
            used += 1
            try:
                out.append(_format(flags, width, precision, conv, arg))
            except ValueError:
                inv.err(f"printf: invalid number '{arg}'\n")
                status = 1
                out.append("0")
        out.append(fmt[pos:])
        args = args[used:]
        if not args or used == 0:
            break
    inv.out("".join(out))
    return status


def cut(inv: Invocation) -> int:
    """`cut -d DELIM -f LIST` or `cut -c LIST` on stdin (LIST: N, N-M, N-, -M, comma-joined)."""
    args = inv.argv[1:]
    delim, fields, chars = "\t", "", ""
    i = 0
    while i < len(args):
        arg = args[i]
        value = arg[2:] or (args[i + 1] if i + 1 < len(args) else "")
        step = 1 if arg[2:] else 2
        if arg.startswith("-d"):
            delim = value[:1] or delim
        elif arg.startswith("-f"):
            fields = value
        elif arg.startswith("-c"):
            chars = value
        else:
            step = 1
        i += step
    spec = fields or chars
    if not spec:
        inv.err("cut: Needs -fcb\n")
        return 1
    ranges: list[tuple[int, int]] = []
    for piece in spec.split(","):
        start, dash, end = piece.partition("-")
        if not (start or end).isdigit():
            inv.err(f"cut: bad list '{spec}'\n")
            return 1
        first = int(start) if start else 1
        ranges.append((first, int(end) if end else (10**9 if dash else first)))
    for line in inv.stdin.decode("utf-8", "replace").splitlines():
        if fields:
            if delim not in line:
                inv.out(line + "\n")
                continue
            parts = line.split(delim)
            keep = [p for n, p in enumerate(parts, 1) if any(a <= n <= b for a, b in ranges)]
            inv.out(delim.join(keep) + "\n")
        else:
            inv.out(
                "".join(c for n, c in enumerate(line, 1) if any(a <= n <= b for a, b in ranges))
                + "\n"
            )
    return 0


def _ls_line(fs: VirtualFs, path: str, name: str) -> str:
    info = fs.stat(path)
    assert info is not None
    mode, size, mtime = info
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime))
    return f"{stat.filemode(mode)} 1 shell shell {size:>8} {when} {name}\n"


def ls(inv: Invocation) -> int:
    flags = "".join(a[1:] for a in inv.argv[1:] if a.startswith("-") and len(a) > 1)
    paths = [a for a in inv.argv[1:] if not a.startswith("-") or a == "-"] or ["."]
    fs = inv.fs
    status = 0
    for raw in paths:
        path = inv.resolve(raw)
        if not fs.exists(path):
            inv.err(f"ls: {raw}: No such file or directory\n")
            status = 1
            continue
        if fs.is_dir(path) and "d" not in flags:
            names = fs.listdir(path)
            if "a" in flags:
                names = [".", "..", *names]
            for name in names:
                child = path if name in (".", "..") else fs.normalize(f"{path}/{name}")
                inv.out(_ls_line(fs, child, name) if "l" in flags else name + "\n")
        else:
            inv.out(_ls_line(fs, path, raw) if "l" in flags else raw + "\n")
    return status


def cat(inv: Invocation) -> int:
    if len(inv.argv) == 1:
        inv.write(inv.stdin)
        return 0
    for name in inv.argv[1:]:
        path = inv.resolve(name)
        if name == "-":
            inv.write(inv.stdin)
        elif path in inv.fs.files:
            inv.write(inv.fs.files[path])
        else:
            problem = "Is a directory" if inv.fs.is_dir(path) else "No such file or directory"
            inv.err(f"cat: {name}: {problem}\n")
            return 1
    return 0


def grep(inv: Invocation) -> int:
    flags = "".join(a[1:] for a in inv.argv[1:] if a.startswith("-"))
    patterns = [a for a in inv.argv[1:] if not a.startswith("-")]
    if not patterns:
        inv.err("usage: grep [-E] PATTERN\n")
        return 2
    try:
        regex = re.compile(patterns[0], re.IGNORECASE if "i" in flags else 0)
    except re.error:
        regex = re.compile(re.escape(patterns[0]))
    text = inv.stdin.decode("utf-8", "replace")
    lines = [line for line in text.splitlines(True) if bool(regex.search(line)) != ("v" in flags)]
    if "c" in flags:
        inv.out(f"{len(lines)}\n")
    elif "q" not in flags:
        inv.out("".join(lines))
    return 0 if lines else 1


def mkdir(inv: Invocation) -> int:
    parents = "-p" in inv.argv[1:]
    status = 0
    fs = inv.fs
    for name in (a for a in inv.argv[1:] if not a.startswith("-")):
        path = inv.resolve(name)
        if fs.exists(path):
            if not parents:
                inv.err(f"mkdir: '{name}': File exists\n")
                status = 1
            continue
        if not parents and fs.parent(path) not in fs.dirs:
            inv.err(f"mkdir: '{name}': No such file or directory\n")
            status = 1
            continue
        fs.makedirs(path)
    return status


def rm(inv: Invocation) -> int:
    flags = "".join(a[1:] for a in inv.argv[1:] if a.startswith("-"))
    for name in (a for a in inv.argv[1:] if not a.startswith("-")):
        path = inv.resolve(name)
        if path in inv.fs.dirs and "r" not in flags:
            inv.err(f"rm: {name}: is a directory\n")
            return 1
        if not inv.fs.exists(path) and "f" not in flags:
            inv.err(f"rm: {name}: No such file or directory\n")
            return 1
        inv.fs.remove_tree(path)
    return 0


def md5sum(inv: Invocation) -> int:
    paths = inv.argv[1:]
    if not paths:
        inv.out(f"{hashlib.md5(inv.stdin).hexdigest()}  -\n")
        return 0
    for name in paths:
        path = inv.resolve(name)
        if path not in inv.fs.files:
            inv.err(f"md5sum: {name}: No such file or directory\n")
            return 1
        inv.out(f"{hashlib.md5(inv.fs.files[path]).hexdigest()}  {name}\n")
    return 0


def pwd(inv: Invocation) -> int:
    inv.out(inv.env.get("PWD", "/") + "\n")
    return 0


def identity(inv: Invocation) -> int:
    inv.out("uid=2000(shell) gid=2000(shell) groups=2000(shell) context=u:r:shell:s0\n")
    return 0


TOOLBOX: dict[str, CommandFn] = {
    "echo": echo,
    "printf": printf,
    "cut": cut,
    "ls": ls,
    "cat": cat,
    "grep": grep,
    "mkdir": mkdir,
    "rm": rm,
    "md5sum": md5sum,
    "id": identity,
    "pwd": pwd,
    "true": lambda inv: 0,
    "false": lambda inv: 1,
    "sleep": sleep_command,
}
"""name -> implementation of every toybox command the test device knows."""
