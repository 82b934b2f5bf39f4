"""report.html: an evaluation's report.json as a page, with a gallery of samples.

Every `pixelpilot eval` writes it beside report.json. The page holds the headline metric, the
counts, every breakdown table, notes, problems and provenance; then, per benchmark:
- ScreenSpot (v1, v2, Pro): a gallery of failures and successes, each the image region around
  the target with the ground-truth box and the predicted point drawn, grouped by platform and
  element type. The images are the data set's own files, referred to relative to the report (no
  copies); the gallery draws one page of cards at a time, so 1,581 ScreenSpot-Pro samples load
  as fast as 48.
- AndroidControl: the failing steps (at most AC_GALLERY_LIMIT), each screenshot written to
  `report_files/` with the predicted action (red) and the reference action (green) drawn.
- MiniWoB++ (and any benchmark whose records carry a `trajectory` run directory): a table of
  episodes, each linking to that episode's run report, which is written here too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from PIL import Image

from pixelpilot.agent.report import write_run_report
from pixelpilot.agent.report.page import card, esc, flatten, json_for_script, render_page, table
from pixelpilot.errors import UserError
from pixelpilot.evals.base import Record, Score

HTML_REPORT = "report.html"
FILES = "report_files"
PAGE_SIZE = 48  # gallery cards per page
AC_GALLERY_LIMIT = 500  # failing AndroidControl steps drawn (each writes one screenshot)
PROBLEM_LIMIT = 200  # problems listed on the page (all are in report.json)


class Gallery:
    """Collects one gallery item per scored sample while a benchmark is scored.

    Args:
        out: the evaluation's output folder (image paths are made relative to it).
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.items: list[dict[str, Any]] = []
        self.episodes: list[Record] = []
        self._ac_written = 0

    def add(self, sample: Any, record: Record, score: Score) -> None:
        """Add `sample`'s card (or episode row) for a benchmark that has one; others are
        ignored. Never raises for an unreadable image: the card then has no picture."""
        from pixelpilot.evals.androidcontrol.benchmark import StepSample
        from pixelpilot.evals.screenspot.data import GroundingSample

        if "trajectory" in record:
            self.episodes.append({**record, "correct": score.correct})
        elif isinstance(sample, GroundingSample):
            self.items.append(self._screenspot(sample, record, score))
        elif (
            isinstance(sample, StepSample)
            and not score.correct
            and self._ac_written < AC_GALLERY_LIMIT
        ):
            self.items.append(self._androidcontrol(sample, record, score))

    def _screenspot(self, sample: Any, record: Record, score: Score) -> dict[str, Any]:
        size = record.get("image_size") or (list(sample.size) if sample.size else None)
        if size is None:
            try:
                with Image.open(sample.image) as image:
                    size = list(image.size)
            except OSError:
                size = [int(sample.box.x2) + 1, int(sample.box.y2) + 1]
        width, height = int(size[0]), int(size[1])
        box = sample.box
        point = record.get("point")
        xs, ys = [box.x1, box.x2], [box.y1, box.y2]
        if isinstance(point, list) and len(point) == 2:
            xs.append(point[0])
            ys.append(point[1])
        pad = max(max(xs) - min(xs), max(ys) - min(ys), min(width, height) / 3) / 2
        left, top = max(0.0, min(xs) - pad), max(0.0, min(ys) - pad)
        right, bottom = min(float(width), max(xs) + pad), min(float(height), max(ys) + pad)
        predicted = f"predicted ({point[0]}, {point[1]})" if point else "no point"
        if record.get("error") and not point:
            predicted += f": {record['error']}"
        return {
            "title": sample.instruction,
            "group": f"{sample.platform} / {sample.ui_type}",
            "correct": score.correct,
            "img": self._relative(sample.image),
            "w": width,
            "h": height,
            "view": [round(left, 1), round(top, 1), round(right - left, 1), round(bottom - top, 1)],
            "boxes": [[box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1]],
            "marks": [{"at": point}] if point else [],
            "lines": [predicted, f"{sample.source} · {sample.id}"],
        }

    def _androidcontrol(self, sample: Any, record: Record, score: Score) -> dict[str, Any]:
        width, height = sample.size.width, sample.size.height
        img = None
        if sample.screenshot:
            img = self._write_image(sample.id, sample.screenshot)
        marks: list[dict[str, Any]] = []
        action = record.get("action")
        if isinstance(action, dict) and isinstance(action.get("x"), int):
            mark: dict[str, Any] = {"at": [action["x"], action["y"]]}
            if isinstance(action.get("to_x"), int):
                mark["to"] = [action["to_x"], action["to_y"]]
            marks.append(mark)
        gt = sample.gt
        if gt.x is not None and gt.y is not None:
            marks.append({"at": [gt.x, gt.y], "ref": True})
        return {
            "title": sample.instruction,
            "group": gt.type,
            "correct": score.correct,
            "img": img,
            "w": width,
            "h": height,
            "view": [0, 0, width, height],
            "boxes": [],
            "marks": marks,
            "lines": [
                "predicted (red): "
                + (_compact(action) if action else f"none ({record.get('error')})"),
                "reference (green): " + (gt.raw or gt.type),
                sample.id,
            ],
        }

    def _write_image(self, sample_id: str, data: bytes) -> str:
        folder = self.out / FILES
        folder.mkdir(exist_ok=True)
        suffix = ".jpg" if data[:3] == b"\xff\xd8\xff" else ".png"
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", sample_id) + suffix
        (folder / name).write_bytes(data)
        self._ac_written += 1
        return f"{FILES}/{name}"

    def _relative(self, path: Path) -> str:
        return Path(os.path.relpath(Path(path).resolve(), self.out.resolve())).as_posix()


def _compact(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _tables(report: dict[str, Any]) -> str:
    parts = []
    for breakdown in report.get("breakdowns", {}).values():
        columns = breakdown["columns"]
        rows = [[row.get(c) for c in columns] for row in breakdown["rows"]]
        parts.append(f"<h3>{esc(breakdown['title'])}</h3>{table(columns, rows)}")
    if report.get("notes"):
        parts.append(
            "<h3>Notes</h3><ul>" + "".join(f"<li>{esc(n)}</li>" for n in report["notes"]) + "</ul>"
        )
    items = report.get("problems", {}).get("items", [])
    if items:
        shown = items[:PROBLEM_LIMIT]
        more = (
            f"<p>({len(items) - len(shown)} more in report.json)</p>"
            if len(items) > len(shown)
            else ""
        )
        parts.append(
            f"<h3>Problems ({len(items)})</h3>"
            + table(
                ["kind", "where", "detail"], [[p["kind"], p["where"], p["detail"]] for p in shown]
            )
            + more
        )
    return "".join(parts)


def _episodes(out: Path, episodes: list[Record]) -> str:
    rows = []
    for record in episodes:
        run_dir = record.get("trajectory")
        link = "-"
        if isinstance(run_dir, str) and (Path(run_dir) / "meta.json").exists():
            try:
                path = write_run_report(run_dir)
                href = Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()
                link = f'<a href="{esc(href)}">run report</a>'
            except UserError as exc:
                link = esc(f"unreadable: {exc}")
        # the benchmark's own verdict (MiniWoB++: raw reward > 0), not the record's flag
        verdict = "solved" if record.get("correct") else "not solved"
        tone = "good" if record.get("correct") else "bad"
        rows.append(
            f"<tr><td>{esc(record.get('id', '?'))}</td>"
            f'<td><span class="badge {tone}">{verdict}</span></td>'
            f'<td class="num">{esc(_number(record.get("reward")))}</td>'
            f"<td>{esc(record.get('status', '-'))}</td>"
            f'<td class="num">{esc(_number(record.get("steps")))}</td><td>{link}</td></tr>'
        )
    head = "".join(f"<th>{c}</th>" for c in ("episode", "judged", "reward", "status", "steps", ""))
    return (
        f'<h2>Episodes ({len(episodes)})</h2><table class="episodes"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        return str(len(value))
    return "-" if value is None else str(value)


def render_eval_report(report: dict[str, Any], gallery: Gallery | None = None) -> str:
    """The report.html page of a report.json object (and the gallery collected while
    scoring, when there is one)."""
    provenance = report.get("provenance", {})
    title = provenance.get("benchmark", {}).get("title") or report.get("benchmark") or "evaluation"
    headline = report["headline"]
    percent = headline.get("percent")
    cards = [
        card(
            str(headline["metric"]).replace("_", " "), "-" if percent is None else f"{percent:.1f}%"
        )
    ]
    cards += [card(str(k).replace("_", " "), str(v)) for k, v in report.get("counts", {}).items()]
    for key, value in (report.get("timing") or {}).items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        cards.append(card(key.replace("_", " "), shown))
    body = [
        f'<header class="top"><h1>{esc(title)}</h1>'
        f'<div class="cards">{"".join(cards)}</div></header>',
        "<main>",
        _tables(report),
    ]
    if gallery is not None and gallery.episodes:
        body.append(_episodes(gallery.out, gallery.episodes))
    if gallery is not None and gallery.items:
        body.append(
            f"<h2>Samples ({len(gallery.items)})</h2>"
            '<script type="application/json" id="gallery-data">'
            f"{json_for_script(gallery.items)}</script>"
            f'<div class="paged" data-source="gallery-data" data-page="{PAGE_SIZE}"></div>'
        )
    body.append(
        "<h2>Provenance</h2>" + table(["key", "value"], flatten("", provenance), numeric=False)
    )
    body.append("</main>")
    return render_page(f"pixelpilot eval: {title}", "".join(body), kind="eval")


def write_eval_html(out: Path, report: dict[str, Any], gallery: Gallery | None = None) -> Path:
    """Write `out/report.html` and return its path."""
    path = out / HTML_REPORT
    path.write_text(render_eval_report(report, gallery), encoding="utf-8")
    return path
