"""The navigation guard: the page cannot steer the browser off the task's origins.

Every request of the episode's browser context passes through `NavigationGuard.route` (one
Playwright `context.route`) before it leaves the browser. A top-level navigation (a link, a
script or meta-refresh redirect, `open_app`), a form submission in any frame (a POST
navigation) and a pop-up window (`window.open`, `target=_blank`) whose URL is not on an allowed
origin is answered inside the browser with `204 No Content`, which leaves the page where it was
and sends nothing to the other origin; a pop-up that tried is closed and never adopted. Server
redirects are not shown to route handlers, so a top-level navigation to an allowed origin is
fetched by the guard hop by hop (`route.fetch(max_redirects=0)`) and each redirect's target is
checked before it is requested; a chain that stays on allowed origins is handed back to the
browser, which then follows it again (so the allowed server sees those GETs twice). Redirects
of a POST that keep the method (307, 308) are checked one hop deep.

Only http(s) and file URLs are checked (`about:`, `data:` and `blob:` stay where they are).
A local start page allows its own real folder and what is below it (symbolic links resolved),
not every file on the machine, and a local file is checked however it is loaded (a frame, an
image, an object), in every mode but "off": embedded, it would be on screen all the same.
In the default mode, "navigation", sub-resources (images, scripts, fetch) and navigations
inside frames other than form posts are not checked: they do not move the page the agent sees.
Mode "requests" refuses those too (every request to another origin: stricter, and many real
sites load from other origins); mode "off" routes nothing (open_app still keeps to the allowed
origins). Each refusal is a `BlockedNavigation`, with the query string and fragment dropped (a
GET form may carry a password there).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from pixelpilot.env.browser.config import local_folder_origin, url_origin
from pixelpilot.errors import ActionError

__all__ = ["BlockedNavigation", "NavigationGuard", "navigation_origin", "resolve_open_app"]

GuardMode = Literal["navigation", "requests", "off"]
MAX_REDIRECTS = 10
"""Redirect hops the guard checks before it refuses a chain as too long."""
_UNCHECKED_SCHEMES = frozenset({"about", "data", "blob"})


def navigation_origin(url: str) -> str | None:
    """The origin the guard compares: `scheme://host[:port]` for http(s); for a local file,
    the real folder it is in, symbolic links resolved (`file:///srv/site/` for
    file:///srv/site/a/../index.html; a folder URL is its own folder): all local files share
    one browser origin, so the real folder is what keeps a start page under /srv/site from
    reaching ~/.ssh, also through a link placed inside /srv/site; `scheme:` for any other
    checked scheme; None for about:, data: and blob:."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in _UNCHECKED_SCHEMES:
        return None
    if scheme == "file":
        return local_folder_origin(parts.netloc, unquote(parts.path))
    return url_origin(url) or f"{scheme}:"


def is_local(url: str) -> bool:
    """Whether `url` is a file: URL (a local file the browser would read)."""
    return urlsplit(url.strip()).scheme.lower() == "file"


def origin_allowed(origin: str, allowed: Iterable[str]) -> bool:
    """Whether `origin` (see `navigation_origin`) is allowed: equal to an allowed origin, or,
    for a local file, inside an allowed folder (file:///srv/site/img/ is inside
    file:///srv/site/)."""
    if origin.startswith("file://"):
        return any(a.startswith("file://") and origin.startswith(a) for a in allowed)
    return origin in allowed


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass(frozen=True)
class BlockedNavigation:
    """One navigation the guard refused.

    Attributes:
        kind: "navigation" (a link, a script or meta-refresh redirect), "form submission",
            "pop-up window", "server redirect" or "open_app".
        url: where it tried to go, without the query string and fragment.
        origin: that URL's origin.
        method: the HTTP method ("GET", "POST").
        at: when, in seconds since the epoch.
    """

    kind: str
    url: str
    origin: str
    method: str = "GET"
    at: float = 0.0

    def describe(self) -> str:
        """One line for the step record and the policy's feedback."""
        return f"blocked {self.kind} to {self.url} ({self.method}): {self.origin} is not allowed"

    def __str__(self) -> str:
        return self.describe()


class NavigationGuard:
    """Refuses navigations off the allowed origins in one browser context.

    Args:
        allowed: origins (see `navigation_origin`) that navigation may reach.
        mode: what is checked (see the module's docstring).
    """

    def __init__(self, allowed: Iterable[str], *, mode: GuardMode = "navigation") -> None:
        self.allowed: set[str] = set(allowed)
        self.mode = mode
        self.blocked: list[BlockedNavigation] = []
        """Every refusal of the episode, oldest first."""
        self.home: Any = None
        """The context's first page (set by the session); any other page is a pop-up."""
        self.start_url: str | None = None
        """While set, the browser's own navigation to this URL passes unchecked (the start
        page the user chose, with whatever redirects it has)."""
        self.fetch_timeout = 10.0
        """Seconds one redirect hop may take to fetch (the env sets its call timeout)."""
        self.refuse_page: Callable[[Any], None] | None = None
        """Called with a pop-up page the guard refused (the session stops showing it and closes
        it after the action); without it the page is closed at once."""
        self._refused_popups = 0
        self._refused_pages: list[Any] = []

    def allows(self, url: str) -> bool:
        """Whether a navigation to `url` may leave the browser."""
        origin = navigation_origin(url)
        return origin is None or origin_allowed(origin, self.allowed)

    @contextlib.contextmanager
    def opening(self, url: str) -> Iterator[None]:
        """While the block runs, the browser's own navigation to `url` passes unchecked."""
        self.start_url = url
        try:
            yield
        finally:
            self.start_url = None

    def landed(self, url: str) -> None:
        """Allow the origin the start page landed on (it may have redirected)."""
        origin = navigation_origin(url)
        if origin is not None:
            self.allowed.add(origin)

    def record(self, kind: str, url: str, method: str = "GET") -> BlockedNavigation:
        """Add a refusal to `blocked` and return it."""
        origin = navigation_origin(url) or url.split(":", 1)[0]
        entry = BlockedNavigation(kind, _without_query(url), origin, method, time.time())
        self.blocked.append(entry)
        return entry

    def install(self, context: Any) -> None:
        """Route every request of `context` (a Playwright BrowserContext) through the guard
        (nothing in mode "off")."""
        if self.mode != "off":
            context.route("**/*", self.route)

    def admits(self, page: Any) -> bool:
        """Whether the session may adopt `page` (a new Playwright page) as the agent's page.

        A pop-up whose navigation was refused before Playwright could name its page shows up,
        if at all, blank: such a page is refused once per refusal."""
        if any(p is page for p in self._refused_pages) or not self.allows(page.url):
            return False
        if page.url == "about:blank" and self._refused_popups > 0:
            self._refused_popups -= 1
            return False
        return True

    # -- the route handler: runs inside Playwright's dispatcher, during some other call ---------

    def route(self, route: Any, request: Any) -> None:
        """Decide one request: pass it on, or answer it with 204 and record the refusal."""
        # A local file is checked whatever loads it (a frame, an image, an object): on screen,
        # an embedded file outside the allowed folders is as visible as a navigation to it.
        local = is_local(request.url)
        if not request.is_navigation_request():
            if (self.mode == "requests" or local) and not self.allows(request.url):
                route.abort("blockedbyclient")
                self.record("request", request.url, request.method)
            else:
                route.continue_()
            return
        try:
            frame = request.frame
        except Exception:  # Playwright names no frame for a pop-up's first navigation
            frame = None
        page = frame.page if frame is not None else None
        top = frame is None or frame.parent_frame is None
        if self.start_url is not None and top and page is self.home:
            self.start_url = None  # only the first navigation: the start page's scripts are not
            route.continue_()
            return
        strict = self.mode == "requests" or local
        if not top and request.method != "POST" and not strict:
            route.continue_()
            return
        if not self.allows(request.url):
            popup = frame is None or (page is not None and page is not self.home)
            kind = "navigation" if top else "frame navigation"
            kind = "form submission" if request.method == "POST" else kind
            self._refuse(route, "pop-up window" if popup else kind, request.url, request.method)
            if popup:
                self._close_popup(page)
            return
        if top and url_origin(request.url) is not None:  # only http(s) can redirect
            self._follow_redirects(route, request)
        else:
            route.continue_()

    def _refuse(self, route: Any, kind: str, url: str, method: str) -> None:
        route.fulfill(status=204, body="")
        self.record(kind, url, method)

    def _close_popup(self, page: Any) -> None:
        if page is None:
            self._refused_popups += 1
            return
        self._refused_pages.append(page)
        if self.refuse_page is not None:
            self.refuse_page(page)
            return
        with contextlib.suppress(Exception):  # it may be closing already
            page.close()

    def _follow_redirects(self, route: Any, request: Any) -> None:
        """Fetch an allowed top-level navigation and check each redirect before it is made.

        A fetch that fails (nothing listening, a timeout) hands the request back to the
        browser, which tries itself and shows its own error page: every URL fetched here is on
        an allowed origin already."""
        try:
            first = response = route.fetch(max_redirects=0, timeout=self.fetch_timeout * 1000)
        except Exception:  # Playwright's Error; a route left unanswered would hang the page
            route.continue_()
            return
        url, method = request.url, request.method
        for _ in range(MAX_REDIRECTS):
            location = response.headers.get("location")
            if not 300 <= response.status < 400 or not location:
                route.fulfill(response=first)
                return
            url = urljoin(url, location)
            if not self.allows(url):
                self._refuse(route, "server redirect", url, method)
                return
            if response.status in (307, 308) and method != "GET":
                route.fulfill(response=first)  # following would send the body again
                return
            method = "GET"
            try:
                response = route.fetch(
                    url=url, method="GET", max_redirects=0, timeout=self.fetch_timeout * 1000
                )
            except Exception:
                route.fulfill(response=first)
                return
        self._refuse(route, "server redirect", url, method)


def resolve_open_app(
    name: str,
    *,
    start_url: str,
    guard: NavigationGuard,
    sandbox: Callable[[str], str] | None = None,
) -> str:
    """The URL `open_app(name)` navigates to: an absolute URL, a path on the start page's
    origin, or `sandbox:/PAGE` (turned into a URL by `sandbox`, when the sandbox runs).

    Raises:
        ActionError: the name is no http(s) URL, or its origin is not allowed (the refusal is
            recorded in `guard.blocked`).
    """
    text = name.strip()
    if text.startswith("sandbox:") and sandbox is not None:
        text = sandbox(text)
    elif text.startswith("/") and url_origin(start_url):
        text = urljoin(start_url, text)
    origin = url_origin(text)
    allowed = ", ".join(sorted(guard.allowed)) or "none"
    if origin is None:
        raise ActionError(
            f"open_app in the browser takes an http(s) URL, got {name!r}; allowed origins: "
            f"{allowed}"
        )
    if not guard.allows(text):
        guard.record("open_app", text)
        raise ActionError(
            f"open_app({name!r}) refused: {origin} is not an allowed origin (allowed: "
            f"{allowed}; add others with the allowed_origins option)"
        )
    return text
