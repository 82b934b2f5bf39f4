"""A read-only HTTP server for the MiniWoB++ html folder, for the flight-booking tasks.

The flight pages load their form in an iframe and reach into it from the parent page
(`contentWindow.$miniwob`); Chromium gives `file://` frames opaque origins, so that access
fails and `WOB_TASK_READY` never turns true. Served from one http origin, it works. The
standard tasks need no server and keep their `file://` URLs.
"""

from __future__ import annotations

from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pixelpilot.env.httpserver import LocalServer


class _QuietHandler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        # Every episode must see the pages as shipped, never a cached copy.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


class FolderServer(LocalServer):
    """Serves `root` on http://127.0.0.1:PORT (an ephemeral port) until `stop()`.

    Args:
        root: the folder to serve (read-only: the handler only answers GET and HEAD).
    """

    label = "MiniWoB++ page server"

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def build(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        return ThreadingHTTPServer(address, partial(_QuietHandler, directory=str(self.root)))

    def start(self) -> str:
        """Start serving (a no-op when running); returns the base URL ending in "/".

        Raises:
            EnvError: no port could be bound on 127.0.0.1.
        """
        return super().start() + "/"
