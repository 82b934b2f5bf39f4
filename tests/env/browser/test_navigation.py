"""The navigation guard's decisions without a browser: which origins it compares, what a
refusal records (never the query string), open_app's URL resolution, and the route handler's
answers to fake Playwright requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pixelpilot.env.browser.config import BrowserConfig
from pixelpilot.env.browser.navigation import (
    NavigationGuard,
    navigation_origin,
    resolve_open_app,
)
from pixelpilot.errors import ActionError

SITE = "http://127.0.0.1:8000"
EVIL = "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8000/a?b=1", SITE),
        ("HTTPS://Example.COM:443/x", "https://example.com"),
        ("file:///tmp/page.html", "file:///tmp/"),
        ("file:///srv/site/a/../index.html", "file:///srv/site/"),
        ("file:///srv/site/%2e%2e/%2e%2e/etc/passwd", "file:///etc/"),
        ("file:///", "file:///"),
        ("ftp://example.com/", "ftp:"),
        ("about:blank", None),
        ("data:text/html,hi", None),
        ("blob:http://127.0.0.1:8000/uuid", None),
    ],
)
def test_navigation_origin(url: str, origin: str | None) -> None:
    assert navigation_origin(url) == origin


def test_a_local_start_page_allows_its_folder_and_below_only() -> None:
    guard = NavigationGuard([navigation_origin("file:///srv/site/index.html") or ""])
    assert guard.allows("file:///srv/site/next.html")
    assert guard.allows("file:///srv/site/img/deep/page.html")
    assert not guard.allows("file:///srv/other/page.html")
    assert not guard.allows("file:///srv/site-copy/page.html")
    assert not guard.allows("file:///root/.ssh/id_rsa")
    assert not guard.allows("file:///srv/site/../../etc/passwd")
    assert not guard.allows("file:///srv/site/%2e%2e/%2e%2e/etc/passwd")
    assert not guard.allows(SITE + "/x")  # a local page allows no web origin either


def test_local_folders_are_real_folders(tmp_path: Path) -> None:
    site, private = tmp_path / "site", tmp_path / "private"
    site.mkdir()
    private.mkdir()
    (private / "key.txt").write_text("k")
    (site / "link.txt").symlink_to(private / "key.txt")
    (site / "privdir").symlink_to(private)
    guard = NavigationGuard([navigation_origin(site.as_uri() + "/") or ""])
    # a folder URL is its own folder (with or without the slash), never its parent
    assert navigation_origin(site.as_uri()) == navigation_origin(site.as_uri() + "/")
    assert navigation_origin(site.as_uri()) == site.resolve().as_uri() + "/"
    assert not guard.allows(tmp_path.as_uri() + "/")
    # links inside the folder that lead out of it are judged by where they lead
    assert not guard.allows((site / "link.txt").as_uri())
    assert not guard.allows((site / "privdir" / "key.txt").as_uri())
    assert guard.allows((site / "index.html").as_uri())
    assert navigation_origin("file://otherhost/share/x.html") == "file://otherhost/"
    assert navigation_origin("file://localhost" + str(site / "a.html")) == guard_origin(site)


def guard_origin(folder: Path) -> str:
    return folder.resolve().as_uri() + "/"


def test_allowed_origins_take_local_folders(tmp_path: Path) -> None:
    config = BrowserConfig(allowed_origins=[tmp_path.as_uri() + "/", "https://a.example/"])
    assert config.allowed_origins == [guard_origin(tmp_path), "https://a.example"]
    with pytest.raises(ValidationError, match="or a local folder like file:///srv/site/"):
        BrowserConfig(allowed_origins=[(tmp_path / "page.html").as_uri()])


def test_a_refusal_keeps_no_query_string_or_fragment() -> None:
    guard = NavigationGuard([SITE])
    entry = guard.record("form submission", EVIL + "/collect?password=hunter2#x", "POST")
    assert entry.url == EVIL + "/collect" and entry.origin == EVIL
    assert "hunter2" not in entry.describe()
    assert (
        entry.describe()
        == f"blocked form submission to {EVIL}/collect (POST): {EVIL} is not allowed"
    )
    assert guard.blocked == [entry] and str(entry) == entry.describe()


def test_open_app_resolution() -> None:
    guard = NavigationGuard([SITE])
    start = SITE + "/index.html"
    assert resolve_open_app("/next.html", start_url=start, guard=guard) == SITE + "/next.html"
    assert resolve_open_app(f" {SITE}/x ", start_url=start, guard=guard) == SITE + "/x"
    sandbox = resolve_open_app(
        "sandbox:/login.html", start_url=start, guard=guard, sandbox=lambda u: SITE + "/login.html"
    )
    assert sandbox == SITE + "/login.html"
    with pytest.raises(ActionError, match="takes an http"):
        resolve_open_app("Settings", start_url=start, guard=guard)
    assert guard.blocked == []
    with pytest.raises(ActionError, match=f"{EVIL} is not an allowed origin"):
        resolve_open_app(EVIL + "/?token=1", start_url=start, guard=guard)
    assert [(b.kind, b.url) for b in guard.blocked] == [("open_app", EVIL + "/")]


# -- the route handler on stand-ins for Playwright's Route and Request --------------------------


@dataclass
class FakePage:
    url: str = "about:blank"
    closed: bool = False

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeFrame:
    page: FakePage
    parent_frame: Any = None


@dataclass
class FakeRequest:
    url: str
    frame_: FakeFrame | None
    method: str = "GET"
    navigation: bool = True

    def is_navigation_request(self) -> bool:
        return self.navigation

    @property
    def frame(self) -> FakeFrame:
        if self.frame_ is None:
            raise RuntimeError("Frame for this navigation request is not available")
        return self.frame_


@dataclass
class FakeResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeRoute:
    """Answers fetches from `chain` (URL -> response) and remembers what the guard did."""

    chain: dict[str, FakeResponse] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)

    def continue_(self) -> None:
        self.done.append("continue")

    def fulfill(self, *, status: int = 200, body: str = "", response: Any = None) -> None:
        self.done.append(f"fulfill {response.status if response else status}")

    def fetch(
        self,
        *,
        url: str | None = None,
        method: str = "GET",
        max_redirects: int = 20,
        timeout: float = 30_000,
    ) -> Any:
        assert max_redirects == 0 and (url is not None) == bool(self.fetched)
        target = url or next(iter(self.chain))
        assert navigation_origin(target) == SITE, "the guard fetched another origin"
        self.fetched.append(target)
        if target not in self.chain:
            raise ConnectionRefusedError(target)
        return self.chain[target]


def guarded() -> tuple[NavigationGuard, FakePage]:
    guard, home = NavigationGuard([SITE]), FakePage(SITE + "/")
    guard.home = home
    return guard, home


def test_the_route_handler_decides_each_request() -> None:
    guard, home = guarded()
    top = FakeFrame(home)
    sub = FakeFrame(home, parent_frame=top)
    cases = [
        (FakeRequest(EVIL + "/img.png", top, navigation=False), "continue"),
        (FakeRequest(EVIL + "/frame", sub), "continue"),
        (FakeRequest(EVIL + "/post", sub, method="POST"), "fulfill 204"),
        (FakeRequest(EVIL + "/link", top), "fulfill 204"),
        (FakeRequest(EVIL + "/popup", None), "fulfill 204"),
        (FakeRequest("data:text/html,x", top), "continue"),
    ]
    for request, answer in cases:
        route = FakeRoute()
        guard.route(route, request)
        assert route.done == [answer], request.url
    assert [b.kind for b in guard.blocked] == ["form submission", "navigation", "pop-up window"]
    assert not home.closed


def test_a_refused_popup_is_handed_to_the_session_or_closed() -> None:
    guard, _ = guarded()
    popup = FakePage()
    guard.route(FakeRoute(), FakeRequest(EVIL + "/", FakeFrame(popup)))
    assert popup.closed and not guard.admits(popup)
    handed: list[Any] = []
    guard.refuse_page = handed.append
    other = FakePage()
    guard.route(FakeRoute(), FakeRequest(EVIL + "/", FakeFrame(other)))
    assert handed == [other] and not other.closed
    # A pop-up refused before Playwright named its page: the next blank page is refused once.
    guard.route(FakeRoute(), FakeRequest(EVIL + "/", None))
    assert not guard.admits(FakePage())
    assert guard.admits(FakePage())
    assert not guard.admits(FakePage(EVIL + "/"))


def test_redirects_are_checked_before_they_are_followed() -> None:
    guard, home = guarded()
    top = FakeFrame(home)
    chain = {
        SITE + "/hop": FakeResponse(302, {"location": "/go"}),
        SITE + "/go": FakeResponse(301, {"location": EVIL + "/x?secret=1"}),
    }
    route = FakeRoute(chain)
    guard.route(route, FakeRequest(SITE + "/hop", top))
    assert route.done == ["fulfill 204"] and route.fetched == [SITE + "/hop", SITE + "/go"]
    assert [(b.kind, b.url) for b in guard.blocked] == [("server redirect", EVIL + "/x")]
    clean = FakeRoute(
        {SITE + "/a": FakeResponse(302, {"location": "/b"}), SITE + "/b": FakeResponse(200)}
    )
    guard.route(clean, FakeRequest(SITE + "/a", top))
    assert clean.done == ["fulfill 302"], "an allowed chain goes back to the browser as it was"


def test_the_start_page_passes_once_while_opening() -> None:
    guard, home = guarded()
    with guard.opening("https://elsewhere.example/"):
        route = FakeRoute()
        guard.route(route, FakeRequest("https://elsewhere.example/", FakeFrame(home)))
        assert route.done == ["continue"]
        again = FakeRoute()
        guard.route(again, FakeRequest(EVIL + "/", FakeFrame(home)))
        assert again.done == ["fulfill 204"], "only the first navigation passes"
    guard.landed("https://elsewhere.example/home")
    assert guard.allows("https://elsewhere.example/other")


def test_a_failed_fetch_hands_the_request_back_to_the_browser() -> None:
    guard, home = guarded()
    top = FakeFrame(home)
    down = FakeRoute({})
    guard.route(down, FakeRequest(SITE + "/down", top))
    assert down.done == ["continue"], "the browser shows its own error page"
    half = FakeRoute({SITE + "/a": FakeResponse(302, {"location": "/gone"})})
    guard.route(half, FakeRequest(SITE + "/a", top))
    assert half.done == ["fulfill 302"] and half.fetched == [SITE + "/a", SITE + "/gone"]
    assert guard.blocked == []


@dataclass
class FakeAbortRoute(FakeRoute):
    def abort(self, error_code: str = "failed") -> None:
        self.done.append(f"abort {error_code}")


def test_mode_requests_refuses_every_request_to_another_origin() -> None:
    guard, home = guarded()
    guard.mode = "requests"
    top, sub = FakeFrame(home), FakeFrame(home, parent_frame=FakeFrame(home))
    cases = [
        (FakeRequest(EVIL + "/pixel.gif?id=1", top, navigation=False), "abort blockedbyclient"),
        (FakeRequest(SITE + "/style.css", top, navigation=False), "continue"),
        (FakeRequest(EVIL + "/frame", sub), "fulfill 204"),
        (FakeRequest(SITE + "/frame", sub), "continue"),
    ]
    for request, answer in cases:
        route = FakeAbortRoute()
        guard.route(route, request)
        assert route.done == [answer], request.url
    assert [(b.kind, b.url) for b in guard.blocked] == [
        ("request", EVIL + "/pixel.gif"),
        ("frame navigation", EVIL + "/frame"),
    ]


def test_mode_off_routes_nothing() -> None:
    @dataclass
    class Context:
        routes: list[Any] = field(default_factory=list)

        def route(self, pattern: str, handler: Any) -> None:
            self.routes.append(handler)

    on, off = Context(), Context()
    NavigationGuard([SITE]).install(on)
    NavigationGuard([SITE], mode="off").install(off)
    assert len(on.routes) == 1 and off.routes == []
