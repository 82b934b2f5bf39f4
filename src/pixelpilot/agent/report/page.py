"""The HTML page shell shared by run and evaluation reports, and small HTML helpers.

A report is one file: the template `templates/page.html` with the stylesheet and script of this
package inlined, so it needs no network, no external script and no font. Its Content Security
Policy forbids every fetch; images are either `data:` URLs or files beside the report.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

SECRET = re.compile(r"&lt;secret:([A-Za-z0-9_.-]+)&gt;")


@cache
def _asset(name: str) -> str:
    return resources.files("pixelpilot.agent.report").joinpath("templates", name).read_text("utf-8")


def render_page(title: str, body: str, *, kind: str) -> str:
    """A complete HTML document: `body` (trusted HTML) inside the shared page shell.

    Args:
        title: the page title (plain text; escaped here).
        body: the page's HTML.
        kind: a class for <body> ("run" or "eval"), for styling.
    """
    values = {
        "title": esc(title),
        "kind": esc(kind),
        "css": _asset("report.css"),
        "js": _asset("report.js"),
        "body": body,
    }
    # one pass, so text such as "{{js}}" inside a title or a recorded output stays text
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], _asset("page.html"))


def esc(value: Any) -> str:
    """HTML-escaped text of `value`; secret placeholders (`<secret:NAME>`) are highlighted."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return SECRET.sub(r'<span class="secret">&lt;secret:\1&gt;</span>', html.escape(text))


def json_for_script(value: Any) -> str:
    """JSON safe to place inside <script type="application/json"> (no closing tags)."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def image_src(path: Path, *, relative_to: Path, embed: bool) -> str:
    """The src of an image: a data: URL (embed) or a path relative to the report's folder."""
    if embed:
        kind = "jpeg" if path.suffix.lower() in (".jpg", ".jpeg") else "png"
        return f"data:image/{kind};base64," + base64.b64encode(path.read_bytes()).decode()
    return Path(os.path.relpath(path, relative_to)).as_posix()


def cell(value: Any) -> str:
    """A table cell's text: '-' for None, one decimal for floats."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: bool = True) -> str:
    """An HTML table; with `numeric`, number cells are right-aligned."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for value in row:
            cls = ' class="num"' if numeric and isinstance(value, int | float) else ""
            cells.append(f"<td{cls}>{esc(cell(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    """Nested dicts as dotted (key, value) pairs, e.g. ("env.options.viewport", "1280x800")."""
    if isinstance(value, dict) and value:
        out: list[tuple[str, Any]] = []
        for key, sub in value.items():
            out += flatten(f"{prefix}.{key}" if prefix else str(key), sub)
        return out
    return [(prefix, value)]


def card(key: str, value: str, *, tone: str = "", title: str = "") -> str:
    """A labelled value box for a report's summary row (tone: good, bad, none or '')."""
    tip = f' title="{esc(title)}"' if title else ""
    return (
        f'<div class="card {tone}"{tip}><div class="k">{esc(key)}</div>'
        f'<div class="v">{esc(value)}</div></div>'
    )
