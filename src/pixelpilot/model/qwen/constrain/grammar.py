"""The grammar of one well-formed Qwen tool call, as an incremental byte-level state machine.

Constrained decoding (`constrain.processor`) asks this machine, token by token, whether
the bytes a token would add can still end in a valid call:

    <tool_call>\\n{"name": "TOOL", "arguments": {"action": "ACTION", ...}}\\n</tool_call>

with a known action of the tool, exactly the arguments that action needs (each at most once, in
any order, optional ones allowed), integers inside the model's resized image for coordinates,
JSON strings of bounded length (valid UTF-8) for text, key names that `normalize_key` accepts,
bounded numbers for times and scroll amounts, and the schema's enums for status and button.
Separators are json.dumps's (", " and ": "), which is what the model was trained on. The machine
works on bytes so that byte-level BPE tokens that split a UTF-8 character are judged exactly.

States are immutable tuples (hashable, so the caller can cache transitions). `finish(state)`
gives a shortest byte string completing the call; the caller uses its length to guarantee that a
call always closes within the token budget.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Protocol

from pixelpilot.actions.keys import CANONICAL_KEYS, normalize_key
from pixelpilot.model.qwen.constrain.values import (
    Decimal,
    KeyArray,
    Pick,
    Point,
    SignedInt,
    String,
)

State = tuple[Any, ...]

# Required: always; "no": optional; "no_pointer": required when the pointer position is unknown
# (a click without a coordinate acts at the pointer).
Need = Literal["yes", "no", "no_pointer"]

MAX_SECONDS = 599  # integer part of a time; Wait accepts at most 600 s
MAX_SCROLL = 100_000  # pixels
MAX_KEYS = 5  # keys in one chord


class ValueMachine(Protocol):
    def start(self) -> Any: ...
    def step(self, sub: Any, byte: int) -> Any: ...
    def done(self, sub: Any) -> bool: ...
    def finish(self, sub: Any) -> bytes: ...


@dataclass(frozen=True)
class Arg:
    """One argument an action takes: its value kind and whether it is required."""

    kind: Literal["point", "scroll", "seconds", "positive_seconds", "text", "any_text", "keys"]
    need: Need = "yes"
    key_name: bool = False  # a single key name (mobile_use key)
    options: tuple[str, ...] = ()  # an enum of strings


_POINT = Arg("point")
_POINT_AT_POINTER = Arg("point", need="no_pointer")
_TEXT = Arg("text")
_ANSWER = Arg("any_text")
_STATUS = Arg("text", options=("success", "failure"))
_CLICK = {"coordinate": _POINT_AT_POINTER}

# Per tool, per action: the arguments besides "action". Actions needing the pointer position
# whatever their arguments (a drag starts at the pointer) are listed in NEEDS_POINTER.
ARGUMENTS: dict[str, dict[str, dict[str, Arg]]] = {
    "computer_use": {
        "key": {"keys": Arg("keys")},
        "type": {"text": _TEXT},
        "mouse_move": {"coordinate": _POINT},
        "left_click": _CLICK,
        "right_click": _CLICK,
        "middle_click": _CLICK,
        "double_click": _CLICK,
        "triple_click": _CLICK,
        "left_click_drag": {"coordinate": _POINT},
        "scroll": {"pixels": Arg("scroll"), "coordinate": _POINT_AT_POINTER},
        "wait": {"time": Arg("seconds")},
        "terminate": {"status": _STATUS},
        "answer": {"text": _ANSWER},
    },
    "mobile_use": {
        "key": {"text": Arg("text", key_name=True)},
        "click": {"coordinate": _POINT},
        "long_press": {"coordinate": _POINT, "time": Arg("positive_seconds")},
        "swipe": {"coordinate": _POINT, "coordinate2": _POINT},
        "type": {"text": _TEXT},
        "system_button": {"button": Arg("text", options=("Back", "Home", "Menu", "Enter"))},
        "open": {"text": _TEXT},
        "wait": {"time": Arg("seconds")},
        "terminate": {"status": _STATUS},
        "answer": {"text": _ANSWER},
    },
}
NEEDS_POINTER = frozenset({("computer_use", "left_click_drag")})

# Spellings models use besides the canonical names; kept only where normalize_key accepts them.
_KEY_SPELLINGS = (
    "Return",
    "Escape",
    "BackSpace",
    "Control",
    "control",
    "cmd",
    "command",
    "win",
    "meta",
    "option",
    "Page_Up",
    "Page_Down",
    "arrowup",
    "arrowdown",
    "arrowleft",
    "arrowright",
    "KEYCODE_HOME",
    "KEYCODE_BACK",
    "KEYCODE_ENTER",
    "KEYCODE_DEL",
)


@cache
def key_names() -> tuple[str, ...]:
    """Every key name the grammar lets a model write: names in lower, Title and UPPER case,
    common spellings, and single printable ASCII characters; all accepted by normalize_key."""
    names: set[str] = set()
    for base in (*CANONICAL_KEYS, *_KEY_SPELLINGS):
        names.update({base, base.lower(), base.capitalize(), base.upper()})
    names.update(chr(c) for c in range(0x20, 0x7F))
    accepted = []
    for name in sorted(names):
        try:
            normalize_key(name)
        except ValueError:
            continue
        accepted.append(name)
    return tuple(accepted)


def _json_options(values: Sequence[str]) -> Pick:
    return Pick(tuple(json.dumps(v).encode() for v in values))


class ToolCallGrammar:
    """The calls one tool accepts for one image size.

    Args:
        tool: "computer_use" or "mobile_use".
        actions: the action names the tool accepts (its schema's enum plus extra actions).
        width, height: the model's resized image size in pixels; coordinates must lie inside.
        pointer_known: whether the pointer position is known (clicks may omit their coordinate
            and drags start at the pointer only then).
        max_text_chars: the longest text argument, in characters.

    Raises:
        ValueError: an action has no entry in ARGUMENTS (a new schema needs one).
    """

    PREFIX = '<tool_call>\n{{"name": "{tool}", "arguments": {{"action": '
    SUFFIX = b"}\n</tool_call>"

    def __init__(
        self,
        tool: str,
        actions: Sequence[str],
        width: int,
        height: int,
        *,
        pointer_known: bool = False,
        max_text_chars: int = 512,
    ) -> None:
        table = ARGUMENTS.get(tool, {})
        unknown = [a for a in actions if a not in table]
        if unknown:
            raise ValueError(f"no grammar for {tool} actions: {', '.join(unknown)}")
        self.tool = tool
        self.size = (width, height)
        self.pointer_known = pointer_known
        self.actions = tuple(a for a in actions if pointer_known or (tool, a) not in NEEDS_POINTER)
        self._action_pick = _json_options(self.actions)
        self._action_of = {json.dumps(a).encode(): a for a in self.actions}
        self._args: dict[str, dict[str, Arg]] = {a: table[a] for a in self.actions}
        self._machines: dict[tuple[str, str], ValueMachine] = {}
        for action, args in self._args.items():
            for key, arg in args.items():
                self._machines[action, key] = self._machine(arg, width, height, max_text_chars)
        prefix = self.PREFIX.format(tool=tool).encode()
        self.initial: State = (None, (), ("lit", prefix, 0, "action"))
        self._finish: dict[State, bytes] = {}
        self._required: dict[str, frozenset[str]] = {}
        self._keys: dict[tuple[str, tuple[str, ...]], dict[bytes, str]] = {}

    @staticmethod
    def _machine(arg: Arg, width: int, height: int, max_chars: int) -> ValueMachine:
        if arg.options:
            return _json_options(arg.options)
        if arg.key_name:
            return _json_options(key_names())
        match arg.kind:
            case "point":
                return Point(width - 1, height - 1)
            case "scroll":
                return SignedInt(MAX_SCROLL)
            case "seconds" | "positive_seconds":
                return Decimal(MAX_SECONDS, positive=arg.kind == "positive_seconds")
            case "text" | "any_text":
                return String(1 if arg.kind == "text" else 0, max_chars)
            case "keys":
                return KeyArray(_json_options(key_names()), MAX_KEYS)

    def required(self, action: str) -> frozenset[str]:
        """The argument names `action` must carry here."""
        if action not in self._required:
            self._required[action] = frozenset(
                key
                for key, arg in self._args[action].items()
                if arg.need == "yes" or (arg.need == "no_pointer" and not self.pointer_known)
            )
        return self._required[action]

    def _key_options(self, action: str, used: tuple[str, ...]) -> dict[bytes, str]:
        """`KEY": ` (after the opening quote) -> KEY, for the arguments not written yet."""
        if (action, used) not in self._keys:
            self._keys[action, used] = {
                json.dumps(k).encode()[1:] + b": ": k for k in self._args[action] if k not in used
            }
        return self._keys[action, used]

    # -- transitions ---------------------------------------------------------------------------

    def advance(self, state: State, data: bytes) -> State | None:
        """The state after `data`, or None when no valid call starts with what was seen + data."""
        current: State | None = state
        for byte in data:
            current = self.step(current, byte)  # type: ignore[arg-type]
            if current is None:
                return None
        return current

    def step(self, state: State, byte: int) -> State | None:
        action, used, node = state
        kind = node[0]
        if kind == "lit":
            _, text, pos, nxt = node
            if text[pos] != byte:
                return None
            if pos + 1 < len(text):
                return (action, used, ("lit", text, pos + 1, nxt))
            return (action, used, self._enter(nxt))
        if kind == "action":
            prefix = node[1] + bytes((byte,))
            if prefix in self._action_pick.complete:
                return (self._action_of[prefix], (), ("after",))
            return (None, (), ("action", prefix)) if prefix in self._action_pick.prefixes else None
        if kind == "keyname":
            prefix = node[1] + bytes((byte,))
            options = self._key_options(action, used)
            if prefix in options:
                key = options[prefix]
                return (action, used, ("val", key, self._machines[action, key].start()))
            if any(o.startswith(prefix) for o in options):
                return (action, used, ("keyname", prefix))
            return None
        if kind == "val":
            _, key, sub = node
            machine = self._machines[action, key]
            nxt = machine.step(sub, byte)
            if nxt is not None:
                return (action, used, ("val", key, nxt))
            if machine.done(sub):
                return self.step((action, tuple(sorted((*used, key))), ("after",)), byte)
            return None
        if kind == "after":
            if byte == ord(",") and self._key_options(action, used):
                return (action, used, ("lit", b' "', 0, "key"))
            if byte == ord("}") and self.required(action) <= set(used):
                return (action, used, ("lit", self.SUFFIX, 0, "end"))
            return None
        return None  # "end": the call is complete

    @staticmethod
    def _enter(nxt: str) -> tuple[Any, ...]:
        if nxt == "action":
            return ("action", b"")
        if nxt == "key":
            return ("keyname", b"")
        return ("end",)

    def is_complete(self, state: State) -> bool:
        """True once the closing `</tool_call>` has been written."""
        return bool(state[2][0] == "end")

    def accepts(self, text: str) -> bool:
        """Whether `text` is exactly one complete call."""
        end = self.advance(self.initial, text.encode("utf-8"))
        return end is not None and self.is_complete(end)

    # -- shortest completions ------------------------------------------------------------------

    def finish(self, state: State) -> bytes:
        """A shortest byte string that completes the call from `state` (b"" when complete)."""
        cached = self._finish.get(state)
        if cached is None:
            cached = self._compute_finish(state)
            self._finish[state] = cached
        return cached

    def _compute_finish(self, state: State) -> bytes:
        action, used, node = state
        kind = node[0]
        if kind == "lit":
            _, text, pos, nxt = node
            return bytes(text[pos:]) + self.finish((action, used, self._enter(nxt)))
        if kind == "action":
            prefix = node[1]
            return min(
                (
                    option[len(prefix) :] + self._finish_args(self._action_of[option], ())
                    for option in self._action_pick.options
                    if option.startswith(prefix)
                ),
                key=len,
            )
        if kind == "keyname":
            prefix = node[1]
            candidates = []
            for option, key in self._key_options(action, used).items():
                if option.startswith(prefix):
                    machine = self._machines[action, key]
                    rest = option[len(prefix) :] + machine.finish(machine.start())
                    candidates.append(rest + self._finish_args(action, (*used, key)))
            return min(candidates, key=len)
        if kind == "val":
            _, key, sub = node
            value = self._machines[action, key].finish(sub)
            return value + self._finish_args(action, tuple(sorted((*used, key))))
        if kind == "after":
            return self._finish_args(action, used)
        return b""

    def _finish_args(self, action: str, used: Sequence[str]) -> bytes:
        """From just after a value: the missing required arguments, then the closing text."""
        out = b""
        for key in sorted(self.required(action) - set(used)):
            machine = self._machines[action, key]
            out += b", " + json.dumps(key).encode() + b": " + machine.finish(machine.start())
        return out + b"}" + self.SUFFIX
