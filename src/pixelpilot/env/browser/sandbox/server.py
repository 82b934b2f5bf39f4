"""The sandbox's HTTP server: the package's static pages on 127.0.0.1, on an ephemeral port.

The browser environment starts one when a task (or its start page) names a `sandbox:` URL and
stops it on close. Pages are read from the installed package once, at start, and served from
memory by a daemon thread; nothing is read from or written to the working directory.
"""

from __future__ import annotations

import mimetypes
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import unquote, urlsplit

from pixelpilot.env.httpserver import LocalServer

SANDBOX_SCHEME = "sandbox:"
"""Task start URLs use `sandbox:/PAGE` (e.g. `sandbox:/login.html`); the port is only known once
the server runs, so the environment resolves them with `SandboxServer.resolve`."""


def is_sandbox_url(url: str) -> bool:
    return url.startswith(SANDBOX_SCHEME)


def load_pages() -> dict[str, bytes]:
    """Every file of the sandbox's `static` folder, keyed by its URL path ("/login.html")."""
    root = resources.files(__package__).joinpath("static")
    return {f"/{item.name}": item.read_bytes() for item in root.iterdir() if item.is_file()}


class _Handler(BaseHTTPRequestHandler):
    server: _PageServer

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def _serve(self, *, with_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == "/":
            path = "/index.html"
        body = self.server.pages.get(path)
        if body is None:
            status, body, kind = HTTPStatus.NOT_FOUND, b"not found\n", "text/plain"
        else:
            status = HTTPStatus.OK
            kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        # Every episode must see the pages as shipped, never a cached copy from an earlier run.
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


class _PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], pages: dict[str, bytes]) -> None:
        self.pages = pages
        super().__init__(address, _Handler)


class SandboxServer(LocalServer):
    """Serves the sandbox on http://127.0.0.1:PORT until `stop()`; usable as a context manager.

    Args:
        host: the address to bind (loopback by default: the sandbox is never exposed).
        port: the TCP port; 0 picks a free ephemeral port.
    """

    label = "sandbox server"

    def build(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        return _PageServer(address, load_pages())

    def resolve(self, url: str) -> str:
        """Turn `sandbox:/PAGE` into this server's http URL, starting it if needed; any other
        URL is returned unchanged."""
        if not is_sandbox_url(url):
            return url
        path = url.removeprefix(SANDBOX_SCHEME).lstrip("/")
        return f"{self.start()}/{path}"
