"""The one table from canonical key names (`pixelpilot.actions.keys`) to Playwright's key names.

Playwright names keys after the US keyboard layout's `KeyboardEvent.key` values ("Control",
"ArrowUp", "F5") and knows every printable ASCII character. Device keys that a web page can never
receive (power, camera, call, ...) have no entry and are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pixelpilot.errors import UnsupportedActionError

PLAYWRIGHT_KEYS: dict[str, str] = {
    "ctrl": "Control",
    "alt": "Alt",
    "shift": "Shift",
    "super": "Meta",
    "enter": "Enter",
    "esc": "Escape",
    "tab": "Tab",
    "backspace": "Backspace",
    "delete": "Delete",
    "space": "Space",
    "up": "ArrowUp",
    "down": "ArrowDown",
    "left": "ArrowLeft",
    "right": "ArrowRight",
    "home": "Home",
    "end": "End",
    "pageup": "PageUp",
    "pagedown": "PageDown",
    "insert": "Insert",
    "capslock": "CapsLock",
    "numlock": "NumLock",
    "scrolllock": "ScrollLock",
    "printscreen": "PrintScreen",
    "pause": "Pause",
    "menu": "ContextMenu",
    "volume_up": "AudioVolumeUp",
    "volume_down": "AudioVolumeDown",
    "volume_mute": "AudioVolumeMute",
    "media_play_pause": "MediaPlayPause",
    "media_next": "MediaTrackNext",
    "media_previous": "MediaTrackPrevious",
    # Playwright's layout stops at F12.
    **{f"f{i}": f"F{i}" for i in range(1, 13)},
}


@dataclass(frozen=True)
class KeyPlan:
    """How to deliver a Key action: press `chord` (in order, released in reverse), or, for a
    lone character outside the US layout, insert `text` as typed input."""

    chord: tuple[str, ...] = ()
    text: str = ""


def _is_layout_char(key: str) -> bool:
    return len(key) == 1 and " " <= key <= "~"


def plan_keys(keys: Sequence[str]) -> KeyPlan:
    """Translate canonical key names into a KeyPlan.

    Raises:
        UnsupportedActionError: a key has no browser equivalent, or a character outside the US
            layout is combined with other keys.
    """
    if len(keys) == 1 and len(keys[0]) == 1 and not _is_layout_char(keys[0]):
        return KeyPlan(text=keys[0])
    chord = []
    for key in keys:
        if key.isascii() and key.isalnum() and len(key) == 1:
            # Key codes, not characters: with Shift held, "KeyA" gives "A" where "a" stays "a".
            chord.append(f"Key{key.upper()}" if key.isalpha() else f"Digit{key}")
        elif _is_layout_char(key):
            chord.append(key)
        elif key in PLAYWRIGHT_KEYS:
            chord.append(PLAYWRIGHT_KEYS[key])
        elif len(key) == 1:
            raise UnsupportedActionError(
                f"the browser cannot press {key!r} together with other keys; "
                "type it on its own with the type action"
            )
        else:
            raise UnsupportedActionError(
                f"the browser has no {key!r} key; browser keys are printable characters and "
                + ", ".join(sorted(PLAYWRIGHT_KEYS))
            )
    return KeyPlan(chord=tuple(chord))


def press_keys(keyboard: Any, keys: Sequence[str], call: Callable[[str, Any], Any]) -> str:
    """Press `keys` on a Playwright `keyboard` through `call(label, fn)` (the session's
    watchdog): a chord goes down in order and up in reverse; a plan of text is inserted.
    Returns what was sent, for the record.

    Raises:
        UnsupportedActionError: a key with no browser equivalent (see `plan_keys`).
    """
    plan = plan_keys(keys)
    if plan.text:
        call("insert text", lambda: keyboard.insert_text(plan.text))
        return f"keyboard.insert_text({plan.text!r})"

    def chord() -> None:
        for key in plan.chord:
            keyboard.down(key)
        for key in reversed(plan.chord):
            keyboard.up(key)

    call("press keys", chord)
    return f"keyboard chord {'+'.join(plan.chord)}"
