"""The desktop key vocabulary: canonical key names (pixelpilot.actions.keys) to X keysyms, the
keysym of a character, and what the `type` action accepts. Pure tables and checks, no X needed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from pixelpilot.errors import ActionError

# Canonical key name (pixelpilot.actions.keys) -> X keysym name. None: no such key on a desktop
# keyboard. Single characters are not listed: their keysym comes from the character itself.
KEYSYMS: dict[str, str | None] = {
    "ctrl": "Control_L",
    "alt": "Alt_L",
    "shift": "Shift_L",
    "super": "Super_L",
    "enter": "Return",
    "esc": "Escape",
    "tab": "Tab",
    "backspace": "BackSpace",
    "delete": "Delete",
    "space": "space",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "home": "Home",
    "end": "End",
    "pageup": "Prior",
    "pagedown": "Next",
    "insert": "Insert",
    "capslock": "Caps_Lock",
    "numlock": "Num_Lock",
    "scrolllock": "Scroll_Lock",
    "printscreen": "Print",
    "pause": "Pause",
    "menu": "Menu",
    "clear": "Clear",
    "volume_up": "XF86AudioRaiseVolume",
    "volume_down": "XF86AudioLowerVolume",
    "volume_mute": "XF86AudioMute",
    "power": "XF86PowerOff",
    "camera": "XF86WebCam",
    "search": "XF86Search",
    "back": "XF86Back",
    "media_play_pause": "XF86AudioPlay",
    "media_next": "XF86AudioNext",
    "media_previous": "XF86AudioPrev",
    "brightness_up": "XF86MonBrightnessUp",
    "brightness_down": "XF86MonBrightnessDown",
    "sleep": "XF86Sleep",
    "wakeup": "XF86WakeUp",
    # phone keys with no desktop counterpart
    "call": None,
    "endcall": None,
    "notification": None,
    **{f"f{i}": f"F{i}" for i in range(1, 25)},
}

TYPED_CONTROLS = {"\n": "Return", "\t": "Tab"}
"""Control characters `type` accepts and the key each arrives as (a newline is Enter)."""


def normalize_newlines(text: str) -> str:
    r"""The one newline rule of every environment: "\r\n", a lone "\r" and "\n" each mean one
    Enter, so "\r\n" and "\r" become "\n" before typing."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def char_keysym(char: str) -> int:
    """The X keysym of one printable character: Latin-1 keysyms equal the code point, the rest
    are 0x01000000 + code point (X's Unicode keysyms)."""
    point = ord(char)
    return point if 0x20 <= point <= 0x7E or 0xA0 <= point <= 0xFF else 0x01000000 + point


def check_typable(text: str) -> None:
    r"""Raise ActionError naming the first character `type` cannot deliver exactly.

    Accepted: every assigned, non-surrogate code point that is not a control character,
    plus newlines ("\n", "\r\n" or "\r", each sent as one Enter) and tab.
    """
    for index, char in enumerate(text):
        if char in TYPED_CONTROLS or char == "\r":
            continue
        reason = {
            "Cc": "a control character",
            "Cs": "a lone surrogate",
            "Cn": "an unassigned code point",
        }.get(unicodedata.category(char))
        if reason is not None:
            raise ActionError(
                f"cannot type U+{ord(char):04X} at position {index}: it is {reason}; "
                "only printable text, newlines and tabs can be typed"
            )


def check_keys(keys: Sequence[str]) -> None:
    """Raise ActionError for a canonical key name that no desktop keyboard has."""
    for name in keys:
        if len(name) > 1 and KEYSYMS.get(name) is None:
            raise ActionError(f"key {name!r} does not exist on a desktop keyboard")
