"""The Android adapter: a device over ADB (adb-shell), and the ADB test device.

Modules: `env` (AndroidEnv), `config` (AndroidConfig), `adb` (adb-shell transport and keys),
`connection` (reconnects and exactly-once delivery), `capture` (raw and PNG screencap decoding,
display choice), `tree` (the accessibility tree: `uiautomator dump`, AndroidObservation),
`text` (shell quoting, ADBKeyboard), `keys` (key names to Android key codes), `apps` (app name
resolution), `testdevice/` (a real ADB server with a virtual phone for tests and CI).

May import: `pixelpilot.actions`, `pixelpilot.env.base`, `pixelpilot.errors`; adb-shell only
inside functions (the `android` extra). `testdevice/` never imports `env`.
"""

from pixelpilot.env.android.config import AndroidConfig
from pixelpilot.env.android.env import AndroidEnv
from pixelpilot.env.android.tree import AndroidObservation

__all__ = ["AndroidConfig", "AndroidEnv", "AndroidObservation"]
