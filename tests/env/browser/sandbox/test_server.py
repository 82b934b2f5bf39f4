"""The web sandbox's server and task catalogue (no browser needed)."""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from html.parser import HTMLParser

import pytest

from pixelpilot.env.browser.sandbox import SANDBOX_TASKS, SandboxServer, get_task, list_tasks
from pixelpilot.env.browser.sandbox.server import load_pages
from pixelpilot.env.tasks import resolve_task
from pixelpilot.errors import EnvError, UnknownNameError


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_server_serves_the_pages_on_loopback_and_stops() -> None:
    server = SandboxServer()
    base = server.start()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
    assert server.start() == base, "start() twice keeps the same server"
    status, kind, body = fetch(f"{base}/")
    assert status == 200 and kind.startswith("text/html") and b"Web sandbox" in body
    status, kind, _ = fetch(f"{base}/style.css?v=1")
    assert status == 200 and kind.startswith("text/css")
    assert fetch(f"{base}/missing.html")[0] == 404
    assert fetch(f"{base}/%2e%2e/catalogue.py")[0] == 404
    assert server.resolve("sandbox:/login.html") == f"{base}/login.html"
    assert server.resolve("https://example.com/") == "https://example.com/"
    port = int(base.rsplit(":", 1)[1])
    server.stop()
    server.stop()
    with pytest.raises(EnvError, match="not running"):
        _ = server.base_url
    with socket.socket() as probe:  # nothing listens there any more (TIME_WAIT is allowed)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_resolve_starts_the_server_on_demand() -> None:
    server = SandboxServer()
    try:
        assert not server.running
        url = server.resolve("sandbox:/help.html")
        assert server.running and fetch(url)[0] == 200
    finally:
        server.stop()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith(("http", "#")):
                self.targets.append(value)


def test_every_page_link_and_asset_exists() -> None:
    pages = load_pages()
    assert len(pages) >= 15
    for path, body in pages.items():
        if path.endswith(".html"):
            parser = _Links()
            parser.feed(body.decode())
            for target in parser.targets:
                assert f"/{target}" in pages, f"{path} links to missing {target}"


def test_the_catalogue_has_at_least_twelve_distinct_tasks() -> None:
    tasks = list_tasks()
    assert len(tasks) >= 12
    names = [task.name for task in tasks]
    assert len(set(names)) == len(names)
    pages = load_pages()
    for task in tasks:
        assert task.name is not None and re.fullmatch(r"sandbox:[a-z]+(-[a-z]+)*", task.name)
        assert task.goal and task.start_url and task.start_url.startswith("sandbox:/")
        assert task.start_url.removeprefix("sandbox:") in pages
        assert (task.success_js is None) != (task.expected_answer is None), task.name
    assert sum(task.expected_answer is not None for task in tasks) >= 1


def test_tasks_resolve_by_name() -> None:
    assert get_task("sign-in") is get_task("sandbox:sign-in")
    task, suite = resolve_task("sandbox:checkout")
    assert task.name == "sandbox:checkout" and suite is SANDBOX_TASKS
    with pytest.raises(UnknownNameError, match="Did you mean 'sandbox:sign-in'"):
        get_task("sign_in")
    with pytest.raises(UnknownNameError, match=r"[Ss]andbox tasks"):
        resolve_task("sandbox:nothing-like-it")
