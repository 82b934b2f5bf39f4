"""The test device's system services as their shell commands: `wm`, `settings`, `dumpsys`,
`getprop`, `uiautomator` and `cmd`, each printing what Android 14 prints for the forms that
client libraries parse (sizes, density, rotation, focus, screen power, the top activity).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pixelpilot.actions import Size
from pixelpilot.env.android.testdevice.hierarchy import DUMP_PATH, dump
from pixelpilot.env.android.testdevice.phone import VirtualPhone
from pixelpilot.env.android.testdevice.shell import CommandFn, Invocation

DISPLAY_IDS = ("4619827259835644672", "4619827551948147201", "4619827551948147202")
"""The physical display ids `dumpsys SurfaceFlinger --display-id` lists, first is built in."""
_ROTATIONS = ("ROTATION_0", "ROTATION_90", "ROTATION_180", "ROTATION_270")


def props(phone: VirtualPhone) -> dict[str, str]:
    """What `getprop` reports."""
    return {
        "ro.product.model": "pixelpilot test device",
        "ro.product.manufacturer": "pixelpilot",
        "ro.product.brand": "pixelpilot",
        "ro.product.name": "pixelpilot",
        "ro.product.device": "pixelpilot",
        "ro.product.cpu.abi": "x86_64",
        "ro.build.version.release": "14",
        "ro.build.version.sdk": "34",
        "ro.build.type": "userdebug",
        "ro.serialno": "PIXELPILOT0001",
        "ro.sf.lcd_density": str(phone.physical_density),
        "sys.boot_completed": "1",
        "init.svc.bootanim": "stopped",
    }


class SystemCommands:
    """`wm`, `settings`, `dumpsys`, `getprop`, `uiautomator` and `cmd` for one phone.

    Args:
        phone: the VirtualPhone.
        commands: the whole command table, which `cmd SERVICE ...` dispatches into.
    """

    def __init__(self, phone: VirtualPhone, commands: Mapping[str, CommandFn]) -> None:
        self.phone = phone
        self.commands = commands
        self.settings: dict[str, str] = {
            "system/accelerometer_rotation": "0",
            "system/screen_off_timeout": "600000",
            "global/adb_enabled": "1",
            "global/development_settings_enabled": "1",
            "global/airplane_mode_on": "0",
        }

    def table(self) -> dict[str, CommandFn]:
        return {
            "wm": self.wm,
            "settings": self.settings_command,
            "dumpsys": self.dumpsys,
            "getprop": self.getprop,
            "uiautomator": self.uiautomator,
            "cmd": self.cmd,
        }

    # ----- wm ------------------------------------------------------------------------------

    def wm(self, inv: Invocation) -> int:
        args = [a for a in inv.argv[1:]]
        if "-d" in args[:-1]:  # the built-in display is the only one with a window manager
            del args[args.index("-d") : args.index("-d") + 2]
        phone = self.phone
        what, rest = (args[0], args[1:]) if args else ("", [])
        if what == "size" and not rest:
            inv.out(f"Physical size: {phone.physical.width}x{phone.physical.height}\n")
            if phone.override_size is not None:
                inv.out(
                    f"Override size: {phone.override_size.width}x{phone.override_size.height}\n"
                )
            return 0
        if what == "density" and not rest:
            inv.out(f"Physical density: {phone.physical_density}\n")
            if phone.override_density is not None:
                inv.out(f"Override density: {phone.override_density}\n")
            return 0
        if what == "size" and len(rest) == 1:
            if rest[0] == "reset":
                phone.override_size = None
            else:
                found = re.fullmatch(r"(\d+)x(\d+)", rest[0])
                if found is None or 0 in (int(found[1]), int(found[2])):
                    inv.err(f"Error: bad size {rest[0]}\n")
                    return 1
                phone.override_size = Size(int(found[1]), int(found[2]))
            phone.apply_geometry()
            return 0
        if what == "density" and len(rest) == 1:
            if rest[0] == "reset":
                phone.override_density = None
            elif rest[0].isdigit() and int(rest[0]) > 0:
                phone.override_density = int(rest[0])
            else:
                inv.err(f"Error: bad number {rest[0]}\n")
                return 1
            phone.apply_geometry()
            return 0
        inv.err("usage: wm size [WxH|reset] | wm density [DPI|reset]\n")
        return 1

    # ----- settings ------------------------------------------------------------------------

    def settings_command(self, inv: Invocation) -> int:
        args = list(inv.argv[1:])
        if args[:1] == ["--user"] and len(args) > 2:
            args = args[2:]
        if len(args) == 3 and args[0] == "get":
            inv.out(self.get(args[1], args[2]) + "\n")
            return 0
        if len(args) == 4 and args[0] == "put":
            return self.put(inv, args[1], args[2], args[3])
        if len(args) == 3 and args[0] == "delete":
            self.settings.pop(f"{args[1]}/{args[2]}", None)
            inv.out("Deleted 1 rows\n")
            return 0
        if len(args) == 2 and args[0] == "list":
            for key in sorted(k for k in self.settings if k.startswith(args[1] + "/")):
                inv.out(f"{key.partition('/')[2]}={self.settings[key]}\n")
            return 0
        inv.err("usage: settings [--user 0] get|put|delete|list NAMESPACE [KEY [VALUE]]\n")
        return 1

    def get(self, namespace: str, key: str) -> str:
        if f"{namespace}/{key}" == "secure/default_input_method":
            return self.phone.ime
        if f"{namespace}/{key}" == "system/user_rotation":
            return str(self.phone.rotation)
        return self.settings.get(f"{namespace}/{key}", "null")

    def put(self, inv: Invocation, namespace: str, key: str, value: str) -> int:
        if namespace not in ("system", "secure", "global"):
            inv.err(f"Invalid namespace '{namespace}'\n")
            return 1
        if f"{namespace}/{key}" == "system/user_rotation":
            if value not in ("0", "1", "2", "3"):
                inv.err(f"Error: user_rotation must be 0-3, not {value}\n")
                return 1
            if self.settings.get("system/accelerometer_rotation", "0") == "0":
                self.phone.rotate(int(value))
        self.settings[f"{namespace}/{key}"] = value
        return 0

    # ----- dumpsys -------------------------------------------------------------------------

    def dumpsys(self, inv: Invocation) -> int:
        service, args = (inv.argv[1], inv.argv[2:]) if len(inv.argv) > 1 else ("", [])
        phone = self.phone
        w, h = phone.screen.size
        density = phone.screen.density
        if service == "window":
            focused = phone.foreground()
            pw, ph = phone.override_size or phone.physical
            inv.out(
                "WINDOW MANAGER DISPLAY CONTENTS (dumpsys window displays)\n"
                "  Display: mDisplayId=0 rootTasks=1\n"
                f"    init={phone.physical.width}x{phone.physical.height} "
                f"{phone.physical_density}dpi base={pw}x{ph} {density}dpi cur={w}x{h} "
                f"app={w}x{h - phone.screen.nav_height}\n"
                f"    mCurrentRotation={_ROTATIONS[phone.rotation]}\n"
                "WINDOW MANAGER WINDOWS (dumpsys window windows)\n"
                f"  mCurrentFocus=Window{{1a2b3c u0 {focused}}}\n"
                f"  mFocusedApp=ActivityRecord{{4d5e6f u0 {focused} t7}}\n"
                f"  mScreenOn={'true' if phone.screen_on else 'false'}\n"
            )
            return 0
        if service == "display":
            self._display(inv)
            return 0
        if service == "power":
            on = phone.screen_on
            inv.out(
                "POWER MANAGER (dumpsys power)\n"
                f"  mWakefulness={'Awake' if on else 'Asleep'}\n"
                f"  mInteractive={'true' if on else 'false'}\n"
                f"  mHoldingDisplaySuspendBlocker={'true' if on else 'false'}\n"
                f"Display Power: state={'ON' if on else 'OFF'}\n"
            )
            return 0
        if service == "activity" and args[:1] in (["top"], ["activities"], ["a"], []):
            top = phone.top
            inv.out(
                "ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)\n"
                f"TASK {top.package} id=7 userId=0\n"
                f"  ACTIVITY {top.activity} 4d5e6f pid=4321\n"
                f"  mResumedActivity: ActivityRecord{{4d5e6f u0 {top.activity} t7}}\n"
            )
            return 0
        if service == "SurfaceFlinger" and args == ["--display-id"]:
            for index in range(phone.displays):
                name = "Built-in Screen" if index == 0 else "HDMI Screen"
                inv.out(
                    f"Display {DISPLAY_IDS[index]} (HWC display {index}): port={index} "
                    f'pnpId=GGL displayName="{name}"\n'
                )
            return 0
        inv.err(f"Can't find service: {service}\n")
        return 0

    def _display(self, inv: Invocation) -> int:
        phone = self.phone
        w, h = phone.screen.size
        inv.out(
            "DISPLAY MANAGER (dumpsys display)\n"
            "  mViewports=[DisplayViewport{type=INTERNAL, valid=true, isActive=true, "
            f"displayId=0, uniqueId='local:{DISPLAY_IDS[0]}', physicalPort=0, "
            f"orientation={phone.rotation}, logicalFrame=Rect(0, 0 - {w}, {h}), "
            f"deviceWidth={phone.physical.width}, deviceHeight={phone.physical.height}}}]\n"
            f"Display Devices: size={phone.displays}\n"
        )
        for index in range(phone.displays):
            size = phone.physical if index == 0 else phone.secondary_frame().size
            inv.out(
                f'  DisplayDeviceInfo{{"{"Built-in Screen" if index == 0 else "HDMI Screen"}": '
                f'uniqueId="local:{DISPLAY_IDS[index]}", {size[0]} x {size[1]}, '
                f"density {phone.physical_density if index == 0 else 160}}}\n"
            )
        inv.out(
            "Logical Displays: size=1\n  Display 0:\n"
            f'    mBaseDisplayInfo=DisplayInfo{{"Built-in Screen", displayId 0, real {w} x {h}, '
            f"rotation {phone.rotation}, density {phone.screen.density}}}\n"
        )
        return 0

    # ----- the rest ------------------------------------------------------------------------

    def getprop(self, inv: Invocation) -> int:
        values = props(self.phone)
        if len(inv.argv) > 1:
            inv.out(values.get(inv.argv[1], inv.argv[2] if len(inv.argv) > 2 else "") + "\n")
        else:
            inv.out("".join(f"[{k}]: [{v}]\n" for k, v in sorted(values.items())))
        return 0

    def uiautomator(self, inv: Invocation) -> int:
        args = [a for a in inv.argv[1:] if a != "--compressed"]
        if args[:1] != ["dump"] or len(args) > 2:
            inv.err("Usage: uiautomator dump [--compressed] [FILE]\n")
            return 1
        path = args[1] if len(args) == 2 else DUMP_PATH
        if not path.startswith("/dev/") and path != "/proc/self/fd/1":
            path = inv.resolve(path)
        if self.phone.animating:  # uiautomator waits for an idle screen, then gives up
            inv.out("ERROR: could not get idle state.\n")
            return 1
        xml = dump(self.phone).encode()
        if path in ("/dev/tty", "/dev/stdout", "/proc/self/fd/1"):
            inv.write(xml)
        else:
            if not inv.fs.is_dir(inv.fs.parent(path)):
                inv.err(f"ERROR: could not write {path}\n")
                return 1
            inv.fs.write(path, xml)
        inv.out(f"UI hierchary dumped to: {path}\n")  # sic: uiautomator's own spelling
        return 0

    def cmd(self, inv: Invocation) -> int:
        """`cmd SERVICE ARGS`: package, activity, window, settings and input, as their shell
        commands (`pm`, `am`, `wm`, `settings`, `input`) answer them."""
        aliases = {
            "package": "pm",
            "activity": "am",
            "window": "wm",
            "settings": "settings",
            "input": "input",
        }
        if len(inv.argv) < 2:
            inv.err("cmd: No service specified; use -l to list all running services.\n")
            return 20
        if inv.argv[1] == "-l":
            inv.out("".join(f"{name}\n" for name in sorted(aliases)))
            return 0
        target = aliases.get(inv.argv[1])
        if target is None:
            inv.err(f"cmd: Can't find service: {inv.argv[1]}\n")
            return 20
        inv.argv = [target, *inv.argv[2:]]
        return self.commands[target](inv)
