"""An animated GIF of a run: each step's screenshot with its action drawn (`pixelpilot show
RUN_DIR --gif out.gif`)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from pixelpilot.agent.report.draw import annotate
from pixelpilot.agent.report.run import parse_action, step_views
from pixelpilot.agent.trajectory import load_run
from pixelpilot.errors import UserError

GIF_WIDTH = 960  # pixels: frames wider than this are scaled down (GIFs of 4K screens are huge)
FRAME_MS = 1200  # milliseconds each step is shown


def write_gif(
    run_dir: Path | str, out: Path | str, *, width: int = GIF_WIDTH, frame_ms: int = FRAME_MS
) -> Path:
    """Write the annotated frames of the run in `run_dir` as an animated GIF at `out`.

    Args:
        width: the largest frame width in pixels (frames keep their aspect ratio).
        frame_ms: how long each frame is shown, in milliseconds.

    Raises:
        UserError: not a run directory, no screenshot to show, or `out` cannot be written.
    """
    record = load_run(run_dir)
    frames: list[Image.Image] = []
    for view in step_views(record):
        name = view.record.get("screenshot")
        path = record.run_dir / name if isinstance(name, str) else None
        if path is None or not path.exists():
            continue
        with Image.open(path) as image:
            action = parse_action(view.record.get("action"))
            extras = [a for a in map(parse_action, view.record.get("extra_actions") or []) if a]
            frame = annotate(image, action, *extras) if action else image.convert("RGB")
        if frame.width > width:
            frame = frame.resize((width, round(frame.height * width / frame.width)))
        frames.append(frame.convert("P", palette=Image.Palette.ADAPTIVE))
    if not frames:
        raise UserError(f"{run_dir} has no step screenshots to animate")
    out = Path(out)
    try:
        frames[0].save(
            out, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0
        )
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out
