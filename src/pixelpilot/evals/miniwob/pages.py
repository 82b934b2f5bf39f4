"""Where the MiniWoB++ task pages are: the `miniwob/html` folder of the installed `miniwob` package.

The folder is found through the distribution's file list (`importlib.metadata`), falling back to
`importlib.util.find_spec`, neither of which runs the package's code: importing `miniwob` registers
Gymnasium environments and pulls in gymnasium and selenium, none of which pixelpilot needs to drive
the pages. A folder given explicitly (e.g. a checkout of miniwob-plusplus) takes precedence.

Task names are the page names: `click-button` is `miniwob/click-button.html` (the 130 standard
tasks, served from `file://` URLs), `flight.AA` is `flight/AA/wrapper.html` (the flight-booking
tasks, which load their form in an iframe and need an HTTP origin; see `miniwob.server`).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from pixelpilot.actions import Size
from pixelpilot.errors import ConfigError, MissingExtraError, UnknownNameError

DISTRIBUTION = "miniwob"
CORE_JS = ("core", "core.js")
FLIGHT_PREFIX = "flight."
# The task area (#wrap) of the standard pages and of the flight pages, in CSS pixels.
TASK_AREA = Size(160, 210)
FLIGHT_TASK_AREA = Size(375, 667)


@dataclass(frozen=True)
class MiniWobPage:
    """One task's page.

    Attributes:
        name: the task name (`click-button`, `flight.AA`).
        path: the HTML file.
        relative: the path relative to the html root, with forward slashes (for HTTP URLs).
    """

    name: str
    path: Path
    relative: str

    @property
    def flight(self) -> bool:
        """Whether this is a flight-booking task (iframe page, HTTP origin needed)."""
        return self.name.startswith(FLIGHT_PREFIX)

    @property
    def area(self) -> Size:
        """The size of the task area `#wrap` in CSS pixels."""
        return FLIGHT_TASK_AREA if self.flight else TASK_AREA


def _installed_root() -> Path:
    missing = MissingExtraError(
        "the MiniWoB++ pages come from the 'miniwob' package, which is not installed; "
        "install it with: pip install 'pixelpilot[eval]'"
    )
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise missing from None
    for file in dist.files or ():
        parts = file.parts
        if len(parts) >= 4 and parts[-4:-2] == (DISTRIBUTION, "html") and parts[-2:] == CORE_JS:
            return Path(str(dist.locate_file(file))).parent.parent
    # Installs without a RECORD file list (some system packages) still have a findable
    # package folder; find_spec on a top-level name locates it without executing it.
    spec = importlib.util.find_spec(DISTRIBUTION)
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "html"
        if candidate.joinpath(*CORE_JS).is_file():
            return candidate
    raise missing


def html_root(pages: Path | None = None) -> Path:
    """The folder holding `core/core.js`, `miniwob/*.html` and `flight/*/wrapper.html`.

    Args:
        pages: an explicit folder to use instead of the installed package's.

    Raises:
        ConfigError: `pages` is not such a folder.
        MissingExtraError: no folder given and the `miniwob` package is not installed.
    """
    if pages is None:
        return _installed_root()
    root = Path(pages).expanduser()
    if not root.joinpath(*CORE_JS).is_file():
        raise ConfigError(
            f"{root} is not a MiniWoB++ html folder (no core/core.js); give the folder that "
            "holds core/, miniwob/ and flight/ (miniwob-plusplus: miniwob/html)"
        )
    return root


def list_pages(root: Path) -> dict[str, MiniWobPage]:
    """Every task page under `root`, by task name: the standard tasks in name order, then
    the flight tasks."""
    found: dict[str, MiniWobPage] = {}
    for path in sorted((root / "miniwob").glob("*.html")):
        found[path.stem] = MiniWobPage(path.stem, path, f"miniwob/{path.name}")
    for path in sorted((root / "flight").glob("*/wrapper.html")):
        name = FLIGHT_PREFIX + path.parent.name
        found[name] = MiniWobPage(name, path, f"flight/{path.parent.name}/wrapper.html")
    return found


def standard_tasks(pages: dict[str, MiniWobPage]) -> list[str]:
    """The names of the standard (non-flight) tasks: what `--tasks` means by default."""
    return [name for name, page in pages.items() if not page.flight]


def select_pages(pages: dict[str, MiniWobPage], names: list[str] | None) -> list[MiniWobPage]:
    """The pages of the named tasks, in the given order (all standard tasks when None).

    Raises:
        UnknownNameError: a name is not a task (the message suggests close names).
        ConfigError: the same task is named twice, or the list is empty.
    """
    if names is None:
        return [pages[name] for name in standard_tasks(pages)]
    if not names:
        raise ConfigError("--tasks names no task; give comma-separated names or leave it out")
    seen: set[str] = set()
    chosen = []
    for name in names:
        if name in seen:
            raise ConfigError(f"--tasks names {name!r} twice")
        seen.add(name)
        if name not in pages:
            raise UnknownNameError(_unknown(name, pages))
        chosen.append(pages[name])
    return chosen


def _unknown(name: str, pages: dict[str, MiniWobPage]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(pages), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    where = ""
    if pages:
        folder = next(iter(pages.values())).path.parent
        where = f" (the task names are the page names in {folder}, and flight.NAME)"
    return f"unknown MiniWoB++ task {name!r}{hint}{where}"
