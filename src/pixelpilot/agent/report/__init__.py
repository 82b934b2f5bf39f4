"""Seeing runs: the action drawn on its screenshot, the run report page and GIF histories.

Here: `draw` (one geometry for every action, painted by PIL in `annotate`/`save_annotated` for
the confirmation prompt and GIFs, and as SVG for pages), `page` (the self-contained HTML shell
and helpers, also used by the evaluation reports), `outcome` (judged outcome and policy claim
from result.json), `timings` (per-phase bars), `run` (the run report, `write_run_report`) and
`gif` (`write_gif`). Templates live in `templates/` as package data.

May import: `pixelpilot.actions`, `pixelpilot.agent.trajectory` and the shared modules (never
env or model: a report is drawn from records alone).
"""

from pixelpilot.agent.report.draw import annotate, save_annotated, shapes, svg_overlay
from pixelpilot.agent.report.gif import write_gif
from pixelpilot.agent.report.outcome import RunOutcome, read_outcome
from pixelpilot.agent.report.run import REPORT, render_run_report, write_run_report

__all__ = [
    "REPORT",
    "RunOutcome",
    "annotate",
    "read_outcome",
    "render_run_report",
    "save_annotated",
    "shapes",
    "svg_overlay",
    "write_gif",
    "write_run_report",
]
