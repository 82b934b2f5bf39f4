"""An offline Android device for tests and CI: a real ADB server over TCP with a virtual phone.

    with AdbTestDevice(DeviceConfig(adbkeyboard=True)) as device:
        env = AndroidEnv(AndroidConfig(device=device.serial))

`pixelpilot android-testdevice --port 5555` runs one from the command line. See `server.py`
for the protocol and `services.py` for shell v2 and sync; `shell.py`, `shparse.py` and
`arith.py` for its `sh -c` and the command record; `commands.py`, `system.py` and `toolbox.py`
for the commands it answers; `fs.py` for its files, `apk.py` for `pm install`; `phone.py`,
`apps.py`, `ui.py`, `render.py` and `hierarchy.py` (`uiautomator dump`) for the screen; and
`faults.py` for fault injection.
"""

from pixelpilot.env.android.testdevice.config import DeviceConfig
from pixelpilot.env.android.testdevice.faults import Faults
from pixelpilot.env.android.testdevice.phone import ADB_IME, DEFAULT_IME, Touch, VirtualPhone
from pixelpilot.env.android.testdevice.server import AdbTestDevice
from pixelpilot.env.android.testdevice.shell import ShellRecord

__all__ = [
    "ADB_IME",
    "DEFAULT_IME",
    "AdbTestDevice",
    "DeviceConfig",
    "Faults",
    "ShellRecord",
    "Touch",
    "VirtualPhone",
]
