"""A read-only HTTP server for the MiniWoB++ html folder, for the flight-booking tasks.

The flight pages load their form in an iframe and reach into it from the parent page
(`contentWindow.$miniwob`); Chromium gives `file://` frames opaque origins, so that access
fails and `WOB_TASK_READY` never turns true. Served from one http origin, it works. The
standard tasks need no server and keep their `file://` URLs.
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pixelpilot.errors import EnvError


class _QuietHandler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        # Every episode must see the pages as shipped, never a cached copy.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


class FolderServer:
    """Serves `root` on http://127.0.0.1:PORT (an ephemeral port) until `stop()`.

    Args:
        root: the folder to serve (read-only: the handler only answers GET and HEAD).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Start serving (a no-op when running); returns the base URL ending in "/".

        Raises:
            EnvError: no port could be bound on 127.0.0.1.
        """
        if self._server is None:
            handler = partial(_QuietHandler, directory=str(self.root))
            try:
                server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            except OSError as exc:
                raise EnvError(f"cannot start the MiniWoB++ page server: {exc}") from exc
            server.daemon_threads = True
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="pixelpilot-miniwob-pages",
                daemon=True,
            )
            self._thread.start()
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def stop(self) -> None:
        """Stop serving and release the port. Safe to call more than once."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
