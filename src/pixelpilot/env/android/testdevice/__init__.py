"""An offline Android device for tests and CI: a real ADB server over TCP with a virtual phone.

    with AdbTestDevice(DeviceConfig(adbkeyboard=True)) as device:
        env = AndroidEnv(AndroidConfig(device=device.serial))

`pixelpilot android-testdevice --port 5555` runs one from the command line. See `server.py`
for the protocol, `shell.py` for the command record, `phone.py` and `apps.py` for the screen,
and `faults.py` for fault injection.
"""

from pixelpilot.env.android.testdevice.faults import Faults
from pixelpilot.env.android.testdevice.phone import ADB_IME, DEFAULT_IME, Touch, VirtualPhone
from pixelpilot.env.android.testdevice.server import AdbTestDevice, DeviceConfig
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
