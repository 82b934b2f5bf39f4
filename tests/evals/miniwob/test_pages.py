"""Locating the MiniWoB++ pages of the installed `miniwob` package, and choosing tasks."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pixelpilot.errors import ConfigError, MissingExtraError, UnknownNameError
from pixelpilot.evals.miniwob.pages import (
    html_root,
    list_pages,
    select_pages,
    standard_tasks,
)


def test_the_installed_pages_are_found_without_importing_miniwob() -> None:
    # A fresh interpreter: importing miniwob would register gymnasium environments and pull
    # in gymnasium and selenium; locating the pages must do none of that.
    code = (
        "import json, sys\n"
        "from pixelpilot.evals.miniwob.pages import html_root, list_pages, standard_tasks\n"
        "root = html_root()\n"
        "pages = list_pages(root)\n"
        "print(json.dumps({'root': str(root), 'standard': len(standard_tasks(pages)),\n"
        "  'names': sorted(pages), 'loaded': sorted(m for m in sys.modules\n"
        "  if m.split('.')[0] in ('miniwob', 'gymnasium', 'selenium'))}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    found = json.loads(out.stdout)
    assert found["loaded"] == []
    root = Path(found["root"])
    assert (root / "core" / "core.js").is_file()
    assert found["standard"] == 130
    assert {"click-button", "click-checkboxes", "use-autocomplete", "flight.AA"} <= set(
        found["names"]
    )
    files = importlib.metadata.distribution("miniwob").files or []
    assert any(str(f).endswith("miniwob/html/miniwob/click-button.html") for f in files)


def test_page_kinds_urls_and_task_areas() -> None:
    pages = list_pages(html_root())
    button, flight = pages["click-button"], pages["flight.Alaska"]
    assert not button.flight and button.area == (160, 210)
    assert button.relative == "miniwob/click-button.html" and button.path.is_file()
    assert flight.flight and flight.area == (375, 667)
    assert flight.relative == "flight/Alaska/wrapper.html" and flight.path.is_file()
    assert [n for n in pages if n.startswith("flight.")] == [
        "flight.AA",
        "flight.Alaska",
        "flight.Alaska-auto",
        "flight.Alaska-auto-medium",
    ]


def _folder(tmp_path: Path, names: list[str]) -> Path:
    (tmp_path / "core").mkdir(parents=True)
    (tmp_path / "core" / "core.js").write_text("var core = {};\n")
    (tmp_path / "miniwob").mkdir()
    for name in names:
        (tmp_path / "miniwob" / f"{name}.html").write_text("<html></html>\n")
    return tmp_path


def test_an_explicit_folder_wins_and_a_wrong_one_is_refused(tmp_path: Path) -> None:
    root = _folder(tmp_path / "html", ["b-task", "a-task"])
    assert html_root(root) == root
    assert list(list_pages(root)) == ["a-task", "b-task"]
    with pytest.raises(ConfigError, match=r"not a MiniWoB\+\+ html folder \(no core/core.js\)"):
        html_root(tmp_path)


def test_selecting_tasks(tmp_path: Path) -> None:
    pages = list_pages(html_root())
    assert [p.name for p in select_pages(pages, None)] == standard_tasks(pages)
    chosen = select_pages(pages, ["click-tab", "flight.AA", "click-button"])
    assert [p.name for p in chosen] == ["click-tab", "flight.AA", "click-button"]
    with pytest.raises(UnknownNameError, match="did you mean click-button"):
        select_pages(pages, ["click-buton"])
    with pytest.raises(ConfigError, match="twice"):
        select_pages(pages, ["click-tab", "click-tab"])
    with pytest.raises(ConfigError, match="names no task"):
        select_pages(pages, [])


def test_without_the_package_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr("importlib.metadata.distribution", missing)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(MissingExtraError, match=r"pip install 'pixelpilot\[eval\]'"):
        html_root()


def test_an_install_without_a_file_list_is_found_through_its_package_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = html_root()

    class NoFiles:
        files = None

    monkeypatch.setattr("importlib.metadata.distribution", lambda n: NoFiles())
    assert html_root() == real
    assert importlib.util.find_spec("miniwob") is not None
