"""The X11 desktop adapter: mss captures, pyautogui and XTEST act, Xvfb gives a private display
with a window manager, and real applications are started and judged.

Modules: `env` (DesktopEnv), `config` (DesktopConfig), `capture` (mss grabs into reused Pillow
blocks), `geometry` (monitors, origin offsets and HiDPI scale: the one place screenshot pixels
become X11 points), `calibration` (the Tk calibration window), `xvfb` (the private virtual
display), `x11` (display connection and pyautogui loading), `keyboard` and `keys` (typing any
Unicode text through XTEST with spare keycodes), `windows` (top-level windows, focus, titles),
`session` (the window manager and applications started on the display), `apps` (app names to
commands from .desktop entries), `episode` (one episode's applications and task home),
`scratch` (temporary folders swept once their process is gone), `tasks/` (the `desktop:` task
suite and its judges).

May import: `pixelpilot.actions`, `pixelpilot.env.base`, `pixelpilot.errors`; mss, pyautogui and
python-xlib only inside functions (the `desktop` extra).
"""

from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv

__all__ = ["DesktopConfig", "DesktopEnv"]
