"""The browser adapter: Chromium through Playwright, and the bundled web sandbox.

Modules: `env` (BrowserEnv: device pixels to CSS pixels in one place), `config` (BrowserConfig,
origins), `launch` (finding Chromium, the Playwright session, the watchdog on every call),
`navigation` (the guard that keeps navigations, form posts and pop-ups on the allowed origins),
`keys` (key chords as Playwright key names), `sandbox/` (the sandbox pages, their server and
tasks).

May import: `pixelpilot.actions`, `pixelpilot.env.base`, `pixelpilot.env.httpserver`,
`pixelpilot.errors`; Playwright only inside functions (the `browser` extra).
"""

from pixelpilot.env.browser.config import BrowserConfig
from pixelpilot.env.browser.env import BrowserEnv

__all__ = ["BrowserConfig", "BrowserEnv"]
