"""The pool's worker deaths (retried once on another worker, then listed), the wire format,
and the Ray extra's missing-install message; no Ray needed."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pixelpilot.actions import Click, Observation
from pixelpilot.cli import main
from pixelpilot.errors import MissingExtraError
from pixelpilot.evals.base import Problems, Record, Score
from pixelpilot.evals.parallel import EvalProgress, WorkerLost, run_pool
from pixelpilot.evals.parallel.ray_backend import import_ray
from pixelpilot.evals.parallel.wire import pack_folder, pack_items, unpack_folder, unpack_items
from pixelpilot.evals.records import PredictionWriter
from pixelpilot.model import History, HistoryEntry
from tests.evals.test_parallel import dataset


@dataclass(frozen=True)
class Sample:
    id: str


class DyingExecutor:
    """Online-style executor of `workers` fake workers: worker `dies_first` dies on its first
    chunk; any worker that runs a sample in `poison` dies."""

    online = True

    def __init__(self, workers: int, *, dies_first: int | None = None, poison: set[str]) -> None:
        self.workers = workers
        self.dies_first = dies_first
        self.poison = poison
        self.ran: dict[str, list[int]] = {}
        self.lock = threading.Lock()

    def open(self, k: int) -> int:
        return k

    def predict(self, handle: Any, chunk: list[Any], problems: Problems) -> list[Record]:
        with self.lock:
            for sample in chunk:
                self.ran.setdefault(sample.id, []).append(handle)
            if handle == self.dies_first:
                self.dies_first = None
                raise WorkerLost("worker died: killed")
        if any(sample.id in self.poison for sample in chunk):
            raise WorkerLost("worker died: poisoned")
        return [{"id": sample.id, "point": [1, 1]} for sample in chunk]

    def close(self, handle: Any) -> None:
        return None

    def shutdown(self) -> None:
        return None


def pool(tmp_path: Path, executor: DyingExecutor, count: int = 10) -> tuple[list[Any], Problems]:
    problems = Problems()
    samples = [Sample(f"s{i}") for i in range(count)]

    def score(bench: Any, sample: Any, record: Record, problems: Problems) -> Score:
        return Score(sample.id, True, False)

    with (
        PredictionWriter(tmp_path / "p.jsonl", append=False) as writer,
        EvalProgress("t", count, enabled=False, workers=executor.workers) as bar,
    ):
        done = run_pool(
            None,  # type: ignore[arg-type]
            executor,
            samples,
            problems,
            batch_size=1,
            take_saved=lambda sample: None,
            score=score,
            writer=writer,
            bar=bar,
        )
    return done, problems


def test_a_dead_workers_chunk_runs_again_on_another_worker(tmp_path: Path) -> None:
    executor = DyingExecutor(3, dies_first=0, poison=set())
    done, problems = pool(tmp_path, executor)
    assert [item.sample.id for item in done] == [f"s{i}" for i in range(10)]
    assert not problems.items
    retried = [runs for runs in executor.ran.values() if len(runs) == 2]
    assert len(retried) == 1 and retried[0][0] == 0 and retried[0][1] != 0
    assert len((tmp_path / "p.jsonl").read_text().splitlines()) == 10


def test_a_chunk_that_kills_its_retry_too_is_listed_and_the_rest_finish(tmp_path: Path) -> None:
    executor = DyingExecutor(3, poison={"s4"})
    done, problems = pool(tmp_path, executor)
    assert [item.sample.id for item in done] == [f"s{i}" for i in range(10) if i != 4]
    assert [(p.kind, p.where) for p in problems.items] == [("worker died", "s4")]
    assert "retried 1x" in problems.items[0].detail
    assert len(executor.ran["s4"]) == 2 and len(set(executor.ran["s4"])) == 2


def test_when_every_worker_died_the_run_stops_with_what_it_finished(tmp_path: Path) -> None:
    executor = DyingExecutor(2, poison={"s1", "s2", "s3"})
    with pytest.raises(WorkerLost, match="every worker died"):
        pool(tmp_path, executor)
    assert (tmp_path / "p.jsonl").read_text().count('"id": "s0"') == 1


@pytest.mark.parametrize("compress", [True, False])
def test_observations_and_histories_travel_without_loss(compress: bool) -> None:
    image = Image.effect_noise((64, 48), 80).convert("RGB")
    observation = Observation(image, platform="android", scale=2.0, url="u", app="a")
    history = History("goal", (HistoryEntry(Click(x=1, y=2), "raw", None, image, (64, 48)),))
    wire = pack_items([(observation, history)], compress=compress)
    packed = wire[0][0]["image"]
    if compress:  # between machines: PNG, smaller than the raw pixels
        assert set(packed) == {"png"} and len(packed["png"]) < 64 * 48 * 3 + 1000
    else:  # on one machine: the raw pixels, no encoding
        assert packed == {"mode": "RGB", "size": (64, 48), "raw": image.tobytes()}
    (obs, hist) = unpack_items(wire)[0]
    assert obs.screenshot.tobytes() == image.tobytes() and obs.platform == "android"
    assert (obs.scale, obs.url, obs.app) == (2.0, "u", "a")
    step = hist.steps[0]
    assert step.screenshot is not None and step.screenshot.tobytes() == image.tobytes()
    assert (hist.goal, step.action, step.raw_text, step.screen_size) == (
        "goal", Click(x=1, y=2), "raw", (64, 48)
    )  # fmt: skip


def test_run_directories_travel_as_zip_archives(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "meta.json").write_text("{}")
    (source / "sub" / "step_0001.png").write_bytes(b"\x89PNG...")
    target = tmp_path / "dst"
    target.mkdir()
    (target / "stale").write_text("x")
    unpack_folder(pack_folder(source), target)
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "meta.json", "sub/step_0001.png"
    ]  # fmt: skip
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escape.txt", "x")
    with pytest.raises(ValueError, match="leaves"):
        unpack_folder(buffer.getvalue(), tmp_path / "evil")
    assert not (tmp_path / "escape.txt").exists()


def test_a_missing_ray_names_the_pip_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'pixelpilot\[ray\]'"):
        import_ray()
    data = dataset(tmp_path / "set", per_platform=1)
    argv = ["eval", "screenspot-v2", "--data", str(data), "--model", "scripted:x",
            "--out", str(tmp_path / "out"), "--ray", "auto"]  # fmt: skip
    (tmp_path / "x").write_text("")
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install 'pixelpilot[ray]'" in err and "\n" not in err
