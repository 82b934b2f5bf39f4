"""report.json (everything, machine-readable), report.md (the same as tables) and report.html
(the tables plus a gallery of samples; see `pixelpilot.evals.report_html`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pixelpilot.evals.base import Problem, Record, Summary
from pixelpilot.evals.records import write_json
from pixelpilot.evals.report_html import Gallery, write_eval_html

MD_PROBLEM_LIMIT = 100


def build_report(
    summary: Summary,
    *,
    counts: dict[str, int],
    problems: list[Problem],
    provenance: dict[str, Any],
) -> dict[str, Any]:
    """The report.json object.

    Args:
        summary: the benchmark's results.
        counts: samples (read from the data), scored, unparsed, not_predicted.
        problems: every problem met while loading, predicting and scoring.
        provenance: benchmark, data, model, versions and dates.
    """
    kinds: dict[str, int] = {}
    for problem in problems:
        kinds[problem.kind] = kinds.get(problem.kind, 0) + 1
    breakdowns = {
        table.key: {
            "title": table.title,
            "columns": table.columns,
            "rows": [dict(zip(table.columns, row, strict=True)) for row in table.rows],
        }
        for table in summary.tables
    }
    return {
        "benchmark": provenance.get("benchmark", {}).get("benchmark"),
        "headline": {"metric": summary.headline[0], "percent": summary.headline[1]},
        "counts": {**counts, "problems": len(problems)},
        "metrics": summary.metrics,
        "breakdowns": breakdowns,
        "notes": summary.notes,
        "problems": {
            "counts": kinds,
            "items": [{"kind": p.kind, "where": p.where, "detail": p.detail} for p in problems],
        },
        "provenance": provenance,
    }


def timing_summary(records: Iterable[Record]) -> dict[str, Any]:
    """report.json's `timing`: the mean of the records' `timings.per_sample` seconds."""
    values = [
        r["timings"]["per_sample"]
        for r in records
        if isinstance(r.get("timings"), dict)
        and isinstance(r["timings"].get("per_sample"), int | float)
    ]
    if not values:
        return {}
    return {"mean_seconds_per_sample": sum(values) / len(values), "samples_timed": len(values)}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(columns: list[str], rows: list[list[Any]], *, numeric: bool = True) -> list[str]:
    """A markdown table; with `numeric`, every column after the first is right-aligned."""
    lines = ["| " + " | ".join(columns) + " |"]
    align = ["---" if i == 0 or not numeric else "---:" for i in range(len(columns))]
    lines.append("|" + "|".join(align) + "|")
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict) and value:
        out: list[tuple[str, str]] = []
        for key, sub in value.items():
            out += _flatten(f"{prefix}.{key}" if prefix else str(key), sub)
        return out
    return [
        (prefix, json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value)
    ]


def render_markdown(report: dict[str, Any]) -> str:
    """report.md from a report.json object."""
    provenance = report["provenance"]
    title = provenance.get("benchmark", {}).get("title", report["benchmark"])
    headline = report["headline"]
    counts = report["counts"]
    lines = [f"# {title}: {headline['metric'].replace('_', ' ')} {_cell(headline['percent'])}%", ""]
    lines += _table(["count", "value"], [[k.replace("_", " "), v] for k, v in counts.items()])
    for table in report["breakdowns"].values():
        lines += ["", f"## {table['title']}", ""]
        lines += _table(
            table["columns"], [[row[c] for c in table["columns"]] for row in table["rows"]]
        )
    if report["notes"]:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in report["notes"]]
    items = report["problems"]["items"]
    if items:
        lines += ["", f"## Problems ({len(items)})", ""]
        lines += _table(
            ["kind", "count"], [[k, v] for k, v in report["problems"]["counts"].items()]
        )
        lines += [""]
        shown = items[:MD_PROBLEM_LIMIT]
        lines += _table(
            ["kind", "where", "detail"], [[p["kind"], p["where"], p["detail"]] for p in shown]
        )
        if len(items) > len(shown):
            lines += ["", f"({len(items) - len(shown)} more in report.json)"]
    lines += ["", "## Provenance", ""]
    lines += _table(["key", "value"], [[k, v] for k, v in _flatten("", provenance)], numeric=False)
    return "\n".join(lines) + "\n"


def write_reports(out: Path, report: dict[str, Any], gallery: Gallery | None = None) -> None:
    """Write `out/report.json`, `out/report.md` and `out/report.html` (with `gallery`'s
    samples and episodes when given)."""
    write_json(out / "report.json", report)
    (out / "report.md").write_text(render_markdown(report), encoding="utf-8")
    write_eval_html(out, report, gallery)
