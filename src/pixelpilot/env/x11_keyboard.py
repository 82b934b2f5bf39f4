"""The desktop keyboard: canonical key names to X keysyms, chords through XTEST, and exact
Unicode typing through xdotool.

Chords are pressed with python-xlib's XTEST `fake_input` (what pyautogui does underneath) on the
adapter's own connection, because pyautogui's X11 key table is computed once, at import, for
whichever display was $DISPLAY then, and it silently ignores keys it has no code for. Here a key
the keyboard map lacks is refused with a message instead.

Text is typed with `xdotool type`, which reaches every Unicode character (it binds a spare
keycode to characters the keyboard map lacks); pyautogui's `write` drops non-ASCII text.
"""

from __future__ import annotations

import os
import subprocess
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pixelpilot._extras import require
from pixelpilot.errors import ActionError, EnvError

# Canonical key name (pixelpilot.actions.keys) -> X keysym name. None: no such key on a desktop
# keyboard. Single printable characters are not listed: their keysym is derived from the
# character itself (see `char_keysym`).
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

TYPABLE_CONTROLS = frozenset("\n\t")
"""Control characters `type` accepts: a newline arrives as Enter, a tab as Tab."""


@dataclass(frozen=True)
class Keystroke:
    """One key of a chord resolved on a keyboard map.

    Attributes:
        name: the canonical key name it came from.
        keysym: the X keysym name pressed.
        keycode: the X keycode carrying that keysym.
        shifted: the keysym sits on the keycode's shift level, so Shift is held with it.
    """

    name: str
    keysym: str
    keycode: int
    shifted: bool


def char_keysym(char: str) -> int:
    """The X keysym of one character: Latin-1 keysyms equal the code point, the rest are
    0x01000000 + code point (X's Unicode keysyms)."""
    point = ord(char)
    return point if 0x20 <= point <= 0x7E or 0xA0 <= point <= 0xFF else 0x01000000 + point


def resolve_keys(display: Any, keys: Sequence[str]) -> list[Keystroke]:
    """Map canonical key names to keycodes on `display`'s keyboard map.

    Raises:
        ActionError: a key has no desktop counterpart, or the keyboard map has no keycode for
            it (the message names the key and suggests `type` for text).
    """
    xk = require("Xlib.XK", "desktop", package="python-xlib")
    xk.load_keysym_group("xf86")
    strokes = []
    for name in keys:
        if len(name) == 1:
            keysym, label = char_keysym(name), name
        else:
            label_or_none = KEYSYMS.get(name)
            if label_or_none is None:
                raise ActionError(f"key {name!r} does not exist on a desktop keyboard")
            label = label_or_none
            keysym = xk.string_to_keysym(label)
        found = {index: code for code, index in display.keysym_to_keycodes(keysym)}
        # index 0 is the plain level and 1 the shifted one; higher levels need AltGr or a
        # second layout group, which a chord cannot select reliably.
        if 0 in found:
            strokes.append(Keystroke(name, label, found[0], False))
        elif 1 in found:
            strokes.append(Keystroke(name, label, found[1], True))
        else:
            hint = "; use the type action for text" if len(name) == 1 else ""
            raise ActionError(
                f"key {name!r} (keysym {label}) is not on this X display's keyboard map{hint}"
            )
    return strokes


def press_chord(display: Any, strokes: Sequence[Keystroke]) -> list[str]:
    """Press `strokes` in order and release them in reverse, holding Shift for shifted keys.

    The keys pressed so far are released even when a later press fails, so no key stays down.

    Returns:
        The keysym names in press order (Shift_L included where it was added).

    Raises:
        EnvError: the X connection failed.
    """
    xtest = require("Xlib.ext.xtest", "desktop", package="python-xlib")
    xlib_x = require("Xlib.X", "desktop", package="python-xlib")
    xlib_error = require("Xlib.error", "desktop", package="python-xlib")
    xk = require("Xlib.XK", "desktop", package="python-xlib")
    shift_code = display.keysym_to_keycode(xk.string_to_keysym("Shift_L"))
    sequence: list[tuple[int, str]] = []
    for stroke in strokes:
        held = {code for code, _ in sequence}
        if stroke.shifted and shift_code not in held:
            sequence.append((shift_code, "Shift_L"))
        if stroke.keycode not in held:  # a key already down (e.g. an explicit shift) stays down
            sequence.append((stroke.keycode, stroke.keysym))
    pressed: list[int] = []
    try:
        for code, _ in sequence:
            xtest.fake_input(display, xlib_x.KeyPress, code)
            pressed.append(code)
        display.sync()
    except (xlib_error.XError, xlib_error.ConnectionClosedError) as exc:
        raise EnvError(f"pressing {'+'.join(s.name for s in strokes)} failed: {exc}") from exc
    finally:
        try:
            for code in reversed(pressed):
                xtest.fake_input(display, xlib_x.KeyRelease, code)
            display.sync()
        except (xlib_error.XError, xlib_error.ConnectionClosedError):
            pass  # the connection is gone; the press error above is the one to report
    return [label for _, label in sequence]


def check_typable(text: str) -> None:
    """Raise ActionError naming the first character `type` cannot deliver exactly.

    Accepted: every assigned, non-surrogate code point that is not a control character,
    plus newline and tab.
    """
    for index, char in enumerate(text):
        if char in TYPABLE_CONTROLS:
            continue
        category = unicodedata.category(char)
        reason = {
            "Cc": "a control character",
            "Cs": "a lone surrogate",
            "Cn": "an unassigned code point",
        }.get(category)
        if reason is not None:
            hint = "; use \\n for a new line" if char == "\r" else ""
            raise ActionError(
                f"cannot type U+{ord(char):04X} at position {index}: it is {reason}; "
                f"only printable text, newlines and tabs can be typed{hint}"
            )


def type_text(xdotool: str, display_name: str, text: str, *, interval_ms: int) -> str:
    """Type `text` into the focused window with xdotool, newlines as Enter and tabs as Tab.

    The text goes through stdin, so its length and a leading "-" do not matter.

    Returns:
        The command line run (for the step record).

    Raises:
        ActionError: `text` holds a character that cannot be typed (see `check_typable`).
        EnvError: xdotool failed or did not finish in time.
    """
    check_typable(text)
    command = [xdotool, "type", "--delay", str(interval_ms), "--file", "-"]
    # xdotool spends about interval_ms per character; allow that plus a generous margin.
    timeout = 10.0 + len(text) * (interval_ms + 20) / 1000
    try:
        result = subprocess.run(
            command,
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            env={**os.environ, "DISPLAY": display_name},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise EnvError(f"xdotool type did not finish within {timeout:.0f} s") from exc
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip() or f"status {result.returncode}"
        raise EnvError(f"xdotool type failed: {message}")
    return f"xdotool type --delay {interval_ms} ({len(text)} characters)"
