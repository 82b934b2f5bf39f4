"""`pixelpilot show`: writes report.html and a GIF; a wrong folder is one line, status 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pixelpilot.cli import main
from tests.agent.report.runs import ACTIONS, record_run


def test_show_writes_the_report_and_a_gif(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = record_run(tmp_path / "run")
    gif = tmp_path / "run.gif"
    assert main(["show", str(run_dir), "--gif", str(gif)]) == 0
    out = capsys.readouterr().out
    assert f"report: {run_dir / 'report.html'}" in out
    html = (run_dir / "report.html").read_text()
    assert html.count('<section class="step') == len(ACTIONS)
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    with Image.open(gif) as image:
        assert image.format == "GIF" and getattr(image, "n_frames", 1) == len(ACTIONS)


def test_show_on_a_folder_that_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a pixelpilot run directory" in err


def test_show_open_hands_the_file_to_a_browser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def fake_open(url: str) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", fake_open)
    run_dir = record_run(tmp_path / "run")
    assert main(["show", str(run_dir), "--open", "--embed"]) == 0
    assert opened == [(run_dir / "report.html").resolve().as_uri()]
    assert "data:image/png;base64," in (run_dir / "report.html").read_text()
    capsys.readouterr()
