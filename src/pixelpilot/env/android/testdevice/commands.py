"""The commands the test device's shell knows, each answering like its Android namesake.

Here: `input` (tap, swipe, draganddrop, text, keyevent, keycombination, with a source and
`-d DISPLAY`), `screencap` (raw, `-p`, `-d DISPLAY`, to a file), `pm` (list packages, path,
install, uninstall, clear), `monkey`, `am` (start, force-stop, kill, broadcast) and `ime`.
`system.py` has `wm`, `settings`, `dumpsys`, `getprop`, `uiautomator` and `cmd`; `toolbox.py`
the toybox basics. `DeviceCommands.table()` is all of them.
"""

from __future__ import annotations

import base64
import binascii

from pixelpilot.env.android.keys import parse_keycode
from pixelpilot.env.android.testdevice.apk import apk_identity, apk_path
from pixelpilot.env.android.testdevice.phone import ADB_IME, VirtualPhone
from pixelpilot.env.android.testdevice.render import encode_png, encode_raw
from pixelpilot.env.android.testdevice.shell import CommandFn, Invocation
from pixelpilot.env.android.testdevice.system import DISPLAY_IDS, SystemCommands
from pixelpilot.env.android.testdevice.toolbox import TOOLBOX

MULTI_DISPLAY_WARNING = (
    "[Warning] Multiple displays were found, but no display id is specified! Defaulting to the "
    "first display found, however this default is not guaranteed to be consistent across "
    "captures. A display id should be specified.\n"
    "A display ID can be specified with the [-d display-id] option.\n"
    'See "dumpsys SurfaceFlinger --display-id" for valid display IDs.\n'
)
"""What Android's screencap prints on stderr when a phone has several displays and no -d."""
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
        self.commands: dict[str, CommandFn] = {
            "input": self.input,
            "screencap": self.screencap,
            "pm": self.pm,
            "monkey": self.monkey,
            "am": self.am,
            "ime": self.ime,
            **TOOLBOX,
        }
        self.system = SystemCommands(phone, self.commands)
        self.commands.update(self.system.table())

    def table(self) -> dict[str, CommandFn]:
        """name -> implementation of every command the device knows."""
        return dict(self.commands)

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
        """`screencap [-p] [-d DISPLAY_ID] [FILE]`: raw pixels or a PNG, to stdout or FILE.

        With several displays and no `-d`, Android prints MULTI_DISPLAY_WARNING on stderr and
        captures the first display.
        """
        args = list(inv.argv[1:])
        png = "-p" in args
        args = [a for a in args if a != "-p"]
        display: int | None = None
        if "-d" in args:
            at = args.index("-d")
            wanted = args[at + 1] if at + 1 < len(args) else ""
            ids = DISPLAY_IDS[: self.phone.displays]
            if wanted not in ids and not (wanted.isdigit() and int(wanted) == 0):
                inv.err(f"Display Id '{wanted}' is not valid.\n")
                return 1
            display = ids.index(wanted) if wanted in ids else 0
            del args[at : at + 2]
        elif self.phone.displays > 1:
            inv.err(MULTI_DISPLAY_WARNING)
        if display:
            image = self.phone.secondary_frame()
            data = encode_png(image) if png else encode_raw(image, self.phone.raw_header)
        else:
            data = self.phone.screencap_png() if png else self.phone.screencap_raw()
        if args:
            path = inv.resolve(args[0])
            if path.endswith(".png") and not png:
                data = self.phone.screencap_png() if not display else encode_png(image)
            inv.fs.write(path, data)
        else:
            inv.write(data)
        return 0

    # ----- packages and activities ---------------------------------------------------------

    def pm(self, inv: Invocation) -> int:
        """`pm list packages [-3|-s|-f] [FILTER]`, `pm path`, `pm install [FLAGS] FILE`,
        `pm uninstall PACKAGE`, `pm clear PACKAGE`."""
        args = inv.argv[1:]
        phone = self.phone
        flags = {a for a in args[2:] if a.startswith("-")}
        if args[:2] == ["list", "packages"]:
            filters = [a for a in args[2:] if not a.startswith("-")]
            installed = phone.catalog.installed
            for package in phone.catalog.packages:
                if "-3" in flags and package not in installed:
                    continue
                if "-s" in flags and package in installed:
                    continue
                if not filters or filters[0] in package:
                    where = f"{apk_path(package)}=" if "-f" in flags else ""
                    inv.out(f"package:{where}{package}\n")
            return 0
        if args[:1] == ["path"] and len(args) == 2:
            if args[1] not in phone.catalog.packages:
                return 1
            inv.out(f"package:{apk_path(args[1])}\n")
            return 0
        if args[:1] == ["install"] and len(args) >= 2:
            return self._install(inv, args[-1])
        if args[:1] == ["uninstall"] and len(args) >= 2:
            if phone.uninstall(args[-1]):
                inv.out("Success\n")
                return 0
            inv.out("Failure [DELETE_FAILED_INTERNAL_ERROR]\n")
            return 1
        if args[:1] == ["clear"] and len(args) == 2:
            if phone.app(args[1]) is None:
                inv.out("Failed\n")
                return 1
            phone.force_stop(args[1])
            inv.out("Success\n")
            return 0
        inv.err(f"Error: the test device does not support `pm {' '.join(args)}`\n")
        return 1

    def _install(self, inv: Invocation, path: str) -> int:
        data = inv.fs.files.get(inv.resolve(path))
        if data is None:
            inv.err(f"Error: Unable to open file: {path}\n")
            inv.err("Consider using a file under /data/local/tmp/\n")
            inv.out("Error: Can't open file: " + path + "\n")
            return 1
        found = apk_identity(path, data)
        if found is None:
            inv.out("Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed to parse APK file]\n")
            return 1
        package, label = found
        self.phone.install(package, label)
        inv.out("Success\n")
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
        if args[0] == "kill" and len(args) >= 2:
            return 0  # background processes: nothing to kill on the test device
        component = _component(args[1:]) if args[0] in ("start", "start-activity") else None
        if component is not None:
            package, _, activity = component.partition("/")
            if activity.startswith(package + "."):
                activity = activity[len(package) :]
            app = self.phone.app(package)
            if app is None or app.activity != f"{package}/{activity}":
                inv.out(f"Starting: Intent {{ cmp={component} }}\n")
                inv.err(f"Error type 3\nError: Activity class {{{component}}} does not exist.\n")
                return 1
            inv.out(f"Starting: Intent {{ cmp={component} }}\n")
            self.phone.launch(package, extras)
            return 0
        if args[0] in ("start", "start-activity") and "-a" in args[:-1]:
            return self._implicit(inv, args)
        if args[0] == "broadcast" and "-a" in args[:-1]:
            action = args[args.index("-a") + 1]
            inv.out(f"Broadcasting: Intent {{ act={action} flg=0x400000 (has extras) }}\n")
            self._adbkeyboard(action, extras)
            inv.out("Broadcast completed: result=0\n")
            return 0
        inv.err(f"Error: the test device does not support `am {' '.join(args)}`\n")
        return 1

    def _implicit(self, inv: Invocation, args: list[str]) -> int:
        """`am start -a ACTION [-d URI]`: a web VIEW opens the browser, a settings action
        (android.settings.*) opens Settings; other actions find no activity."""
        action = args[args.index("-a") + 1]
        data = args[args.index("-d") + 1] if "-d" in args[:-1] else ""
        described = f"act={action}" + (f" dat={data}" if data else "")
        inv.out(f"Starting: Intent {{ {described} }}\n")
        target = None
        if action == "android.intent.action.VIEW" and data.startswith(("http://", "https://")):
            target = "com.android.chrome"
        elif action.startswith("android.settings."):
            target = "com.android.settings"
        if target is None or self.phone.app(target) is None:
            inv.err(f"Error: Activity not started, unable to resolve Intent {{ {described} }}\n")
            return 1
        self.phone.launch(target)
        return 0

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


def _component(args: list[str]) -> str | None:
    """The PACKAGE/ACTIVITY an `am start` names, with -n or as the last argument."""
    if "-n" in args[:-1]:
        return args[args.index("-n") + 1]
    if args and "/" in args[-1] and not args[-1].startswith("-") and "://" not in args[-1]:
        return args[-1]
    return None
