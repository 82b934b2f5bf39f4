"""Android key codes: the KeyEvent constants, and the table from pixelpilot's canonical key
names (`pixelpilot.actions.keys`) to them.

On a phone, "home" is the Home button (KEYCODE_HOME), matching the model alias
`KEYCODE_HOME -> home`; "end" moves the cursor to the line end (KEYCODE_MOVE_END).
"""

from __future__ import annotations

import string

# android.view.KeyEvent.KEYCODE_* (name without the prefix -> value)
KEYCODES: dict[str, int] = {
    "HOME": 3,
    "BACK": 4,
    "CALL": 5,
    "ENDCALL": 6,
    **{str(d): 7 + d for d in range(10)},
    "STAR": 17,
    "POUND": 18,
    "DPAD_UP": 19,
    "DPAD_DOWN": 20,
    "DPAD_LEFT": 21,
    "DPAD_RIGHT": 22,
    "DPAD_CENTER": 23,
    "VOLUME_UP": 24,
    "VOLUME_DOWN": 25,
    "POWER": 26,
    "CAMERA": 27,
    "CLEAR": 28,
    **{letter: 29 + i for i, letter in enumerate(string.ascii_uppercase)},
    "COMMA": 55,
    "PERIOD": 56,
    "ALT_LEFT": 57,
    "ALT_RIGHT": 58,
    "SHIFT_LEFT": 59,
    "SHIFT_RIGHT": 60,
    "TAB": 61,
    "SPACE": 62,
    "ENTER": 66,
    "DEL": 67,
    "GRAVE": 68,
    "MINUS": 69,
    "EQUALS": 70,
    "LEFT_BRACKET": 71,
    "RIGHT_BRACKET": 72,
    "BACKSLASH": 73,
    "SEMICOLON": 74,
    "APOSTROPHE": 75,
    "SLASH": 76,
    "AT": 77,
    "PLUS": 81,
    "MENU": 82,
    "NOTIFICATION": 83,
    "SEARCH": 84,
    "MEDIA_PLAY_PAUSE": 85,
    "MEDIA_STOP": 86,
    "MEDIA_NEXT": 87,
    "MEDIA_PREVIOUS": 88,
    "PAGE_UP": 92,
    "PAGE_DOWN": 93,
    "ESCAPE": 111,
    "FORWARD_DEL": 112,
    "CTRL_LEFT": 113,
    "CTRL_RIGHT": 114,
    "CAPS_LOCK": 115,
    "SCROLL_LOCK": 116,
    "META_LEFT": 117,
    "META_RIGHT": 118,
    "SYSRQ": 120,
    "BREAK": 121,
    "MOVE_HOME": 122,
    "MOVE_END": 123,
    "INSERT": 124,
    **{f"F{i}": 130 + i for i in range(1, 13)},
    "NUM_LOCK": 143,
    "VOLUME_MUTE": 164,
    "APP_SWITCH": 187,
    "BRIGHTNESS_DOWN": 220,
    "BRIGHTNESS_UP": 221,
    "SLEEP": 223,
    "WAKEUP": 224,
}

KEYCODE_NAMES: dict[int, str] = {value: name for name, value in KEYCODES.items()}

# canonical pixelpilot key name -> KeyEvent name (without "KEYCODE_")
_NAMED: dict[str, str] = {
    "enter": "ENTER",
    "esc": "ESCAPE",
    "tab": "TAB",
    "backspace": "DEL",
    "delete": "FORWARD_DEL",
    "space": "SPACE",
    "up": "DPAD_UP",
    "down": "DPAD_DOWN",
    "left": "DPAD_LEFT",
    "right": "DPAD_RIGHT",
    "home": "HOME",
    "end": "MOVE_END",
    "pageup": "PAGE_UP",
    "pagedown": "PAGE_DOWN",
    "insert": "INSERT",
    "capslock": "CAPS_LOCK",
    "numlock": "NUM_LOCK",
    "scrolllock": "SCROLL_LOCK",
    "printscreen": "SYSRQ",
    "pause": "BREAK",
    "menu": "MENU",
    "volume_up": "VOLUME_UP",
    "volume_down": "VOLUME_DOWN",
    "volume_mute": "VOLUME_MUTE",
    "power": "POWER",
    "camera": "CAMERA",
    "clear": "CLEAR",
    "search": "SEARCH",
    "call": "CALL",
    "endcall": "ENDCALL",
    "notification": "NOTIFICATION",
    "back": "BACK",
    "media_play_pause": "MEDIA_PLAY_PAUSE",
    "media_next": "MEDIA_NEXT",
    "media_previous": "MEDIA_PREVIOUS",
    "brightness_up": "BRIGHTNESS_UP",
    "brightness_down": "BRIGHTNESS_DOWN",
    "sleep": "SLEEP",
    "wakeup": "WAKEUP",
    "ctrl": "CTRL_LEFT",
    "alt": "ALT_LEFT",
    "shift": "SHIFT_LEFT",
    "super": "META_LEFT",
    **{f"f{i}": f"F{i}" for i in range(1, 13)},
}

_PUNCTUATION: dict[str, str] = {
    ",": "COMMA",
    ".": "PERIOD",
    "`": "GRAVE",
    "-": "MINUS",
    "=": "EQUALS",
    "[": "LEFT_BRACKET",
    "]": "RIGHT_BRACKET",
    "\\": "BACKSLASH",
    ";": "SEMICOLON",
    "'": "APOSTROPHE",
    "/": "SLASH",
    "@": "AT",
    "+": "PLUS",
    "*": "STAR",
    "#": "POUND",
}

BUTTONS: dict[str, str] = {"back": "BACK", "home": "HOME", "menu": "MENU", "enter": "ENTER"}
"""The Button action's names -> KeyEvent names."""


def android_keycode(key: str) -> str | None:
    """The `KEYCODE_*` name for a canonical key name, or None when Android has no such key."""
    name = _NAMED.get(key)
    if name is None and len(key) == 1:
        name = key.upper() if key.isascii() and key.isalnum() else _PUNCTUATION.get(key)
    return f"KEYCODE_{name}" if name is not None else None


def parse_keycode(text: str) -> str | None:
    """What `input keyevent` accepts (a number, `KEYCODE_NAME` or `NAME`) as a KEYCODE_ name."""
    if text.isdigit():
        name = KEYCODE_NAMES.get(int(text))
    else:
        name = text.upper().removeprefix("KEYCODE_")
        name = name if name in KEYCODES else None
    return f"KEYCODE_{name}" if name is not None else None


def mappable_keys() -> list[str]:
    """Every canonical key name that has an Android key code (for error messages)."""
    return sorted([*_NAMED, *string.ascii_lowercase, *string.digits, *_PUNCTUATION])
