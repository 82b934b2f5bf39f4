"""pixelpilot: a perception-plan-act framework for GUI computer-use agents.

Importing this package is cheap: it pulls in no torch, Playwright or X11 library. Heavy
backends live behind extras and are imported inside the module that needs them.
"""

from pixelpilot.errors import PixelpilotError

__version__ = "0.1.0"

__all__ = ["PixelpilotError", "__version__"]
