"""X11 plumbing shared by the desktop adapter: finding and connecting to a display, locating
helper programs, reading the active window's title, and pointing pyautogui at a display.

python-xlib, pyautogui and the helper programs are imported or looked up inside functions, so
importing this module costs nothing and never touches a display.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from pixelpilot._extras import require
from pixelpilot.actions import Size
from pixelpilot.errors import SetupError

log = logging.getLogger("pixelpilot.env.desktop")


class DesktopUnavailableError(SetupError):
    """The X display cannot be used as configured; the message says how to fix it."""


@contextlib.contextmanager
def x_authority(path: str | None) -> Iterator[None]:
    """Connect to X inside this block without library chatter on stdout, with `path` as the
    authority file when given.

    python-xlib prints "Xlib.xauth: warning, no xauthority details available" on STDOUT when the
    authority file exists but is empty (a stale `~/.Xauthority`), which corrupts output meant to
    be read (the run summary, `calibrate`). Its lines go to the log instead. For a private Xvfb
    (which has no access control), `path` is a file that does not exist, so no authority file
    is consulted at all, whatever state `~/.Xauthority` is in.
    """
    saved = os.environ.get("XAUTHORITY")
    if path is not None:
        os.environ["XAUTHORITY"] = path
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter):
            yield
    finally:
        if path is not None:
            if saved is None:
                os.environ.pop("XAUTHORITY", None)
            else:
                os.environ["XAUTHORITY"] = saved
        for line in chatter.getvalue().splitlines():
            log.warning("%s", line)


def resolve_display(display: str | None) -> str:
    """The display name to use: `display`, else $DISPLAY.

    Raises:
        DesktopUnavailableError: neither is set.
    """
    name = display or os.environ.get("DISPLAY")
    if not name:
        raise DesktopUnavailableError(
            "no X display to drive: set DISPLAY or use --virtual-display 1280x800"
        )
    return name


def require_tool(program: str, apt_package: str) -> str:
    """The full path of `program` on PATH.

    Raises:
        DesktopUnavailableError: it is not installed (the message names the apt package).
    """
    path = shutil.which(program)
    if path is None:
        raise DesktopUnavailableError(
            f"{program} is not installed (the desktop environment needs it); "
            f"install it with: apt-get install {apt_package}"
        )
    return path


def die_with_parent(command: list[str]) -> list[str]:
    """`command` wrapped so the process gets SIGTERM when the thread that started it dies.

    Programs pixelpilot starts on a display (Xvfb, the window manager, launched applications)
    run in their own session, so a terminal's Ctrl-C reaches pixelpilot first and the record is
    finished before they are stopped. If pixelpilot itself is killed outright (SIGKILL, the
    OOM killer), nothing of it runs to stop them; the kernel's parent-death signal
    (PR_SET_PDEATHSIG, set by util-linux `setpriv --pdeathsig`, which then execs the program
    under the same pid) stops them instead. Without setpriv (not Linux) the command is
    returned unchanged.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None or not sys.platform.startswith("linux"):
        return list(command)
    return [setpriv, "--pdeathsig", "TERM", "--", *command]


def connect(name: str) -> Any:
    """Open a python-xlib connection to display `name` and check it can fake input.

    Raises:
        MissingExtraError: python-xlib is not installed.
        DesktopUnavailableError: the display is unreachable or lacks the XTEST extension.
    """
    xlib_display = require("Xlib.display", "desktop", package="python-xlib")
    xlib_error = require("Xlib.error", "desktop", package="python-xlib")
    try:
        display = xlib_display.Display(name)
    except xlib_error.DisplayError as exc:
        raise DesktopUnavailableError(
            f"cannot connect to X display {name!r} ({exc}); start an X server there, "
            "set DISPLAY to a running one, or use --virtual-display 1280x800"
        ) from None
    if not display.has_extension("XTEST"):
        display.close()
        raise DesktopUnavailableError(
            f"X display {name!r} lacks the XTEST extension, which is needed to fake input; "
            "use an X server with XTEST (Xorg and Xvfb have it) or --virtual-display 1280x800"
        )
    return display


def window_title(display: Any) -> str | None:
    """The title of the window that receives the keyboard, if any.

    Works with a window manager (_NET_ACTIVE_WINDOW) and without one (the focus window, or with
    focus PointerRoot the toplevel under the pointer; the first of it and its ancestors that
    carries a name). Never raises: a window that vanished mid-way simply has no title.
    """
    xlib_error = require("Xlib.error", "desktop", package="python-xlib")
    xlib_x = require("Xlib.X", "desktop", package="python-xlib")
    root = display.screen().root
    try:
        window = None
        active = root.get_full_property(
            display.intern_atom("_NET_ACTIVE_WINDOW"), xlib_x.AnyPropertyType
        )
        if active is not None and len(active.value) and active.value[0]:
            window = display.create_resource_object("window", int(active.value[0]))
        if window is None:
            focus = display.get_input_focus().focus
            if focus == xlib_x.PointerRoot:
                # No window manager: keys go to the toplevel under the pointer.
                child = root.query_pointer().child
                window = child if child else None
            elif not isinstance(focus, int):  # an int here is X.NONE: nothing has the focus
                window = focus
        net_name = display.intern_atom("_NET_WM_NAME")
        utf8 = display.intern_atom("UTF8_STRING")
        while window is not None and window.id != root.id:
            prop = window.get_full_property(net_name, utf8)
            if prop is not None and prop.value:
                value = prop.value
                return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            name = window.get_wm_name()
            if name:
                return str(name)
            window = window.query_tree().parent
    except (xlib_error.XError, xlib_error.ConnectionClosedError):
        return None
    return None


def load_pyautogui(display_name: str) -> ModuleType:
    """Import pyautogui, which connects to $DISPLAY at import time.

    When pyautogui is not imported yet, $DISPLAY is pointed at `display_name` for the import
    only, so that a private virtual display works without changing the process environment.

    Raises:
        MissingExtraError: pyautogui is not installed.
    """
    if "pyautogui" in sys.modules:
        return sys.modules["pyautogui"]
    saved = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display_name
    try:
        return require("pyautogui", "desktop")
    finally:
        if saved is None:
            del os.environ["DISPLAY"]
        else:
            os.environ["DISPLAY"] = saved


def failsafe_corners(size: Size) -> list[tuple[int, int]]:
    """The four corner points of an X screen of `size`, where pyautogui's fail-safe trips."""
    right, bottom = size.width - 1, size.height - 1
    return [(0, 0), (0, bottom), (right, 0), (right, bottom)]


def point_pyautogui_at(pyautogui: ModuleType, display: Any, size: Size) -> None:
    """Make pyautogui's next calls drive `display` (an X screen of `size` logical pixels).

    pyautogui keeps one module-level X connection, opened at import on $DISPLAY, and computes
    its fail-safe corners from that screen once. An adapter that owns its own display (a private
    Xvfb) or outlives another one rebinds both before each call; this is the one place that
    touches pyautogui's module state. The fail-safe itself stays as the user set it (on by
    default).
    """
    pyautogui.platformModule._display = display
    pyautogui.FAILSAFE_POINTS[:] = failsafe_corners(size)
