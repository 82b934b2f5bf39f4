"""The desktop keyboard: key chords and exact Unicode typing through XTEST on python-xlib (what
pyautogui does underneath).

Why not pyautogui or xdotool: pyautogui's X11 key table is computed once, at import, for whichever
display was $DISPLAY then; it silently ignores keys it has no code for, and its `write` drops
non-ASCII text. `xdotool type` reaches any character but sends "\\n" as Linefeed (which many
applications ignore) instead of Enter, and types capitals that are missing from the keyboard map
in lower case (Æ arrives as æ), because it binds a lone keysym and X derives a case pair from it.

Characters and keys that the keyboard map lacks are bound to spare keycodes (ones with no
keysyms), two per keycode (plain and Shift level, never a lone keysym), in batches: a run of text
whose missing characters fit half of the spare keycodes is bound at once and then typed.
Applications read the map lazily, some time after the key events that follow a change, so
rebinding a keycode under keys still queued would change what they type. Hence the two halves
("banks") take turns: a batch never rebinds the keycodes the previous batch typed with, and
before rebinding the keyboard waits for the typed keys to be handled (`pause`: the environment
waits for its screen to settle). Bindings stay until `restore` (the environment's close), and
each action reads the map afresh, so a layout switch is seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from pixelpilot._extras import require
from pixelpilot.env.desktop.keys import (
    KEYSYMS,
    TYPED_CONTROLS,
    char_keysym,
    check_keys,
    check_typable,
    normalize_newlines,
)
from pixelpilot.errors import ActionError, EnvError

MAX_SLOTS = 16
"""Spare keycodes one keyboard binds at most, leaving the rest to other tools (xdotool)."""


class Keyboard:
    """Presses keys and types text on one X display through XTEST.

    Args:
        display: an open python-xlib Display.
        max_slots: spare keycodes it may bind (each carries two characters).
    """

    def __init__(self, display: Any, *, max_slots: int = MAX_SLOTS) -> None:
        self._display = display
        self._x = require("Xlib.X", "desktop", package="python-xlib")
        self._xk = require("Xlib.XK", "desktop", package="python-xlib")
        self._xtest = require("Xlib.ext.xtest", "desktop", package="python-xlib")
        self._xk.load_keysym_group("xf86")
        info = display.display.info
        self._first: int = int(info.min_keycode)
        self._last: int = int(info.max_keycode)
        self._max_slots = max_slots
        self._map: list[tuple[int, ...]] = []
        self._where: dict[int, tuple[int, bool]] = {}  # keysym -> (keycode, on Shift level)
        self._slots: dict[int, tuple[int, int]] = {}  # our keycode -> the pair bound there
        self._next_bank = 0

    # -- the keyboard map --------------------------------------------------------------------

    def _refresh(self) -> None:
        raw = self._display.get_keyboard_mapping(self._first, self._last - self._first + 1)
        self._map = [tuple(syms) for syms in raw]
        for code, pair in list(self._slots.items()):
            if self._map[code - self._first][:2] != pair:  # rebound by someone else: theirs now
                del self._slots[code]
        self._index()

    def _index(self) -> None:
        # Levels 0 (plain) and 1 (Shift) only: higher levels need AltGr or another layout
        # group, which cannot be selected reliably; such characters get bound instead.
        self._where = {}
        for level in (1, 0):  # level 0 is written last, so it wins for a keysym on both
            for offset in range(len(self._map) - 1, -1, -1):  # and the lowest keycode wins
                syms = self._map[offset]
                if len(syms) > level and syms[level]:
                    self._where[syms[level]] = (self._first + offset, level == 1)

    def _foreign(self, keysym: int) -> bool:
        """The keysym is on a keycode that is not one of ours."""
        found = self._where.get(keysym)
        return found is not None and found[0] not in self._slots

    def _claim(self) -> None:
        """Take spare keycodes as our slots, up to max_slots (they stay empty until bound)."""
        spare = [self._first + i for i, syms in enumerate(self._map) if not any(syms)]
        while len(self._slots) < self._max_slots and spare:
            self._slots[spare.pop()] = (0, 0)

    def _bank(self, index: int) -> list[int]:
        """Slots alternate between two banks, so a binding survives the next batch."""
        codes = list(self._slots)
        return codes[index % 2 :: 2] if len(codes) >= 2 else codes

    def _capacity(self) -> int:
        self._claim()
        return 2 * min(len(self._bank(0)), len(self._bank(1)))

    def _bind(self, keysyms: Sequence[int], *, pause: Callable[[], object] | None) -> None:
        """Make every keysym in `keysyms` (at most `_capacity()`) reachable on the next bank,
        calling `pause` first when that rebinds keycodes."""
        # Reuse only the bank bound last: the other one is next in line for rebinding.
        current = set(self._bank(self._next_bank - 1)) if self._next_bank else set()
        if all(self._where.get(sym, (0,))[0] in current for sym in keysyms):
            return
        self._claim()
        pairs = [(a, b) for a, b in zip(keysyms[::2], keysyms[1::2], strict=False)]
        if len(keysyms) % 2:  # never a lone keysym: X would derive a case pair from it
            pairs.append((keysyms[-1], keysyms[-1]))
        bank = self._bank(self._next_bank)
        if len(bank) < len(pairs):
            raise ActionError(
                "the keyboard map lacks characters to type and has no spare keycode to bind them to"
            )
        if pause is not None:
            pause()
        self._next_bank += 1
        width = max(2, len(self._map[0]) if self._map else 2)
        for code, pair in zip(bank, pairs, strict=False):
            syms = (*pair, *pair, *([0] * width))[:width]
            self._display.change_keyboard_mapping(code, [syms])
            self._map[code - self._first] = syms
            self._slots[code] = pair
        self._index()

    def _shift_code(self) -> int:
        codes = [c for c in self._display.get_modifier_mapping()[self._x.ShiftMapIndex] if c]
        if not codes:
            raise EnvError("this X display's keyboard has no Shift key in its modifier map")
        return int(codes[0])

    def keysym(self, label: str) -> int:
        """The keysym named `label` (X's names: "Return", "XF86AudioMute"), or 0 if unknown."""
        # python-xlib spells the XF86 names with an underscore: "XF86_AudioMute".
        found = self._xk.string_to_keysym(label) or self._xk.string_to_keysym(
            label.replace("XF86", "XF86_", 1)
        )
        return int(found)

    def _keysym(self, char: str) -> int:
        named = TYPED_CONTROLS.get(char)
        return self.keysym(named) if named else char_keysym(char)

    def _send(self, events: Sequence[tuple[int, int]]) -> None:
        for kind, code in events:
            self._xtest.fake_input(self._display, kind, code)
        self._display.sync()

    # -- acting ----------------------------------------------------------------------------

    def press_chord(self, keys: Sequence[str]) -> list[str]:
        """Press canonical `keys` in order and release them in reverse, holding Shift for keys
        on the Shift level. Keys already pressed are released even when a later one fails.

        Returns:
            The keysym names in press order (Shift_L included where it was added).

        Raises:
            ActionError: a key has no desktop counterpart or cannot be bound.
        """
        check_keys(keys)
        self._refresh()
        labels, keysyms = [], []
        for name in keys:
            label = name if len(name) == 1 else KEYSYMS[name]
            assert label is not None  # check_keys refused the keys without a keysym
            labels.append(label)
            keysyms.append(char_keysym(name) if len(name) == 1 else self.keysym(label))
        self._bind([sym for sym in dict.fromkeys(keysyms) if not self._foreign(sym)], pause=None)
        shift_code = self._shift_code()
        sequence: list[tuple[int, str]] = []
        for keysym, label in zip(keysyms, labels, strict=True):
            code, shifted = self._where[keysym]
            held = {c for c, _ in sequence}
            if shifted and shift_code not in held:
                sequence.append((shift_code, "Shift_L"))
            if code not in held:  # a key already down (say an explicit shift) stays down
                sequence.append((code, label))
        pressed: list[int] = []
        try:
            for code, _ in sequence:
                self._xtest.fake_input(self._display, self._x.KeyPress, code)
                pressed.append(code)
        finally:
            self._send([(self._x.KeyRelease, code) for code in reversed(pressed)])
        return [label for _, label in sequence]

    def type_text(
        self,
        text: str,
        *,
        interval: float,
        pause: Callable[[], object],
        check: Callable[[], object] = lambda: None,
    ) -> str:
        r"""Type `text` exactly into the focused window: tabs as Tab, and each newline ("\n",
        "\r\n" or a lone "\r") as one Enter.

        Args:
            text: the text; see `check_typable` for what is accepted.
            interval: seconds to wait after each character.
            pause: called before keycodes are rebound while typed keys may still be queued;
                it should return once the application has handled them.
            check: called before each character; it raises to stop typing (the fail-safe).

        Returns:
            A short description for the step record.

        Raises:
            ActionError: a character cannot be typed.
            EnvError: Caps Lock is on (letters would arrive in the wrong case).
        """
        check_typable(text)
        text = normalize_newlines(text)
        lock = self._display.screen().root.query_pointer().mask & self._x.LockMask
        if lock and any(c.lower() != c.upper() for c in text):
            raise EnvError("Caps Lock is on, so typed letters would arrive in the wrong case")
        self._refresh()
        shift_code = self._shift_code()
        first_bank = self._next_bank
        for index, (run, missing) in enumerate(self._runs(text)):
            self._bind(missing, pause=pause if index else None)
            for char in run:
                check()
                code, shifted = self._where[self._keysym(char)]
                events = [(self._x.KeyPress, code), (self._x.KeyRelease, code)]
                if shifted:
                    events = [(self._x.KeyPress, shift_code), *events]
                    events.append((self._x.KeyRelease, shift_code))
                self._send(events)
                if interval:
                    time.sleep(interval)
        batches = self._next_bank - first_bank
        return f"xtest type {len(text)} characters" + (
            f" ({batches} keycode binding batches)" if batches else ""
        )

    def _runs(self, text: str) -> list[tuple[str, list[int]]]:
        """Split `text` into runs whose missing keysyms fit the spare keycodes at once."""
        capacity = self._capacity()
        runs: list[tuple[str, list[int]]] = []
        start, missing = 0, list[int]()
        for index, char in enumerate(text):
            keysym = self._keysym(char)
            if self._foreign(keysym) or keysym in missing:
                continue
            if capacity == 0:
                raise ActionError(
                    f"cannot type {char!r}: it is not on the keyboard map and no spare keycode "
                    "is free to bind it to"
                )
            if len(missing) == capacity:
                runs.append((text[start:index], missing))
                start, missing = index, []
            missing.append(keysym)
        runs.append((text[start:], missing))
        return runs

    def restore(self) -> None:
        """Empty the keycodes this keyboard bound, where they still hold its binding."""
        if not self._slots:
            return
        self._refresh()
        width = max(2, len(self._map[0]) if self._map else 2)
        for code, pair in list(self._slots.items()):
            if pair != (0, 0):
                self._display.change_keyboard_mapping(code, [(0,) * width])
        self._slots.clear()
        self._display.sync()
