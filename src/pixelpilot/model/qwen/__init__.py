"""Qwen2.5-VL: one protocol flow shared by the in-process and the server backend.

The protocol (`schema`, `tools`, `encode`, `prompt`, `parse`, `grounding`, `vision`) turns an
observation and history into messages and model text into a Prediction; the backends only differ
in how they get text for messages: `transformers_backend` runs the model in-process (`config`,
`loading`, `inputs`, `constrain/` for the tool-call grammar), `openai_backend` asks an
OpenAI-compatible server. `tiny` builds a random-weight checkpoint for tests.

May import: `pixelpilot.actions`, `pixelpilot.model.base`, `pixelpilot.errors`; torch and
transformers only inside functions (the `qwen` extra).
"""
