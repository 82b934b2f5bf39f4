"""A local HTTP server on a daemon thread: bound to loopback, an ephemeral port by default.

Shared by the web sandbox and the MiniWoB++ page server: subclasses say how to build the
`ThreadingHTTPServer` (which handler, what it serves) and inherit the start/stop lifecycle.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self

from pixelpilot.errors import EnvError


class LocalServer(ABC):
    """Serves on http://HOST:PORT from a daemon thread until `stop()`; a context manager too.

    Args:
        host: the address to bind (loopback by default: nothing is exposed).
        port: the TCP port; 0 picks a free ephemeral port.
    """

    label = "local HTTP server"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @abstractmethod
    def build(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        """Create the bound server (subclasses choose the handler)."""

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The root URL without a trailing slash, e.g. "http://127.0.0.1:41234".

        Raises:
            EnvError: the server is not running.
        """
        if self._server is None:
            raise EnvError(f"the {self.label} is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        """Start serving (a no-op when already running) and return the base URL.

        Raises:
            EnvError: the address could not be bound.
        """
        if self._server is None:
            try:
                server = self.build((self.host, self.port))
            except OSError as exc:
                raise EnvError(
                    f"cannot start the {self.label} on {self.host}:{self.port}: {exc}"
                ) from exc
            server.daemon_threads = True
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"pixelpilot-{self.label.replace(' ', '-')}",
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and release the port. Safe to call more than once."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
