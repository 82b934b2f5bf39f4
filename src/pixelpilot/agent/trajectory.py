"""Crash-safe run directories.

A run directory holds:
    meta.json          task, environment, model spec, versions, config, start time
    trajectory.jsonl   one complete record per finished step, appended and fsynced
    intents.jsonl      one record per action about to execute, fsynced BEFORE it executes
    step_0001.png ...  the screenshot each step was decided on
    step_0001.xml ...  its accessibility tree, when the environment gives one (Android a11y)
    result.json        status (how the episode ended), judged (solved / not solved / not
                       judged: the environment's verdict), claim (what the policy said), steps

Ordering makes a kill at any moment safe: a step's screenshot is on disk before its intent is
written, and its intent before its action runs; a step record is appended only once complete.
So after a crash every finished step is readable, and an intent without a step record says
exactly which action may or may not have run. PNG encoding runs on a writer thread that starts
as soon as the screenshot is captured, overlapping with the policy's prediction.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from pixelpilot.agent.folder_lock import FolderLock, claim_folder
from pixelpilot.errors import UserError

META = "meta.json"
STEPS = "trajectory.jsonl"
INTENTS = "intents.jsonl"
RESULT = "result.json"


def screenshot_name(index: int) -> str:
    return f"step_{index:04d}.png"


@dataclass(frozen=True)
class SavedScreenshot:
    path: Path
    sha256: str
    encode_seconds: float


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` durably: a temporary file beside it, fsynced, then renamed over
    `path`, so a reader sees the old file or the whole new one, never a part."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def claim_run_dir(run_dir: Path, *, what: str = "run directory") -> FolderLock:
    """Create `run_dir` and hold its lock (see `FolderLock`); a command checks this before
    anything starts, so a busy or used `--out` is refused before an environment or a model is
    loaded. A refused claim changes no file.

    Raises:
        UserError: the directory cannot be created, another process writes it (or a folder it
            is in), or it already holds a trajectory.
    """
    lock = claim_folder(run_dir, what=what)  # a busy one is refused naming its process
    if (lock.folder / STEPS).exists():
        lock.release()
        raise UserError(f"{run_dir} already holds a trajectory; choose another --out directory")
    return lock


class Recorder:
    """Writes one run directory. Thread-safe for the loop's single writer thread.

    Args:
        run_dir: the directory (created; must not already hold a trajectory; held by this
            recorder until `close`: one writer per run directory).
        meta: JSON-serialisable run metadata for meta.json.
        png_compress_level: zlib level for step PNGs (1 = fast; 9 = small). Level 1 encodes a
            1920x1080 screen several times faster than Pillow's default 6 at a modest size cost;
            see bench/step_overhead.py.
        redact: applied to every record before it is written (meta, intents, steps, result),
            e.g. `Secrets.redact_data`, so no secret value reaches the disk.
        claim: the directory's lock from `claim_run_dir`, taken over (released at `close`).

    Raises:
        UserError: as `claim_run_dir`.
    """

    def __init__(
        self,
        run_dir: Path | str,
        *,
        meta: dict[str, Any],
        png_compress_level: int = 1,
        redact: Callable[[Any], Any] | None = None,
        claim: FolderLock | None = None,
    ) -> None:
        self.redact = redact or (lambda data: data)
        meta = self.redact(meta)
        self.run_dir = Path(run_dir)
        if claim is not None and claim.held and claim.folder == self.run_dir:
            self._folder = claim
        else:
            self._folder = claim_run_dir(self.run_dir)
        self.png_compress_level = png_compress_level
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pixelpilot-recorder")
        write_atomic(self.run_dir / META, _dumps(meta, indent=2).encode())
        self._steps = open(self.run_dir / STEPS, "a", encoding="utf-8")  # noqa: SIM115
        self._intents = open(self.run_dir / INTENTS, "a", encoding="utf-8")  # noqa: SIM115
        self.closed = False

    def save_screenshot(self, index: int, image: Image.Image) -> Future[SavedScreenshot]:
        """Start writing the step's PNG on the writer thread; the future gives its sha256."""
        return self._pool.submit(self._encode, index, image)

    def _encode(self, index: int, image: Image.Image) -> SavedScreenshot:
        import time

        start = time.perf_counter()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=self.png_compress_level)
        data = buffer.getvalue()
        path = self.run_dir / screenshot_name(index)
        write_atomic(path, data)
        return SavedScreenshot(
            path=path,
            sha256=hashlib.sha256(data).hexdigest(),
            encode_seconds=time.perf_counter() - start,
        )

    def save_text(self, name: str, text: str) -> Path:
        """Write a text file beside the step screenshots (e.g. `step_0001.xml`, a step's
        accessibility tree), redacted like every record, atomically."""
        path = self.run_dir / name
        write_atomic(path, str(self.redact(text)).encode("utf-8"))
        return path

    def write_intent(self, record: dict[str, Any]) -> None:
        """Append an intent and force it to disk before the action executes."""
        self._append(self._intents, record)

    def write_step(self, record: dict[str, Any]) -> None:
        """Append a finished step's complete record and force it to disk."""
        self._append(self._steps, record)

    def _append(self, handle: Any, record: dict[str, Any]) -> None:
        line = _dumps(self.redact(record)) + "\n"
        with self._lock:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def finish(self, result: dict[str, Any]) -> None:
        """Write result.json (atomically) once the episode has ended."""
        write_atomic(self.run_dir / RESULT, _dumps(self.redact(result), indent=2).encode())

    def close(self) -> None:
        """Wait for pending screenshots and close the files. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        self._pool.shutdown(wait=True)
        self._steps.close()
        self._intents.close()
        self._folder.release()


def _dumps(obj: Any, indent: int | None = None) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=indent, default=str)


@dataclass
class RunRecord:
    """A run directory read back.

    Attributes:
        steps: the step records, in order.
        pending: intents whose action may or may not have run: their step never finished (the
            process died while or just before executing them), or its record says the
            execution was cut off (`interrupted`: the environment failed, the budget ran out).
        result: result.json, or None when the run did not finish.
        warnings: what was repaired while reading (e.g. a torn last line).
    """

    run_dir: Path
    meta: dict[str, Any]
    steps: list[dict[str, Any]]
    pending: list[dict[str, Any]]
    result: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)


def _read_jsonl(path: Path, warnings: list[str]) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines) and not raw.endswith(b"\n"):
                warnings.append(f"{path.name}: ignored a torn last line (the run was cut off)")
                continue
            raise UserError(f"{path}:{number} is not valid JSON; the file is damaged") from None
    return records


def load_run(run_dir: Path | str) -> RunRecord:
    """Read a run directory, tolerating a torn last line in the JSONL files.

    Raises:
        UserError: the directory is not a run directory, or a line other than the last is
            damaged.
    """
    run_dir = Path(run_dir)
    meta_path = run_dir / META
    if not meta_path.exists():
        raise UserError(f"{run_dir} is not a pixelpilot run directory (no {META})")
    warnings: list[str] = []
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    steps = _read_jsonl(run_dir / STEPS, warnings)
    intents = _read_jsonl(run_dir / INTENTS, warnings)
    finished = {s["index"] for s in steps if not s.get("interrupted")}
    pending = [i for i in intents if i["index"] not in finished]
    result_path = run_dir / RESULT
    result = json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else None
    if pending:
        warnings.append(
            "the run stopped while executing step "
            + ", ".join(str(p["index"]) for p in pending)
            + " (that action may or may not have run)"
        )
    return RunRecord(run_dir, meta, steps, pending, result, warnings)
