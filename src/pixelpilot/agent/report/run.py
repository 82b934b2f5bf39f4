"""The run report: one HTML page for a run directory (`pixelpilot show`).

The page shows the task, environment, model and provenance, how the run ended (the
environment's judgement and the policy's claim, side by side and never merged), totals, and one
<section class="step"> per step: the screenshot with the action drawn at its pixel, the raw
output, the parsed action or the error, risk and approval, what was executed, and the per-phase
timings. A run cut off mid-step still renders: the step whose record was lost is a section with
the class `torn` and says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from pixelpilot.actions import Action, action_from_json, describe
from pixelpilot.agent.report.draw import svg_overlay
from pixelpilot.agent.report.outcome import judged_tone, read_outcome
from pixelpilot.agent.report.page import card, esc, flatten, image_src, render_page, table
from pixelpilot.agent.report.timings import bar, total
from pixelpilot.agent.trajectory import RunRecord, load_run, screenshot_name
from pixelpilot.errors import ParseError, UserError

REPORT = "report.html"


@dataclass(frozen=True)
class StepView:
    """What one section shows: a recorded step, or a torn one rebuilt from its intent."""

    index: int
    record: dict[str, Any]
    torn: str = ""  # why the step is incomplete; "" for a finished step


def parse_action(data: Any) -> Action | None:
    """The recorded action object as an Action, or None when absent or unrecognised."""
    if not isinstance(data, dict):
        return None
    try:
        return action_from_json(data)
    except ParseError:
        return None


def step_views(record: RunRecord) -> list[StepView]:
    """Every finished step, then the torn ones: pending intents and screenshots of steps whose
    record was lost."""
    views = [StepView(int(s["index"]), s) for s in record.steps]
    seen = {v.index for v in views}
    for intent in record.pending:
        index = int(intent["index"])
        seen.add(index)
        views.append(
            StepView(
                index,
                {"screenshot": intent.get("screenshot"), "action": intent.get("action")},
                "the run stopped while executing this action: it may or may not have run",
            )
        )
    last = max(seen, default=0)
    index = last + 1
    while (record.run_dir / screenshot_name(index)).exists():
        views.append(
            StepView(
                index,
                {"screenshot": screenshot_name(index)},
                "the run stopped during this step: its record was never completed",
            )
        )
        index += 1
    return sorted(views, key=lambda v: v.index)


def _badges(view: StepView, action: Action | None) -> str:
    rec = view.record
    out = [f'<span class="badge">{esc(describe(action))}</span>' if action else ""]
    if view.torn:
        out.append('<span class="badge bad">incomplete</span>')
    if rec.get("error_kind"):
        out.append(f'<span class="badge bad">error: {esc(rec["error_kind"])}</span>')
    risk = rec.get("risk")
    if isinstance(risk, dict) and risk.get("level"):
        tone = {"low": "good", "high": "warn", "blocked": "bad"}.get(str(risk["level"]), "")
        out.append(f'<span class="badge {tone}">risk: {esc(risk["level"])}</span>')
    if rec.get("approval") and rec["approval"] != "allow":
        out.append(f'<span class="badge warn">{esc(rec["approval"])}</span>')
    return "".join(out)


def _figure(view: StepView, actions: list[Action], run_dir: Path, base: Path, embed: bool) -> str:
    name = view.record.get("screenshot")
    path = run_dir / name if isinstance(name, str) else None
    if path is None or not path.exists():
        return '<div class="banner">no screenshot recorded for this step</div>'
    screen = view.record.get("screen")
    if isinstance(screen, list) and len(screen) == 2:
        size = (int(screen[0]), int(screen[1]))
    else:
        with Image.open(path) as image:
            size = image.size
    svg, captions = svg_overlay(size, actions)
    src = image_src(path, relative_to=base, embed=embed)
    caps = "".join(f'<p class="caption">{esc(c)}</p>' for c in captions)
    return (
        f'<figure class="frame" style="margin:0"><img class="shot" src="{esc(src)}" '
        f'width="{size[0]}" height="{size[1]}" alt="step {view.index} screenshot">{svg}</figure>'
        f"{caps}"
    )


def _details(view: StepView, action: Action | None) -> str:
    rec = view.record
    rows: list[tuple[str, str]] = []
    if view.torn:
        rows.append(("incomplete", esc(view.torn)))
    if rec.get("action") is not None:
        kind = "intended action" if view.torn else "action"
        rows.append((kind, f"<code>{esc(json.dumps(rec['action'], ensure_ascii=False))}</code>"))
        if action is None:
            rows.append(("note", "the recorded action is not one this version understands"))
    for extra in rec.get("extra_actions") or []:
        rows.append(("then", f"<code>{esc(json.dumps(extra, ensure_ascii=False))}</code>"))
    if rec.get("error"):
        rows.append((f"error ({esc(rec.get('error_kind') or '?')})", esc(rec["error"])))
    risk = rec.get("risk")
    if isinstance(risk, dict):
        rows.append(("risk", esc(f"{risk.get('level', '?')}: {risk.get('reason') or ''}")))
    if rec.get("approval"):
        reason = rec.get("approval_reason") or ""
        rows.append(("approval", esc(f"{rec['approval']}{': ' + reason if reason else ''}")))
    if "executed" in rec:
        rows.append(("executed", esc(rec["executed"] or "nothing")))
    if rec.get("interrupted"):
        rows.append(("interrupted", "the action was cut off: it may or may not have run"))
    if rec.get("blocked"):
        rows.append(("blocked", esc("; ".join(str(b) for b in rec["blocked"]))))
    for key in ("url", "app"):
        if rec.get(key):
            rows.append((key, esc(rec[key])))
    if rec.get("a11y"):  # the step's accessibility tree, a file beside the screenshot
        rows.append(("a11y tree", f'<a href="{esc(rec["a11y"])}">{esc(rec["a11y"])}</a>'))
    if rec.get("screen"):
        w, h = rec["screen"]
        interface = f"{rec.get('platform', '?')} interface"
        rows.append(("screen", esc(f"{w}x{h} px, scale {rec.get('scale', 1)}, {interface}")))
    return '<dl class="kv">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _section(view: StepView, run_dir: Path, base: Path, embed: bool, scale: float) -> str:
    rec = view.record
    action = parse_action(rec.get("action"))
    extras = [a for a in (parse_action(e) for e in rec.get("extra_actions") or []) if a]
    drawn = [action, *extras] if action is not None else []
    classes = "step" + (" torn" if view.torn else "") + (" error" if rec.get("error") else "")
    title = describe(action) if action else (rec.get("error_kind") or "no action")
    raw = rec.get("raw_output")
    raw_html = (
        f"<details open><summary>raw output</summary><pre>{esc(raw)}</pre></details>" if raw else ""
    )
    timings = rec.get("timings") or {}
    timing_html = f"<h3>timings</h3>{bar(timings, scale=scale)}" if not view.torn else ""
    return (
        f'<section class="{classes}" id="step-{view.index}" data-index="{view.index}" '
        f'data-title="step {view.index}: {esc(title)}">'
        f"<h2>Step {view.index} {_badges(view, action)}</h2>"
        f'<div class="cols"><div>{_figure(view, drawn, run_dir, base, embed)}</div>'
        f"<div>{_details(view, action)}{timing_html}{raw_html}</div></div></section>"
    )


def _replay_line(replay: dict[str, Any], base: Path) -> str:
    """What a replay did, with a link to the recorded screenshot it diverged from."""
    source = Path(str(replay.get("source", "")))
    parts = [
        f"replay of {esc(str(source))}: {esc(replay.get('replayed'))} of "
        f"{esc(replay.get('recorded_actions'))} recorded actions ran again"
    ]
    step = replay.get("diverged_at")
    if isinstance(step, int):
        shot = source / screenshot_name(step)
        link = esc(image_src(shot, relative_to=base, embed=False))
        parts.append(
            f'the screen differed from <a href="{link}">recorded step {step}</a> by '
            f"{esc(replay.get('difference_percent'))}% "
            f"(threshold {esc(replay.get('threshold_percent'))}%)"
        )
    if replay.get("handed_over_at") is not None:
        parts.append(f"the fallback policy decided from recorded step {replay['handed_over_at']}")
    return f'<div class="banner">{"; ".join(parts)}</div>'


def _summary(record: RunRecord, base: Path) -> str:
    meta, result = record.meta, record.result
    outcome = read_outcome(result)
    task = meta.get("task") or {}
    goal = task.get("goal") if isinstance(task, dict) else str(task)
    claim_word = outcome.claim or "no claim"
    cards = [
        card(
            "judged by the environment",
            outcome.judged,
            tone=judged_tone(outcome.judged),
            title="the environment's own check of the task",
        ),
        card("claimed by the policy", claim_word, title="what the policy said when it stopped"),
        card("status", outcome.status, title=outcome.reason),
        card("steps", str(len(record.steps))),
    ]
    env, model = meta.get("env"), meta.get("model")
    if isinstance(env, dict) and env.get("name"):
        cards.append(card("environment", str(env["name"]), title="which environment ran"))
    if isinstance(model, dict) and model.get("spec"):
        cards.append(card("model", str(model["spec"])))
    if outcome.seconds is not None:
        cards.append(card("duration", f"{outcome.seconds:.1f} s"))
    if outcome.reward is not None:
        cards.append(card("reward", f"{outcome.reward:g}"))
    if outcome.answer is not None:
        cards.append(card("answer", str(outcome.answer)))
    errors = sum(1 for s in record.steps if s.get("error"))
    if errors:
        cards.append(card("steps with errors", str(errors), tone="bad"))
    warnings = "".join(f'<div class="banner">{esc(w)}</div>' for w in record.warnings)
    reason = f"<p>{esc(outcome.status)}: {esc(outcome.reason)}</p>" if outcome.reason else ""
    if result and result.get("error_type"):
        reason += f"<p>error type: <code>{esc(result['error_type'])}</code></p>"
    if result and result.get("outcome_detail"):
        reason += f"<p>environment's check: {esc(result['outcome_detail'])}</p>"
    events = ((result or {}).get("safety") or {}).get("events") or {}
    flagged = [
        f"{kind.replace('_', ' ')} at step {', '.join(map(str, steps))}"
        for kind, steps in events.items()
        if steps
    ]
    if flagged:
        reason += f'<div class="banner">safety: {esc("; ".join(flagged))}</div>'
    if result and isinstance(result.get("replay"), dict):
        reason += _replay_line(result["replay"], base)
    return (
        f'<header class="top"><h1>{esc(goal or "(no goal recorded)")}</h1>'
        f'<div class="cards">{"".join(cards)}</div>{reason}{warnings}</header>'
    )


def _provenance(meta: dict[str, Any]) -> str:
    rows = [(key, value) for key, value in flatten("", meta) if key != "command"]
    if isinstance(meta.get("command"), list):
        rows.append(("command", " ".join(str(part) for part in meta["command"])))
    return (
        "<details><summary>task, environment, model and provenance</summary>"
        + table(["key", "value"], rows, numeric=False)
        + "</details>"
    )


def render_run_report(record: RunRecord, *, embed: bool = False, base: Path | None = None) -> str:
    """The report page of a run read by `load_run`.

    Args:
        record: the run; its screenshots are read from `record.run_dir`.
        embed: put the screenshots inside the page as data: URLs (a file to send around);
            otherwise the page refers to the PNGs beside it in the run directory.
        base: the folder the page will be written to (default the run directory); image
            paths are relative to it.
    """
    base = record.run_dir if base is None else base
    views = step_views(record)
    scale = max((total(v.record.get("timings") or {}) for v in views), default=0.0)
    nav = (
        '<nav class="bar"><button id="prev" title="previous step (←, k)">←</button>'
        '<button id="play" title="play (space)">▶ play</button>'
        '<button id="next" title="next step (→, j)">→</button>'
        '<span id="counter" class="hint"></span><div id="filmstrip"></div></nav>'
    )
    sections = "".join(_section(v, record.run_dir, base, embed, scale) for v in views)
    if not views:
        sections = '<div class="banner">this run recorded no steps</div>'
    body = (
        f"{_summary(record, base)}{nav}<main>{_provenance(record.meta)}{sections}</main>"
        f'<footer class="hint" style="padding:0 24px 24px">keys: → / j next, ← / k previous, '
        f"space play, Home / End first / last</footer>"
    )
    task = record.meta.get("task") or {}
    title = (task.get("name") or task.get("goal") or "run") if isinstance(task, dict) else "run"
    return render_page(f"pixelpilot run: {title}", body, kind="run")


def write_run_report(
    run_dir: Path | str, *, out: Path | str | None = None, embed: bool = False
) -> Path:
    """Write the report of the run in `run_dir` and return its path.

    Args:
        run_dir: a run directory (meta.json, trajectory.jsonl, step PNGs, result.json).
        out: where to write (default RUN_DIR/report.html). Without `embed` the page refers to
            the screenshots relative to its own folder.
        embed: put the screenshots inside the page.

    Raises:
        UserError: `run_dir` is not a run directory, or the report cannot be written.
    """
    record = load_run(run_dir)
    path = Path(out) if out is not None else record.run_dir / REPORT
    page = render_run_report(record, embed=embed, base=path.parent)
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    return path
