"""The browser environment's options (`--env browser`, `[env.browser]` in a config file)."""

from __future__ import annotations

import os
import posixpath
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pixelpilot.actions import Size
from pixelpilot.errors import ConfigError


def local_folder_origin(host: str, path: str) -> str:
    """The guard's origin of a local file: `file://` + the real folder it is in, with symbolic
    links resolved and a trailing slash (a path ending in "/" or naming a folder is its own
    folder); a file on another host (`file://HOST/...`) is `file://HOST/`.

    Args:
        host: the URL's host ("" or "localhost" for this machine).
        path: the URL's path, percent-decoded.
    """
    if host.lower() not in ("", "localhost"):
        return f"file://{host.lower()}/"
    logical = posixpath.normpath("/" + path.lstrip("/"))
    real = os.path.realpath(logical)  # the browser opens the real file: compare that
    folder = real if path.endswith("/") or os.path.isdir(real) else posixpath.dirname(real)
    return "file://" + folder.rstrip("/") + "/"


def url_origin(url: str) -> str | None:
    """The origin `scheme://host[:port]` of an http(s) URL (default ports dropped), else None."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    suffix = f":{port}" if port is not None and port != default else ""
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    return f"{parts.scheme.lower()}://{host}{suffix}"


class BrowserConfig(BaseModel):
    """Options of the browser environment (`--env browser`, `[env.browser]`)."""

    model_config = ConfigDict(extra="forbid")

    headless: bool = Field(True, description="run Chromium without a window (--headed: False)")
    viewport: str = Field("1280x800", description="page viewport in CSS pixels, WIDTHxHEIGHT")
    device_scale_factor: float = Field(
        1.0, gt=0, le=4, description="device pixels per CSS pixel; screenshots are viewport x this"
    )
    executable_path: str | None = Field(
        None, description="Chromium binary (default: /usr/bin/chromium, else Playwright's own)"
    )
    start_url: str = Field(
        "sandbox:/index.html",
        description="page opened when the task names none; sandbox:/PAGE is a web sandbox page",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="origins (scheme://host[:port]) or local folders (file:///srv/site/) "
        "navigation and open_app may reach besides the start page's",
    )
    navigation_guard: Literal["navigation", "requests", "off"] = Field(
        "navigation",
        description="refuse navigations, form posts and pop-ups to other origins; 'requests': "
        "every request to another origin too; 'off': nothing (see browser/navigation.py)",
    )
    relaunch_on_crash: bool = Field(
        False,
        description="on a crash, reopen the start page and go on instead of ending the episode",
    )
    max_relaunches: int = Field(3, ge=0, description="relaunches allowed per episode")
    settle_timeout: float = Field(
        2.0, ge=0, description="seconds to wait for the page to stop changing after an action"
    )
    settle_interval: float = Field(0.05, gt=0, description="seconds between settle captures")
    call_timeout: float = Field(
        10.0, gt=0, description="seconds one browser call may take before it counts as stuck"
    )
    launch_timeout: float = Field(30.0, gt=0, description="seconds Chromium may take to start")
    drag_steps: int = Field(10, ge=1, description="pointer moves between a drag's press/release")
    extra_args: list[str] = Field(default_factory=list, description="more Chromium switches")

    @field_validator("viewport")
    @classmethod
    def _check_viewport(cls, value: str) -> str:
        try:
            size = Size.parse(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        if not (100 <= size.width <= 8192 and 100 <= size.height <= 8192):
            raise ValueError(
                f"a viewport of {size} is outside the limits: each side from 100 to 8192 CSS "
                "pixels (e.g. 1280x800)"
            )
        return str(size)

    @field_validator("start_url")
    @classmethod
    def _check_start_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme.lower()
        if scheme not in ("sandbox", "http", "https", "file", "data", "about"):
            raise ValueError(
                f"{value!r} is not a URL such as https://example.com/ or sandbox:/index.html"
            )
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        origins = []
        for text in value:
            parts = urlsplit(text.strip())
            if parts.scheme.lower() == "file" and parts.path.endswith("/"):
                origins.append(local_folder_origin(parts.netloc, unquote(parts.path)))
                continue
            origin = url_origin(text)
            if origin is None or parts.path not in ("", "/"):
                raise ValueError(
                    f"{text!r} is not an origin like https://example.com[:port] or a local "
                    "folder like file:///srv/site/"
                )
            origins.append(origin)
        return origins
