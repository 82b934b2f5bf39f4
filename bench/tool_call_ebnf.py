"""Moved: the EBNF of a tool call lives in `pixelpilot.model.qwen.constrain.ebnf` (the
openai backend's server-side constraint sends it); re-exported here for the bench scripts."""

from pixelpilot.model.qwen.constrain.ebnf import tool_call_ebnf, up_to

__all__ = ["tool_call_ebnf", "up_to"]
