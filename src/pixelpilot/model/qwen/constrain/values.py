"""Byte-level machines for the JSON values of a tool call (used by `constrain.grammar`).

Each machine has `start() -> sub`, `step(sub, byte) -> sub | None`, `done(sub)` (the value may
end here) and `finish(sub) -> bytes` (a shortest ending). Sub-states are small hashable values.
A machine whose value has no closing delimiter (a number) rejects the byte after its last digit;
the caller then checks `done` and hands that byte to what follows the value.
"""

from __future__ import annotations

from typing import Any

_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = frozenset(b'"\\/bfnrt')


def _extend_int(digits: bytes, byte: int, maximum: int) -> bytes | None:
    """digits + byte when that is a JSON integer (no leading zero) no larger than `maximum`."""
    if byte not in _DIGITS or digits == b"0":
        return None
    extended = digits + bytes((byte,))
    return extended if int(extended) <= maximum else None


class Pick:
    """One of a fixed set of byte strings (JSON string literals, so none is a prefix of another)."""

    def __init__(self, options: tuple[bytes, ...]) -> None:
        self.options = options
        self.complete = frozenset(options)
        self.prefixes = frozenset(o[:i] for o in options for i in range(1, len(o) + 1))
        self._shortest: dict[bytes, bytes] = {}

    def start(self) -> bytes:
        return b""

    def step(self, sub: bytes, byte: int) -> bytes | None:
        nxt = sub + bytes((byte,))
        return nxt if nxt in self.prefixes else None

    def done(self, sub: bytes) -> bool:
        return sub in self.complete

    def finish(self, sub: bytes) -> bytes:
        if sub not in self._shortest:
            rests = [o[len(sub) :] for o in self.options if o.startswith(sub)]
            self._shortest[sub] = min(rests, key=lambda r: (len(r), r))
        return self._shortest[sub]


class Point:
    """`[x, y]` with integers 0 <= x <= max_x and 0 <= y <= max_y."""

    def __init__(self, max_x: int, max_y: int) -> None:
        self.max_x = max_x
        self.max_y = max_y

    def start(self) -> tuple[int, bytes]:
        return (0, b"")

    def step(self, sub: tuple[int, bytes], byte: int) -> tuple[int, bytes] | None:
        phase, digits = sub
        if phase == 0:
            return (1, b"") if byte == ord("[") else None
        if phase in (1, 3):
            extended = _extend_int(digits, byte, self.max_x if phase == 1 else self.max_y)
            if extended is not None:
                return (phase, extended)
            if digits and byte == (ord(",") if phase == 1 else ord("]")):
                return (phase + 1, b"")
            return None
        if phase == 2:
            return (3, b"") if byte == ord(" ") else None
        return None

    def done(self, sub: tuple[int, bytes]) -> bool:
        return sub[0] == 4

    def finish(self, sub: tuple[int, bytes]) -> bytes:
        phase, digits = sub
        number = b"" if digits else b"0"
        return (b"[0, 0]", number + b", 0]", b" 0]", number + b"]", b"")[phase]


class SignedInt:
    """A non-zero JSON integer with |value| <= maximum (a scroll amount in pixels)."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum

    def start(self) -> tuple[bool, bytes]:
        return (False, b"")

    def step(self, sub: tuple[bool, bytes], byte: int) -> tuple[bool, bytes] | None:
        negative, digits = sub
        if not digits and not negative and byte == ord("-"):
            return (True, b"")
        if not digits and byte == ord("0"):
            return None
        extended = _extend_int(digits, byte, self.maximum)
        return None if extended is None else (negative, extended)

    def done(self, sub: tuple[bool, bytes]) -> bool:
        return bool(sub[1])

    def finish(self, sub: tuple[bool, bytes]) -> bytes:
        return b"" if sub[1] else b"1"


class Decimal:
    """A JSON number >= 0: integer part <= max_int, up to 3 decimals; > 0 when `positive`."""

    FRACTION_DIGITS = 3

    def __init__(self, max_int: int, *, positive: bool = False) -> None:
        self.max_int = max_int
        self.positive = positive

    def start(self) -> tuple[bytes, bytes | None]:
        return (b"", None)

    def _zero(self, whole: bytes, fraction: bytes | None) -> bool:
        return not (whole.strip(b"0") or (fraction or b"").strip(b"0"))

    def step(self, sub: tuple[bytes, bytes | None], byte: int) -> tuple[bytes, bytes | None] | None:
        whole, fraction = sub
        if fraction is None:
            if byte == ord(".") and whole:
                return (whole, b"")
            if not whole and byte in _DIGITS:
                return (bytes((byte,)), None)
            extended = _extend_int(whole, byte, self.max_int)
            return None if extended is None else (extended, None)
        if byte not in _DIGITS or len(fraction) >= self.FRACTION_DIGITS:
            return None
        nxt = (whole, fraction + bytes((byte,)))
        # a positive value must not run out of decimals while still zero
        if self.positive and len(nxt[1]) == self.FRACTION_DIGITS and self._zero(*nxt):
            return None
        return nxt

    def done(self, sub: tuple[bytes, bytes | None]) -> bool:
        whole, fraction = sub
        if not whole or fraction == b"":
            return False
        return not (self.positive and self._zero(whole, fraction))

    def finish(self, sub: tuple[bytes, bytes | None]) -> bytes:
        whole, fraction = sub
        if self.done(sub):
            return b""
        if not whole:
            return b"1" if self.positive else b"0"
        if fraction is None:  # "0" while a positive value is needed
            return b".1"
        return b"1" if self.positive else b"0"


class String:
    """A JSON string of min_chars..max_chars characters, valid UTF-8, no lone surrogates."""

    # modes: 0 before the opening quote, 1 body, 2 after a backslash, 3 in a \\u escape
    # (aux: hex digits so far), 4 inside a UTF-8 sequence (aux: (bytes left, lo, hi)), 5 closed

    def __init__(self, min_chars: int, max_chars: int) -> None:
        self.min_chars = min_chars
        self.max_chars = max_chars

    def start(self) -> tuple[int, int, Any]:
        return (0, 0, None)

    def step(self, sub: tuple[int, int, Any], byte: int) -> tuple[int, int, Any] | None:
        count, mode, aux = sub
        if mode == 0:
            return (0, 1, None) if byte == ord('"') else None
        if mode == 1:
            return self._body(count, byte)
        if mode == 2:
            if byte in _SIMPLE_ESCAPES:
                return (count, 1, None)
            return (count, 3, b"") if byte == ord("u") else None
        if mode == 3:
            if byte not in _HEX:
                return None
            if aux in (b"d", b"D") and byte not in b"01234567":
                return None  # D800-DFFF: a lone surrogate is not a character
            hex_digits = aux + bytes((byte,))
            return (count, 1, None) if len(hex_digits) == 4 else (count, 3, hex_digits)
        if mode == 4:
            left, lo, hi = aux
            if not lo <= byte <= hi:
                return None
            return (count, 1, None) if left == 1 else (count, 4, (left - 1, 0x80, 0xBF))
        return None

    def _body(self, count: int, byte: int) -> tuple[int, int, Any] | None:
        if byte == ord('"'):
            return (count, 5, None) if count >= self.min_chars else None
        if byte < 0x20 or count >= self.max_chars:
            return None
        if byte == ord("\\"):
            return (count + 1, 2, None)
        if byte < 0x80:
            return (count + 1, 1, None)
        sequence = _utf8_lead(byte)
        return None if sequence is None else (count + 1, 4, sequence)

    def done(self, sub: tuple[int, int, Any]) -> bool:
        return sub[1] == 5

    def finish(self, sub: tuple[int, int, Any]) -> bytes:
        count, mode, aux = sub
        close = b"a" * max(0, self.min_chars - count) + b'"'
        if mode == 0:
            return b'"' + b"a" * self.min_chars + b'"'
        if mode == 1:
            return close
        if mode == 2:
            return b"n" + close
        if mode == 3:
            return b"0" * (4 - len(aux)) + close
        if mode == 4:
            left, lo, _ = aux
            return bytes((int(lo),)) + b"\x80" * (int(left) - 1) + close
        return b""


def _utf8_lead(byte: int) -> tuple[int, int, int] | None:
    """(continuation bytes, lowest, highest allowed next byte) for a UTF-8 lead byte."""
    if 0xC2 <= byte <= 0xDF:
        return (1, 0x80, 0xBF)
    if byte == 0xE0:
        return (2, 0xA0, 0xBF)
    if byte == 0xED:
        return (2, 0x80, 0x9F)
    if 0xE1 <= byte <= 0xEF:
        return (2, 0x80, 0xBF)
    if byte == 0xF0:
        return (3, 0x90, 0xBF)
    if 0xF1 <= byte <= 0xF3:
        return (3, 0x80, 0xBF)
    if byte == 0xF4:
        return (3, 0x80, 0x8F)
    return None


class KeyArray:
    """`[k1, k2, ...]`: 1..max_items items, each one of `item`'s options."""

    # modes: 0 before "[", 1 inside an item (aux: the item's sub-state), 2 after an item,
    # 3 after ",", 4 closed

    def __init__(self, item: Pick, max_items: int) -> None:
        self.item = item
        self.max_items = max_items

    def start(self) -> tuple[int, int, bytes]:
        return (0, 0, b"")

    def step(self, sub: tuple[int, int, bytes], byte: int) -> tuple[int, int, bytes] | None:
        count, mode, aux = sub
        if mode == 0:
            return (0, 1, b"") if byte == ord("[") else None
        if mode == 1:
            nxt = self.item.step(aux, byte)
            if nxt is not None:
                return (count, 1, nxt)
            return self.step((count + 1, 2, b""), byte) if self.item.done(aux) else None
        if mode == 2:
            if byte == ord(",") and count < self.max_items:
                return (count, 3, b"")
            return (count, 4, b"") if byte == ord("]") else None
        if mode == 3:
            return (count, 1, b"") if byte == ord(" ") else None
        return None

    def done(self, sub: tuple[int, int, bytes]) -> bool:
        return sub[1] == 4

    def finish(self, sub: tuple[int, int, bytes]) -> bytes:
        _, mode, aux = sub
        shortest = self.item.finish(b"")
        return (
            b"[" + shortest + b"]",
            self.item.finish(aux) + b"]",
            b"]",
            b" " + shortest + b"]",
            b"",
        )[mode]
