"""The commands the test device's shell knows, each answering like its Android namesake.

`input` (tap, swipe, draganddrop, text, keyevent, keycombination), `screencap`, `wm`, `pm`,
`monkey`, `am` (start, force-stop, broadcast), `ime`, `settings`, `dumpsys window`, `getprop`,
and the toybox basics the adapter uses (`echo`, `mkdir`, `rm`, `cat`, `grep`, `md5sum`, ...).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable

from pixelpilot.env.android.keys import parse_keycode
from pixelpilot.env.android.testdevice.phone import ADB_IME, VirtualPhone
from pixelpilot.env.android.testdevice.shell import CommandFn, Invocation, sleep_command

PROPS = {
    "ro.product.model": "pixelpilot test device",
    "ro.product.manufacturer": "pixelpilot",
    "ro.build.version.release": "14",
    "ro.build.version.sdk": "34",
}
SOURCES = (
    "touchscreen",
    "touchpad",
    "keyboard",
    "mouse",
    "stylus",
    "trackball",
    "dpad",
    "gamepad",
    "joystick",
    "touchnavigation",
    "rotaryencoder",
)


def android_input_text(arg: str) -> str:
    """What Android's `input text` makes of its argument: `%s` becomes a space."""
    out: list[str] = []
    escape = False
    for c in arg:
        if escape:
            escape = False
            if c == "s":
                out[-1] = " "
                continue
        out.append(c)
        if c == "%":
            escape = True
    return "".join(out)


def _number(text: str) -> int:
    return round(float(text))


class DeviceCommands:
    """Command implementations bound to one VirtualPhone."""

    def __init__(self, phone: VirtualPhone) -> None:
        self.phone = phone
        self.settings: dict[str, str] = {}

    def table(self) -> dict[str, CommandFn]:
        simple: dict[str, Callable[[Invocation], int]] = {
            "input": self.input,
            "screencap": self.screencap,
            "wm": self.wm,
            "pm": self.pm,
            "monkey": self.monkey,
            "am": self.am,
            "ime": self.ime,
            "settings": self.settings_command,
            "dumpsys": self.dumpsys,
            "getprop": self.getprop,
            "echo": self.echo,
            "true": lambda inv: 0,
            "false": lambda inv: 1,
            "id": self.id,
            "mkdir": self.mkdir,
            "rm": self.rm,
            "cat": self.cat,
            "grep": self.grep,
            "md5sum": self.md5sum,
            "sleep": sleep_command,
        }
        return simple

    # ----- input ---------------------------------------------------------------------------

    def input(self, inv: Invocation) -> int:
        args = inv.argv[1:]
        if args and args[0] in SOURCES:
            args = args[1:]
        if len(args) >= 2 and args[0] == "-d":
            args = args[2:]
        if not args:
            inv.err("Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]\n")
            return 1
        command, rest = args[0], args[1:]
        try:
            if command == "tap" and len(rest) == 2:
                self.phone.tap(_number(rest[0]), _number(rest[1]))
                return 0
            if command in ("swipe", "draganddrop") and len(rest) in (4, 5):
                x1, y1, x2, y2 = (_number(v) for v in rest[:4])
                duration = _number(rest[4]) if len(rest) == 5 else 300
                self.phone.swipe(x1, y1, x2, y2, duration)
                return 0
        except ValueError:
            inv.err(f"Error: invalid number in: {' '.join(rest)}\n")
            return 1
        if command == "text" and rest:
            return self._text(inv, rest[0])
        if command in ("keyevent", "keycombination") and rest:
            return self._keys(inv, command, rest)
        inv.err(f"Error: Unknown command or bad arguments: {' '.join(args)}\n")
        return 1

    def _text(self, inv: Invocation, arg: str) -> int:
        text = android_input_text(arg)
        bad = [c for c in text if not " " <= c <= "~"]
        if bad:
            # Android's virtual key map has no key for these characters
            inv.err(f"Exception occurred while executing 'text': no key for {bad[0]!r}\n")
            return 1
        self.phone.type_text(text)
        return 0

    def _keys(self, inv: Invocation, command: str, rest: list[str]) -> int:
        names = []
        for arg in rest:
            if arg in ("--longpress", "--doubletap") or arg.startswith("--duration"):
                continue
            name = parse_keycode(arg)
            if name is None:
                inv.err(f"Error: Unknown keycode: {arg}\n")
                return 1
            names.append(name)
        if command == "keycombination":
            self.phone.keys.append("+".join(names))
            return 0
        for name in names:
            self.phone.key(name)
        return 0

    # ----- screen --------------------------------------------------------------------------

    def screencap(self, inv: Invocation) -> int:
        args = [a for a in inv.argv[1:] if a != "-p"]
        png = "-p" in inv.argv[1:]
        if len(args) >= 2 and args[0] == "-d":
            args = args[2:]
        data = self.phone.screencap_png() if png else self.phone.screencap_raw()
        if args:
            path = args[0]
            inv.fs.files[path] = self.phone.screencap_png() if path.endswith(".png") else data
        else:
            inv.write(data)
        return 0

    def wm(self, inv: Invocation) -> int:
        what = inv.argv[1:2]
        if what == ["size"] and len(inv.argv) == 2:
            w, h = self.phone.size
            inv.out(f"Physical size: {w}x{h}\n")
            return 0
        if what == ["density"] and len(inv.argv) == 2:
            inv.out(f"Physical density: {self.phone.screen.density}\n")
            return 0
        inv.err("Error: the test device only reports `wm size` and `wm density`\n")
        return 1

    # ----- packages and activities ---------------------------------------------------------

    def pm(self, inv: Invocation) -> int:
        args = inv.argv[1:]
        if args[:2] != ["list", "packages"]:
            inv.err("Error: the test device only supports `pm list packages [FILTER]`\n")
            return 1
        filters = [a for a in args[2:] if not a.startswith("-")]
        for package in self.phone.catalog.packages:
            if not filters or filters[0] in package:
                inv.out(f"package:{package}\n")
        return 0

    def monkey(self, inv: Invocation) -> int:
        args = inv.argv[1:]
        package = args[args.index("-p") + 1] if "-p" in args[:-1] else None
        app = self.phone.app(package) if package else None
        if app is None or app is self.phone.launcher:
            inv.err("** No activities found to run, monkey aborted.\n")
            return 251
        self.phone.launch(app.package)
        inv.out("Events injected: 1\n## Network stats: elapsed time=5ms\n")
        return 0

    def am(self, inv: Invocation) -> int:
        args = inv.argv[1:]
        if not args:
            inv.err("usage: am [start|force-stop|broadcast] ...\n")
            return 1
        extras = {args[i + 1]: args[i + 2] for i in range(len(args) - 2) if args[i] == "--es"}
        if args[0] == "force-stop" and len(args) == 2:
            self.phone.force_stop(args[1])
            return 0
        if args[0] == "start" and "-n" in args[:-1]:
            component = args[args.index("-n") + 1]
            package, _, activity = component.partition("/")
            app = self.phone.app(package)
            if app is None or app.activity != f"{package}/{activity}":
                inv.out(f"Starting: Intent {{ cmp={component} }}\n")
                inv.err(f"Error type 3\nError: Activity class {{{component}}} does not exist.\n")
                return 1
            inv.out(f"Starting: Intent {{ cmp={component} }}\n")
            self.phone.launch(package, extras)
            return 0
        if args[0] == "broadcast" and "-a" in args[:-1]:
            action = args[args.index("-a") + 1]
            inv.out(f"Broadcasting: Intent {{ act={action} flg=0x400000 (has extras) }}\n")
            self._adbkeyboard(action, extras)
            inv.out("Broadcast completed: result=0\n")
            return 0
        inv.err(f"Error: the test device does not support `am {' '.join(args)}`\n")
        return 1

    def _adbkeyboard(self, action: str, extras: dict[str, str]) -> None:
        if self.phone.ime != ADB_IME:
            return  # only the active ADBKeyboard IME has its broadcast receiver registered
        if action == "ADB_INPUT_TEXT":
            self.phone.type_text(extras.get("msg", ""))
        elif action == "ADB_INPUT_B64":
            try:
                text = base64.b64decode(extras.get("msg", ""), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return
            self.phone.type_text(text)

    def ime(self, inv: Invocation) -> int:
        args = inv.argv[1:]
        phone = self.phone
        if args[:1] == ["list"]:
            listed = phone.ime_available if "-a" in args else phone.ime_enabled
            inv.out("".join(f"{ime}\n" for ime in listed))
            return 0
        if len(args) == 2 and args[0] in ("enable", "set"):
            ime = args[1]
            if ime not in phone.ime_available:
                inv.err(f"Unknown input method {ime} cannot be enabled for user #0\n")
                return 1
            if args[0] == "enable":
                if ime not in phone.ime_enabled:
                    phone.ime_enabled.append(ime)
                inv.out(f"Input method {ime}: now enabled for user #0\n")
                return 0
            if ime not in phone.ime_enabled:
                inv.err(f"Input method {ime} is not enabled\n")
                return 1
            phone.ime = ime
            inv.out(f"Input method {ime} selected for user #0\n")
            return 0
        inv.err("usage: ime list [-a] [-s] | ime enable ID | ime set ID\n")
        return 1

    def settings_command(self, inv: Invocation) -> int:
        args = inv.argv[1:]
        if len(args) == 3 and args[0] == "get":
            if args[2] == "default_input_method":
                inv.out(self.phone.ime + "\n")
            else:
                inv.out(self.settings.get(f"{args[1]}/{args[2]}", "null") + "\n")
            return 0
        if len(args) == 4 and args[0] == "put":
            self.settings[f"{args[1]}/{args[2]}"] = args[3]
            return 0
        inv.err("usage: settings get|put NAMESPACE KEY [VALUE]\n")
        return 1

    def dumpsys(self, inv: Invocation) -> int:
        if inv.argv[1:2] != ["window"]:
            inv.err("the test device only implements `dumpsys window`\n")
            return 1
        focused = self.phone.foreground()
        inv.out(
            "WINDOW MANAGER WINDOWS (dumpsys window windows)\n"
            f"  mCurrentFocus=Window{{1a2b3c u0 {focused}}}\n"
            f"  mFocusedApp=ActivityRecord{{4d5e6f u0 {focused} t7}}\n"
        )
        return 0

    def getprop(self, inv: Invocation) -> int:
        if len(inv.argv) > 1:
            inv.out(PROPS.get(inv.argv[1], "") + "\n")
        else:
            inv.out("".join(f"[{k}]: [{v}]\n" for k, v in PROPS.items()))
        return 0

    # ----- toybox basics -----------------------------------------------------------------

    def echo(self, inv: Invocation) -> int:
        inv.out(" ".join(inv.argv[1:]) + "\n")
        return 0

    def id(self, inv: Invocation) -> int:
        inv.out("uid=2000(shell) gid=2000(shell) groups=2000(shell)\n")
        return 0

    def mkdir(self, inv: Invocation) -> int:
        parents = "-p" in inv.argv[1:]
        status = 0
        for path in (a for a in inv.argv[1:] if not a.startswith("-")):
            path = path.rstrip("/") or "/"
            fs = inv.fs
            if fs.exists(path):
                if not parents:
                    inv.err(f"mkdir: '{path}': File exists\n")
                    status = 1
                continue
            if not parents and fs.parent(path) not in fs.dirs:
                inv.err(f"mkdir: '{path}': No such file or directory\n")
                status = 1
                continue
            while path not in fs.dirs:
                fs.dirs.add(path)
                path = fs.parent(path)
        return status

    def rm(self, inv: Invocation) -> int:
        flags = "".join(a[1:] for a in inv.argv[1:] if a.startswith("-"))
        for path in (a for a in inv.argv[1:] if not a.startswith("-")):
            if path in inv.fs.dirs and "r" not in flags:
                inv.err(f"rm: {path}: is a directory\n")
                return 1
            if not inv.fs.exists(path) and "f" not in flags:
                inv.err(f"rm: {path}: No such file or directory\n")
                return 1
            inv.fs.remove_tree(path)
        return 0

    def cat(self, inv: Invocation) -> int:
        if len(inv.argv) == 1:
            inv.write(inv.stdin)
            return 0
        for path in inv.argv[1:]:
            if path not in inv.fs.files:
                inv.err(f"cat: {path}: No such file or directory\n")
                return 1
            inv.write(inv.fs.files[path])
        return 0

    def grep(self, inv: Invocation) -> int:
        patterns = [a for a in inv.argv[1:] if not a.startswith("-")]
        if not patterns:
            inv.err("usage: grep [-E] PATTERN\n")
            return 2
        try:
            regex = re.compile(patterns[0])
        except re.error:
            regex = re.compile(re.escape(patterns[0]))
        lines = [
            line
            for line in inv.stdin.decode("utf-8", "replace").splitlines(True)
            if regex.search(line)
        ]
        inv.out("".join(lines))
        return 0 if lines else 1

    def md5sum(self, inv: Invocation) -> int:
        inv.out(f"{hashlib.md5(inv.stdin).hexdigest()}  -\n")
        return 0
