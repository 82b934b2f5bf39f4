"""The tool-call constraint sent to an OpenAI-compatible server that enforces it while decoding.

vLLM and SGLang can constrain generation on the server with a grammar. The grammar sent is
`constrain.ebnf.tool_call_ebnf` for the turn's tool, resized image and pointer state: the same
calls the in-process constraint allows (known actions, required arguments, integer coordinates
inside the resized image, valid JSON strings; the token-budget guarantee stays with the
in-process one). Per flavour, the request body gains:

    vllm     "structured_outputs": {"grammar": EBNF}    (vLLM's structured outputs)
    sglang   "ebnf": EBNF                               (SGLang's sampling parameter)

`server_constraint=auto` tries vllm, then sglang; when a server refuses a constrained request
(a 4xx) and accepts the same request without the constraint, that flavour is dropped for the
rest of the run with one logged line, and `off` is what remains after the last. A turn with a
prefilled assistant start (grounding prefill) is sent unconstrained: the grammar would have to
start inside the call.

API: ServerConstraint(setting), .fields(turn) -> dict, .rejected(message) -> str, .active
"""

from __future__ import annotations

from typing import Any, Literal

from pixelpilot.model.qwen.constrain.ebnf import tool_call_ebnf
from pixelpilot.model.qwen.protocol import Turn
from pixelpilot.model.qwen.tools import load_family

Setting = Literal["auto", "vllm", "sglang", "off"]
FLAVOURS: dict[str, tuple[str, ...]] = {
    "auto": ("vllm", "sglang"),
    "vllm": ("vllm",),
    "sglang": ("sglang",),
    "off": (),
}

__all__ = ["FLAVOURS", "ServerConstraint", "Setting"]


class ServerConstraint:
    """Which flavour a policy sends, and the request fields for a turn.

    Args:
        setting: auto, vllm, sglang or off (`--model-opt server_constraint=...`).
    """

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        self._pending = list(FLAVOURS[setting])
        self._grammars: dict[tuple[Any, ...], str] = {}

    @property
    def active(self) -> str:
        """The flavour sent now, or "off"."""
        return self._pending[0] if self._pending else "off"

    def fields(self, turn: Turn) -> dict[str, Any]:
        """The body fields that constrain this turn's reply ({} when off or prefilled)."""
        if not self._pending or turn.prefix:
            return {}
        key = (turn.tool, turn.resized, turn.pointer is not None)
        if key not in self._grammars:
            schema = load_family().tools[turn.tool].parameters
            self._grammars[key] = tool_call_ebnf(
                turn.tool,
                schema["properties"]["action"]["enum"],
                turn.resized.width,
                turn.resized.height,
                pointer_known=turn.pointer is not None,
            )
        grammar = self._grammars[key]
        if self.active == "vllm":
            return {"structured_outputs": {"grammar": grammar}}
        return {"ebnf": grammar}

    def rejected(self, message: str) -> str:
        """Drop the active flavour after the server refused it; returns the line to log."""
        flavour = self._pending.pop(0)
        after = self.active
        then = f"trying {after}" if after != "off" else "sending requests unconstrained"
        return f"the server rejected the {flavour} constraint ({message[:200]}); {then}"
