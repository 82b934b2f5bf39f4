"""Top-level windows on an X display: which exist, which has the focus, what they are called,
and asking the window manager to focus one (EWMH: _NET_CLIENT_LIST, _NET_ACTIVE_WINDOW).

Without a window manager there is no client list; the mapped children of the root window stand
in for it, and focus is set directly. Every function here is read-only except `activate`, and
none raises for a window that vanished mid-way (X windows come and go at any moment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pixelpilot._extras import require
from pixelpilot.env.desktop.x11 import window_title


@dataclass(frozen=True)
class WindowInfo:
    """A top-level window: its X id, title and application (WM_CLASS class, e.g. "Mousepad")."""

    id: int
    title: str | None
    app: str | None


def _errors() -> tuple[type[BaseException], ...]:
    error = require("Xlib.error", "desktop", package="python-xlib")
    return (error.XError, error.ConnectionClosedError)


def client_windows(display: Any) -> list[int]:
    """Ids of the managed top-level windows, oldest first (the mapped root children when no
    window manager keeps a client list)."""
    xlib_x = require("Xlib.X", "desktop", package="python-xlib")
    root = display.screen().root
    try:
        prop = root.get_full_property(
            display.intern_atom("_NET_CLIENT_LIST"), xlib_x.AnyPropertyType
        )
        if prop is not None:
            return [int(w) for w in prop.value]
        ids = []
        for child in root.query_tree().children:
            attrs = child.get_attributes()
            if attrs.map_state == xlib_x.IsViewable and not attrs.override_redirect:
                ids.append(int(child.id))
        return ids
    except _errors():
        return []


def active_window(display: Any) -> int | None:
    """The window the window manager reports as active, or the keyboard focus without one."""
    xlib_x = require("Xlib.X", "desktop", package="python-xlib")
    root = display.screen().root
    try:
        prop = root.get_full_property(
            display.intern_atom("_NET_ACTIVE_WINDOW"), xlib_x.AnyPropertyType
        )
        if prop is not None and len(prop.value) and prop.value[0]:
            return int(prop.value[0])
        focus = display.get_input_focus().focus
        return None if isinstance(focus, int) else int(focus.id)
    except _errors():
        return None


def describe_window(display: Any, window_id: int) -> WindowInfo:
    """The title and application class of window `window_id` (None where unknown)."""
    window = display.create_resource_object("window", window_id)
    title = app = None
    try:
        net_name = window.get_full_property(
            display.intern_atom("_NET_WM_NAME"), display.intern_atom("UTF8_STRING")
        )
        if net_name is not None and net_name.value:
            value = net_name.value
            title = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        else:
            title = window.get_wm_name() or None
        wm_class = window.get_wm_class()
        if wm_class:
            app = str(wm_class[1] or wm_class[0])
    except _errors():
        pass
    return WindowInfo(window_id, str(title) if title else None, app)


def window_pid(display: Any, window_id: int) -> int | None:
    """The process id a window declares (_NET_WM_PID), or None."""
    xlib_x = require("Xlib.X", "desktop", package="python-xlib")
    window = display.create_resource_object("window", window_id)
    try:
        prop = window.get_full_property(display.intern_atom("_NET_WM_PID"), xlib_x.AnyPropertyType)
    except _errors():
        return None
    return int(prop.value[0]) if prop is not None and len(prop.value) else None


def focused_window(display: Any) -> WindowInfo | None:
    """The window that receives the keyboard (see `x11.window_title` for how it is found)."""
    active = active_window(display)
    if active is not None:
        info = describe_window(display, active)
        if info.title or info.app:
            return info
    title = window_title(display)
    return None if title is None else WindowInfo(0, title, None)


def activate(display: Any, window_id: int) -> None:
    """Ask the window manager to raise and focus `window_id` (a _NET_ACTIVE_WINDOW request from
    a pager, which window managers honour); without one, set the input focus directly."""
    xlib_x = require("Xlib.X", "desktop", package="python-xlib")
    protocol = require("Xlib.protocol.event", "desktop", package="python-xlib")
    root = display.screen().root
    window = display.create_resource_object("window", window_id)
    try:
        supporting = root.get_full_property(
            display.intern_atom("_NET_SUPPORTING_WM_CHECK"), xlib_x.AnyPropertyType
        )
        if supporting is None:
            window.set_input_focus(xlib_x.RevertToParent, xlib_x.CurrentTime)
        else:
            event = protocol.ClientMessage(
                window=window,
                client_type=display.intern_atom("_NET_ACTIVE_WINDOW"),
                data=(32, [2, xlib_x.CurrentTime, 0, 0, 0]),
            )
            mask = xlib_x.SubstructureRedirectMask | xlib_x.SubstructureNotifyMask
            root.send_event(event, event_mask=mask)
        display.sync()
    except _errors():
        return
