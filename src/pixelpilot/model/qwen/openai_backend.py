"""OpenAICompatPolicy: Qwen2.5-VL behind an OpenAI-compatible chat endpoint (vLLM, SGLang).

`--model openai:http://127.0.0.1:8000/v1#Qwen/Qwen2.5-VL-7B-Instruct` POSTs to
`<base_url>/chat/completions` with the same prompt as the in-process model: the system message
is the full tool block (`prompt.system_text`), the user content the query/history text followed by
the screenshot, already smart_resized to the configured pixel budget, as a base64 PNG data URL.
The server's chat template renders exactly `prompt.render_prompt`'s text. The server's own
processor must not resize again: keep `max_pixels` at or below the server's (the checkpoints'
default, 16384*28*28, is both sides' default).

Grounding mode (`grounding=true`, ScreenSpot) sends the reference grounding prompt instead
(`qwen.grounding`: computer_use at the resized size, the goal as the whole user turn,
no history). With `grounding_prefill` (the default) the messages end with an assistant message
holding `GROUNDING_PREFIX`, and the body asks the server to continue it rather than open a new
turn: `"continue_final_message": true, "add_generation_prompt": false` (vLLM's and SGLang's chat
extensions; a server without them answers 400, so set grounding_prefill=false there). The reply
is then the continuation only; the prefix is put back in front before parsing (a reply that
already opens a `<tool_call>`, an echo of the prefix included, is parsed as it is).

The messages and the parse are `protocol.build_turn` and `protocol.prediction_from_reply`, the
same as the in-process backend (coordinates in the resized frame, mapped back per axis). A
server that extracts tool calls itself (vLLM's hermes parser) returns them in
`tool_calls`; they are turned back into `<tool_call>` text first.

Server-side constraint (`server_constraint`, default auto): the body also carries the tool-call
grammar for vLLM or SGLang to enforce while decoding (`qwen.server_constraint`). A server that
refuses a constrained request but answers it unconstrained gets the next flavour, then none,
with one logged line (a request refused for another reason keeps its own error and the
flavour); `describe()` records which is in use.

Failures: a timeout, a connection error, HTTP 429 or a 5xx is retried with exponential backoff
(`max_retries` extra attempts, tenacity), then a PolicyError; any other 4xx is one PolicyError
quoting the server's message; a reply without choices is a PolicyError. A model mistake in the
reply is the Prediction's `error`, never raised. Only the standard library's urllib is used.

API: OpenAICompatPolicy(base_url, model, config), .from_spec("BASE_URL#MODEL", config),
     .predict(observation, history) -> Prediction, to_openai_messages(messages) -> list[dict]
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from pydantic import ConfigDict, Field
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from pixelpilot.actions import Observation
from pixelpilot.errors import ConfigError, PolicyError
from pixelpilot.model.base import History, PolicyBase, Prediction
from pixelpilot.model.qwen.grounding import GroundingOptions
from pixelpilot.model.qwen.jsontext import JsonTextError, loads
from pixelpilot.model.qwen.prompt import ImagePart, Message
from pixelpilot.model.qwen.protocol import build_turn, prediction_from_reply
from pixelpilot.model.qwen.server_constraint import ServerConstraint, Setting
from pixelpilot.model.qwen.vision import CHECKPOINT_BUDGET, PixelBudget


class OpenAICompatConfig(GroundingOptions):
    """Options for `--model openai:BASE_URL#MODEL`."""

    model_config = ConfigDict(extra="forbid")

    api_key_env: str = Field(
        "OPENAI_API_KEY", description="environment variable holding the bearer token (optional)"
    )
    timeout: float = Field(120.0, gt=0, description="seconds per HTTP request")
    max_retries: int = Field(3, ge=0, le=10, description="extra attempts on timeouts and 5xx")
    backoff: float = Field(1.0, ge=0, description="seconds before the first retry, then doubled")
    min_pixels: int = Field(CHECKPOINT_BUDGET.min_pixels, gt=0, description="pixels")
    max_pixels: int = Field(CHECKPOINT_BUDGET.max_pixels, gt=0, description="pixels")
    temperature: float = Field(0.0, ge=0, description="0 = greedy")
    max_tokens: int = Field(256, gt=0, description="tokens generated per step")
    image_history: int = Field(0, ge=0, description="earlier screenshots sent as turns")
    server_constraint: Setting = Field(
        "auto",
        description="constrain decoding on the server: vllm (structured outputs grammar), "
        "sglang (ebnf), auto (vllm, then sglang, then off when rejected) or off",
    )


CONNECT_CHECK_SECONDS = 5.0
CREDENTIALS_IN_URL = (
    "the endpoint URL carries a user name or password, which would be recorded in every run; "
    "remove it and put the key in $OPENAI_API_KEY (or the api_key_env option)"
)
logger = logging.getLogger(__name__)


class _Transient(Exception):
    """A failure worth retrying (timeout, connection refused, 429, 5xx)."""


class _Refused(PolicyError):
    """The server refused the request (a 4xx other than 429): not worth the same retry."""


def to_openai_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Chat-completions messages: images as base64 PNG data URLs, system/assistant as strings."""
    result: list[dict[str, Any]] = []
    for message in messages:
        if message.role != "user":
            result.append({"role": message.role, "content": message.text})
            continue
        content: list[dict[str, Any]] = []
        for part in message.parts:
            if isinstance(part, ImagePart):
                if part.image is None:
                    raise ValueError("an OpenAI request needs the screenshot pixels")
                content.append({"type": "image_url", "image_url": {"url": _data_url(part)}})
            else:
                content.append({"type": "text", "text": part.text})
        result.append({"role": "user", "content": content})
    return result


def _data_url(part: ImagePart) -> str:
    assert part.image is not None
    buffer = io.BytesIO()
    # Level 1: a few times faster than the default, lossless all the same.
    part.image.save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _reply_text(reply: dict[str, Any]) -> str:
    try:
        message = reply["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise PolicyError(f"the endpoint's reply has no choices: {str(reply)[:300]}") from None
    content = message.get("content") or ""
    if isinstance(content, list):  # some servers return content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    calls = []
    for call in message.get("tool_calls") or []:
        function = call.get("function", {})
        arguments = function.get("arguments", "{}")
        # An undecodable string stays a string: the parser reports it as the model's mistake.
        with contextlib.suppress(JsonTextError):
            arguments = loads(arguments) if isinstance(arguments, str) else arguments
        try:
            call_text = json.dumps(
                {"name": function.get("name"), "arguments": arguments}, ensure_ascii=False
            )
        except (ValueError, TypeError, RecursionError):  # server-decoded values past our bounds
            call_text = json.dumps(
                {"name": str(function.get("name")), "arguments": "<unprintable>"}
            )
        calls.append(f"<tool_call>\n{call_text}\n</tool_call>")
    return "\n".join([content, *calls]) if calls else str(content)


class OpenAICompatPolicy(PolicyBase):
    """Qwen2.5-VL served behind `/v1/chat/completions`."""

    Config = OpenAICompatConfig

    def __init__(self, base_url: str, model: str, config: OpenAICompatConfig) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"the endpoint must be an http(s) URL, got {base_url!r}")
        if "@" in urllib.parse.urlsplit(base_url).netloc:  # never echo it: it holds a password
            raise ConfigError(CREDENTIALS_IN_URL)
        if not model:
            raise ConfigError("the endpoint needs a model name: openai:BASE_URL#MODEL")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.base_url = base_url
        self.model = model
        self.config = config
        self.budget = PixelBudget(config.min_pixels, config.max_pixels)
        self.image_history = config.image_history
        self.spec = f"openai:{base_url}#{model}"
        self.constraint = ServerConstraint(config.server_constraint)

    @classmethod
    def from_spec(cls, argument: str, config: OpenAICompatConfig) -> OpenAICompatPolicy:
        base_url, hash_sign, model = argument.partition("#")
        if "@" in urllib.parse.urlsplit(base_url).netloc:
            raise ConfigError(CREDENTIALS_IN_URL)
        if not hash_sign or not base_url:
            raise ConfigError(
                "expected --model openai:BASE_URL#MODEL, e.g. "
                f"openai:http://127.0.0.1:8000/v1#Qwen/Qwen2.5-VL-7B-Instruct; got {argument!r}"
            )
        return cls(base_url, model, config)

    def predict(self, observation: Observation, history: History) -> Prediction:
        started = time.perf_counter()
        turn = build_turn(
            observation,
            history,
            budget=self.budget,
            image_history=self.image_history,
            grounding=self.config.grounding,
            grounding_prefill=self.config.grounding_prefill,
        )
        body: dict[str, Any] = {"model": self.model, "messages": to_openai_messages(turn.messages)}
        if turn.prefix:
            body["messages"].append({"role": "assistant", "content": turn.prefix})
            body.update(continue_final_message=True, add_generation_prompt=False)
        body.update(temperature=self.config.temperature, max_tokens=self.config.max_tokens)
        prepared = time.perf_counter()
        fields = self.constraint.fields(turn)
        try:
            answer = self._post({**body, **fields})
        except _Refused as exc:
            if not fields:
                raise
            # The same request without the constraint: if the server refuses that too, the
            # request itself is wrong (its error is raised, the flavour kept); if it answers,
            # the constraint was refused: drop that flavour for the rest of the run.
            answer = self._post(body)
            logger.warning(self.constraint.rejected(str(exc)))
        reply = _reply_text(answer)
        timings = {"preprocess": prepared - started, "request": time.perf_counter() - prepared}
        return prediction_from_reply(reply, turn, timings)

    def check_ready(self) -> None:
        """Open (and close) a TCP connection to the server, so that a dead endpoint is one line
        before the first step instead of retries in every step.

        Raises:
            PolicyError: the host does not resolve, refuses the connection or does not accept
                it within CONNECT_CHECK_SECONDS.
        """
        parts = urllib.parse.urlsplit(self.base_url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((host, port), timeout=CONNECT_CHECK_SECONDS):
                return
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise PolicyError(
                f"cannot reach the model server at {self.base_url} ({reason}); start it, or "
                "fix the address in --model openai:BASE_URL#MODEL"
            ) from None

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.config.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        retrying = Retrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=wait_exponential(multiplier=self.config.backoff, max=30),
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            reply: dict[str, Any] = retrying(self._attempt, data, headers)
        except _Transient as exc:
            attempts = self.config.max_retries + 1
            raise PolicyError(
                f"{self.url} failed {attempts} time(s); last error: {exc}. Is the server up?"
            ) from exc
        return reply

    def _attempt(self, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            message = _server_message(exc)
            if exc.code == 429 or exc.code >= 500:
                raise _Transient(f"HTTP {exc.code}: {message}") from exc
            raise _Refused(f"{self.url} answered HTTP {exc.code}: {message}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Transient(f"{type(reason).__name__}: {reason}") from exc
        try:
            reply = json.loads(payload)
        except (ValueError, RecursionError):  # JSONDecodeError, an int past the digit limit
            raise PolicyError(f"{self.url} did not answer JSON: {payload[:300]!r}") from None
        if not isinstance(reply, dict):
            raise PolicyError(f"{self.url} answered {type(reply).__name__}, not an object")
        return reply

    def describe(self) -> dict[str, object]:
        return {
            "backend": "openai",
            "spec": self.spec,
            "base_url": self.base_url,
            "model": self.model,
            "min_pixels": self.budget.min_pixels,
            "max_pixels": self.budget.max_pixels,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            "image_history": self.image_history,
            "grounding": self.config.grounding,
            "grounding_prefill": self.config.grounding and self.config.grounding_prefill,
            "server_constraint": self.constraint.active,
        }


def _server_message(exc: urllib.error.HTTPError) -> str:
    """The server's error message: OpenAI's {"error": {"message"}} or the body's start."""
    try:
        raw = exc.read().decode("utf-8", "replace")
    except OSError:
        raw = ""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return raw.strip()[:300] or str(exc.reason)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(error, str):
        return error
    if isinstance(data, dict) and data.get("detail"):
        return str(data["detail"])
    return raw.strip()[:300]
