"""predictions.jsonl reading and writing, data checksums, run provenance, and what differs
between a saved run's settings and a resumed one's (`differences`).

predictions.jsonl holds one JSON object per line, one per sample, appended as samples finish
and flushed after every batch, so an interrupted run loses at most the batch in flight. A
partial last line (the process died while writing it) is cut off on resume.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from pixelpilot.errors import ConfigError
from pixelpilot.evals.base import Problems, Record

IDENTITY_KEYS = ("benchmark", "data", "model")  # what a resumed run must share with the saved one
VOLATILE = {"load_seconds"}  # differs on every start of the same model: not part of its identity
FULL_HASH_LIMIT = 64 << 20  # bytes; larger files are fingerprinted by size, head and tail
_EDGE = 1 << 20


def read_predictions(path: Path, problems: Problems, *, repair: bool = False) -> dict[str, Record]:
    """The records of a predictions.jsonl by id (first occurrence wins).

    Malformed lines, records without a string `id` and repeated ids go to `problems`. With
    `repair`, a partial last line (no trailing newline, not valid JSON) is cut off the file.

    Raises:
        OSError: the file cannot be read.
    """
    data = path.read_bytes()
    if repair and data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        try:
            json.loads(data[cut:])
            data += b"\n"
            with path.open("ab") as handle:
                handle.write(b"\n")
        except ValueError:
            data = data[:cut]
            with path.open("r+b") as handle:
                handle.truncate(cut)
    records: dict[str, Record] = {}
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            problems.add("malformed prediction", where, f"not JSON: {exc}")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            problems.add("malformed prediction", where, "not an object with a string 'id'")
            continue
        if record["id"] in records:
            problems.add(
                "duplicate id", where, f"id {record['id']!r} appears earlier; this line is ignored"
            )
            continue
        records[record["id"]] = record
    return records


class PredictionWriter:
    """Appends records to a predictions.jsonl, one JSON line each, flushed per batch."""

    def __init__(self, path: Path, *, append: bool) -> None:
        self.path = path
        self._handle: IO[str] = path.open("a" if append else "w", encoding="utf-8")

    def write(self, records: Iterable[Record]) -> None:
        for record in records:
            self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a temporary file renamed into place)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def fingerprint(files: Iterable[Path]) -> dict[str, Any]:
    """A sha256 over the data files: each file's name and size, then its whole content, or for
    files over 64 MiB its first and last MiB (what `method` says)."""
    digest = hashlib.sha256()
    count = 0
    total = 0
    partial = False
    for path in sorted(files, key=lambda p: p.name):
        size = path.stat().st_size
        count += 1
        total += size
        digest.update(f"{path.name}\0{size}\0".encode())
        with path.open("rb") as handle:
            if size <= FULL_HASH_LIMIT:
                while block := handle.read(1 << 20):
                    digest.update(block)
            else:
                partial = True
                digest.update(handle.read(_EDGE))
                handle.seek(size - _EDGE)
                digest.update(handle.read(_EDGE))
    method = "names, sizes and contents"
    if partial:
        method += f" (files over {FULL_HASH_LIMIT >> 20} MiB: first and last MiB only)"
    return {"sha256": digest.hexdigest(), "files": count, "bytes": total, "method": method}


def now() -> str:
    """The current local time, ISO 8601 with offset."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def read_run(path: Path) -> dict[str, Any] | None:
    """A run.json, or None when it is missing or not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_same_run(path: Path, run: dict[str, Any]) -> dict[str, Any]:
    """The saved run.json at `path`, when its benchmark, data and model match `run`'s.

    Raises:
        ConfigError: it cannot be read, or differs: the message names each field that
            differs, with its saved and its new value.
    """
    saved = read_run(path)
    if saved is None:
        raise ConfigError(f"cannot resume: {path} is missing or unreadable")
    then, now = ({key: _identity(side.get(key)) for key in IDENTITY_KEYS} for side in (saved, run))
    differ = [key for key in IDENTITY_KEYS if then[key] != now[key]]
    if differ:
        raise ConfigError(
            f"cannot resume {path.parent}: the {' and '.join(differ)} "
            f"{'differs' if len(differ) == 1 else 'differ'} from the saved run ({path.name}: "
            f"{'; '.join(differences(then, now))}); use the same settings or another --out"
        )
    return saved


def _identity(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k not in VOLATILE}


_UNSET = object()  # a setting one side does not have


def differences(saved: dict[str, Any], now: dict[str, Any], prefix: str = "") -> list[str]:
    """Every setting that differs, in words ("env option width was 800, now 1600"), in the
    order saved, a dict value key by key; empty when they are the same. Both sides are
    compared as JSON (a tuple and the list a saved file holds are alike)."""
    saved, now = plain(saved), plain(now)
    found: list[str] = []
    for key in dict.fromkeys([*saved, *now]):
        then_value, now_value = saved.get(key, _UNSET), now.get(key, _UNSET)
        if then_value == now_value:
            continue
        name = f"{prefix}{key}"
        if isinstance(then_value, dict) and isinstance(now_value, dict):
            found += differences(then_value, now_value, f"{name} ")
        else:
            found.append(f"{name} was {_show(then_value)}, now {_show(now_value)}")
    return found


def plain(data: Any) -> Any:
    """`data` through JSON, so that a recorded value and a fresh one compare alike (tuples,
    floats, paths)."""
    return json.loads(json.dumps(data, default=str))


def _show(value: Any) -> str:
    if value is _UNSET:
        return "unset"
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
