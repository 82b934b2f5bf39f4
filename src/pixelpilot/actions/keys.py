"""The one key-name table: every alias a model or a user may write, mapped to a canonical name.

Canonical names are lowercase: modifiers ("ctrl", "alt", "shift", "super"), named keys ("enter",
"esc", "tab", "backspace", "delete", "space", arrows "up"/"down"/"left"/"right", "home", "end",
"pageup", "pagedown", "insert", "capslock", "f1".."f24"), device keys used by Android keyevents
("volume_up", "volume_down", "power", "camera", "clear", ...), and single printable characters,
which stand for themselves ("a", "7", "/"). Adapters translate canonical names to their own key
codes in one table each.
"""

from __future__ import annotations

MODIFIERS = frozenset({"ctrl", "alt", "shift", "super"})

_NAMED = {
    "enter",
    "esc",
    "tab",
    "backspace",
    "delete",
    "space",
    "up",
    "down",
    "left",
    "right",
    "home",
    "end",
    "pageup",
    "pagedown",
    "insert",
    "capslock",
    "numlock",
    "scrolllock",
    "printscreen",
    "pause",
    "menu",
    # device and media keys (Android keyevents, laptop media keys)
    "volume_up",
    "volume_down",
    "volume_mute",
    "power",
    "camera",
    "clear",
    "search",
    "call",
    "endcall",
    "notification",
    "back",
    "media_play_pause",
    "media_next",
    "media_previous",
    "brightness_up",
    "brightness_down",
    "sleep",
    "wakeup",
}

_ALIASES = {
    "control": "ctrl",
    "ctl": "ctrl",
    "lctrl": "ctrl",
    "rctrl": "ctrl",
    "ctrl_l": "ctrl",
    "control_l": "ctrl",
    "control_r": "ctrl",
    "option": "alt",
    "opt": "alt",
    "alt_l": "alt",
    "alt_r": "alt",
    "lalt": "alt",
    "ralt": "alt",
    "shift_l": "shift",
    "shift_r": "shift",
    "lshift": "shift",
    "rshift": "shift",
    "cmd": "super",
    "command": "super",
    "win": "super",
    "windows": "super",
    "meta": "super",
    "super_l": "super",
    "super_r": "super",
    "return": "enter",
    "kp_enter": "enter",
    "escape": "esc",
    "del": "delete",
    "bksp": "backspace",
    "back_space": "backspace",
    "spacebar": "space",
    "arrowup": "up",
    "arrowdown": "down",
    "arrowleft": "left",
    "arrowright": "right",
    "page_up": "pageup",
    "pgup": "pageup",
    "prior": "pageup",
    "page_down": "pagedown",
    "pgdn": "pagedown",
    "next": "pagedown",
    "ins": "insert",
    "caps_lock": "capslock",
    "num_lock": "numlock",
    "scroll_lock": "scrolllock",
    "print": "printscreen",
    "prtsc": "printscreen",
    "print_screen": "printscreen",
    "volumeup": "volume_up",
    "volumedown": "volume_down",
    "mute": "volume_mute",
    "volume_mute": "volume_mute",
    "keycode_volume_up": "volume_up",
    "keycode_volume_down": "volume_down",
    "keycode_power": "power",
    "keycode_camera": "camera",
    "keycode_clear": "clear",
    "keycode_enter": "enter",
    "keycode_back": "back",
    "keycode_home": "home",
    "keycode_menu": "menu",
    "keycode_del": "backspace",
    "keycode_tab": "tab",
    "keycode_search": "search",
    "play_pause": "media_play_pause",
    "playpause": "media_play_pause",
}

FUNCTION_KEYS = frozenset(f"f{i}" for i in range(1, 25))

CANONICAL_KEYS = frozenset(MODIFIERS | _NAMED | FUNCTION_KEYS)


def normalize_key(name: str) -> str:
    """Return the canonical name of a key, or raise ValueError naming the unknown key.

    Single characters are kept as they are, except that ASCII letters are lowercased ("A" is
    the "a" key; type `shift` with it for a capital).
    """
    if name == " ":
        return "space"
    if len(name) == 1:
        return name.lower() if name.isascii() and name.isalpha() else name
    key = name.strip().lower().replace("-", "_")
    if key.startswith("key_") and len(key) == 5:
        return key[4]
    key = _ALIASES.get(key, key)
    if key in CANONICAL_KEYS:
        return key
    raise ValueError(
        f"unknown key name {name!r}; use a single character or one of: "
        + ", ".join(sorted(CANONICAL_KEYS))
    )
