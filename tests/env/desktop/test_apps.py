"""App-name resolution for the desktop's open_app: .desktop entries, the user's map, exact,
case-insensitive and fuzzy matches, refusals, and the allow-list. No display needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.env.desktop.apps import (
    application_dirs,
    choose_app,
    exec_command,
    installed_apps,
    resolve_app,
)
from pixelpilot.errors import ActionError

ENTRY = """[Desktop Entry]
Type=Application
Name={name}
GenericName={generic}
Exec={exec}
"""


def write_entry(folder: Path, stem: str, name: str, generic: str, command: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = ENTRY.format(name=name, generic=generic, exec=command)
    (folder / f"{stem}.desktop").write_text(text, encoding="utf-8")


@pytest.fixture
def apps(tmp_path: Path) -> dict[str, tuple[str, ...]]:
    folder = tmp_path / "share" / "applications"
    write_entry(folder, "mousepad", "Mousepad", "Text Editor", "mousepad %U")
    write_entry(folder, "galculator", "Galculator", "Scientific calculator", "galculator")
    write_entry(folder, "xterm", "XTerm", "Terminal", "xterm -fa 'Mono Space'")
    (folder / "hidden.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Hidden\nExec=hidden\nHidden=true\n"
    )
    (folder / "link.desktop").write_text("[Desktop Entry]\nType=Link\nName=Web\nURL=x\n")
    (folder / "broken.desktop").write_text("not an ini file at all [")
    return installed_apps([folder, tmp_path / "missing"])


def test_exec_lines_lose_field_codes_and_keep_quoting() -> None:
    assert exec_command("mousepad %U") == ("mousepad",)
    assert exec_command("xterm -fa 'Mono Space' %f") == ("xterm", "-fa", "Mono Space")
    assert exec_command("printf 100%% %u") == ("printf", "100%")


def test_installed_apps_lists_names_generic_names_and_programs(
    apps: dict[str, tuple[str, ...]],
) -> None:
    assert apps["Mousepad"] == ("mousepad",)
    assert apps["Text Editor"] == ("mousepad",)
    assert apps["xterm"] == ("xterm", "-fa", "Mono Space")
    assert "Hidden" not in apps and "Web" not in apps


def test_application_dirs_follow_xdg_variables() -> None:
    dirs = application_dirs({"XDG_DATA_HOME": "/h/share", "XDG_DATA_DIRS": "/a:/b"})
    assert dirs == [Path("/h/share/applications"), Path("/a/applications"), Path("/b/applications")]


@pytest.mark.parametrize(
    ("name", "command", "how"),
    [
        ("Mousepad", ("mousepad",), "exact name"),
        ("text editor", ("mousepad",), "name, ignoring case"),
        ("calculater", ("galculator",), "fuzzy match"),
        ("XTERM", ("xterm", "-fa", "Mono Space"), "name, ignoring case"),
    ],
)
def test_names_resolve_exactly_then_ignoring_case_then_fuzzily(
    apps: dict[str, tuple[str, ...]], name: str, command: tuple[str, ...], how: str
) -> None:
    match = resolve_app(name, apps)
    assert match.command == command
    assert match.how.startswith(how)


def test_the_users_map_wins(apps: dict[str, tuple[str, ...]]) -> None:
    match = resolve_app("Text Editor", apps, {"Text Editor": "gedit --new-window"})
    assert match.command == ("gedit", "--new-window")


def test_an_unknown_name_is_refused_with_the_closest(apps: dict[str, tuple[str, ...]]) -> None:
    with pytest.raises(ActionError, match=r"no installed application matches 'spreadsheet'"):
        resolve_app("spreadsheet", apps)


def test_equally_close_names_of_different_programs_are_ambiguous() -> None:
    installed = {"Note A": ("a",), "Note B": ("b",)}
    with pytest.raises(ActionError, match="ambiguous: it matches Note A, Note B equally"):
        resolve_app("Note C", installed, cutoff=0.75)


def test_the_allow_list_refuses_other_apps(tmp_path: Path) -> None:
    write_entry(tmp_path / "share/applications", "x", "XTerm", "Terminal", "xterm")
    environ = {"XDG_DATA_HOME": str(tmp_path / "share"), "XDG_DATA_DIRS": str(tmp_path / "none")}
    assert choose_app("terminal", environ, {}, ["xterm"], cutoff=0.75).command == ("xterm",)
    with pytest.raises(ActionError, match=r"refused: .*not in the desktop option allowed_apps"):
        choose_app("terminal", environ, {}, ["mousepad"], cutoff=0.75)
