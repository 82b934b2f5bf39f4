"""Fault injection for the test device: dropped connections, silence, slowness, disappearance.

Messages are counted over the device's whole life, across connections, in the order they
arrive (handshakes included), so a fault lands wherever the Nth message happens to be: in a
handshake, on a command's OPEN, on an acknowledgement in the middle of a screenshot.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pixelpilot.env.android.testdevice.wire import OPEN, Message


class Faults(BaseModel):
    """What goes wrong, and when. Every count is of messages received by the device."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drop_after: int | None = Field(
        None, ge=1, description="close the connection once, on the Nth message received"
    )
    drop_every: int | None = Field(
        None, ge=2, description="close the connection on every Nth message received"
    )
    drop_when: Literal["before", "after", "alternate"] = Field(
        "before",
        description="before: the triggering message is discarded unhandled; after: it is "
        "handled (a command runs) but nothing is sent back; alternate: after, before, ...",
    )
    max_drops: int | None = Field(None, ge=1, description="stop dropping after this many drops")
    match: str | None = Field(
        None,
        description="count only OPEN messages whose command contains this text toward "
        "drop_after and drop_every (e.g. 'input tap' to drop only around taps)",
    )
    silent_after: int | None = Field(
        None, ge=1, description="from the Nth message on, answer nothing (sockets stay open)"
    )
    silent_seconds: float | None = Field(
        None, gt=0, description="how long the silence lasts in seconds (default: for good)"
    )
    delay_ms: int = Field(0, ge=0, description="milliseconds to wait before every reply")
    gone_after: int | None = Field(
        None, ge=1, description="on the Nth message, close every connection and stop listening"
    )


@dataclass(frozen=True)
class Decision:
    """What to do with one received message."""

    drop: bool = False
    handle_first: bool = False
    silent_until: float | None = None
    gone: bool = False


class FaultState:
    """Counts messages and decides, thread-safely, which fault (if any) each one triggers."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.messages = 0
        self.matched = 0
        self.drops = 0
        self._silent_until: float | None = None
        self._lock = threading.Lock()

    def on_message(self, message: Message) -> Decision:
        f = self.faults
        with self._lock:
            self.messages += 1
            n = self.messages
            if f.gone_after is not None and n >= f.gone_after:
                return Decision(gone=True)
            if f.silent_after is not None and n == f.silent_after:
                seconds = f.silent_seconds if f.silent_seconds is not None else math.inf
                self._silent_until = time.monotonic() + seconds
            silent = self._silent_until
            if silent is not None and time.monotonic() < silent:
                return Decision(silent_until=silent)
            if f.match is not None:
                if message.command != OPEN or f.match.encode() not in message.data:
                    return Decision()
                self.matched += 1
                n = self.matched
            due = (f.drop_after is not None and n == f.drop_after) or (
                f.drop_every is not None and n % f.drop_every == 0
            )
            if not due or (f.max_drops is not None and self.drops >= f.max_drops):
                return Decision()
            self.drops += 1
            if f.drop_when == "alternate":
                handle_first = self.drops % 2 == 1
            else:
                handle_first = f.drop_when == "after"
            return Decision(drop=True, handle_first=handle_first)
