"""Turning text into device commands that type it, with no way for the text to become a command.

`input text ARG` runs under `sh -c` on the device, so the argument is single-quoted (inside
single quotes the shell gives every character its literal meaning; a `'` itself is written as
`'\\''`). `input` then decodes `%s` as a space, so spaces are sent as `%s`; a literal `%`
followed by `s` cannot be expressed in one argument and is split across two commands. Newlines
become ENTER key events. `input text` only types printable ASCII; anything else goes through
the ADBKeyboard IME's base64 broadcast, whose argument is shell-safe by construction.
"""

from __future__ import annotations

import base64

ADBKEYBOARD_PACKAGE = "com.android.adbkeyboard"
ADBKEYBOARD_IME = "com.android.adbkeyboard/.AdbIME"
ADBKEYBOARD_HINT = (
    "install ADBKeyboard on the device (https://github.com/senzhk/ADBKeyBoard: "
    "`adb install ADBKeyboard.apk`); pixelpilot enables and selects it while typing"
)
CHUNK = 400
"""The most characters typed by one command (device command lines stay short)."""


def shell_quote(text: str) -> str:
    """`text` as one single-quoted shell word that the shell passes through unchanged."""
    return "'" + text.replace("'", "'\\''") + "'"


def is_plain_ascii(text: str) -> bool:
    """True when `input text` can type all of `text` (printable ASCII and newlines)."""
    return all(" " <= c <= "~" or c in "\n\r" for c in text)


def _pieces(line: str, size: int) -> list[str]:
    segments: list[str] = []
    start = 0
    while (cut := line.find("%s", start)) >= 0:
        segments.append(line[start : cut + 1])  # end one command after the "%"
        start = cut + 1
    segments.append(line[start:])
    return [seg[i : i + size] for seg in segments if seg for i in range(0, len(seg), size)]


def input_text_commands(text: str, *, chunk: int = CHUNK) -> list[str]:
    """Shell commands that type plain-ASCII `text` with `input text` (see the module docs).

    Raises:
        ValueError: `text` holds characters `input text` cannot type (check `is_plain_ascii`).
    """
    if not is_plain_ascii(text):
        raise ValueError("input text only types printable ASCII and newlines")
    commands: list[str] = []
    for index, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if index:
            commands.append("input keyevent KEYCODE_ENTER")
        for piece in _pieces(line, chunk):
            commands.append("input text " + shell_quote(piece.replace(" ", "%s")))
    return commands


def adbkeyboard_commands(text: str, *, chunk: int = CHUNK) -> list[str]:
    """Broadcasts that make the ADBKeyboard IME commit `text` (any Unicode) as it is."""
    return [
        "am broadcast -a ADB_INPUT_B64 --es msg "
        + base64.b64encode(text[i : i + chunk].encode("utf-8")).decode("ascii")
        for i in range(0, len(text), chunk)
    ]
