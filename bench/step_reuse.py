"""Work reused across agent steps: prompt tokens computed and time to first token, per step;
and across the items of a batch: prompt tokens computed per item and time per batch.

    python bench/step_reuse.py [--steps 15] [--image-history 0] [--model DIR]
                               [--batch 4] [--batch-steps 3] [--rounds 5]

Two policies on the same checkpoint (default: the tiny one, built here; CPU, 1 thread, greedy)
play the same episode on the fake environment (a step counter drawn on each screenshot, so
every screen differs), step by step in turn: one with
`reuse_prefix=false, reuse_vision=false` (every step prefills the whole prompt and encodes
every screenshot in the window), one with the defaults (prefix KV cache and vision embeddings
reused). Per step: prompt tokens, tokens computed (prefilled), and the time to the first token
(from the policy's predict call to the first logits: prompt, preprocessing, vision encoder and
prefill). The outputs of the two are checked to be identical at every step. The issue's
targets: at step 10 with text history at most 30% of the prompt is computed; with
image_history=3 one image through the vision encoder per step (the column "images encoded"
counts the images the vision tower ran on).

Then the batch figure (`--batch 0` skips it): `--batch` episodes with different goals run side
by side, one predict_batch per step, as the batching front sends them. For each of the first
`--batch-steps` steps the same batch goes to both policies in turn, A, B, A, B (`timing.
interleaved`, one untimed call each first), `--rounds` times: prompt tokens computed per item
(with sharing: the prefix all items share is prefilled once at batch size 1 and kept across
calls; the untimed first call is the one that prefills it, its count is printed), the whole
predict_batch and the time to its first token, min and median in ms. The outputs of the two
are checked to be identical on every call.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from PIL import ImageDraw

from pixelpilot.actions import Observation
from pixelpilot.env import FakeEnv
from pixelpilot.model import History, HistoryEntry, Prediction
from pixelpilot.model.qwen.reuse import BatchReuse
from pixelpilot.model.qwen.tiny import build_tiny_checkpoint
from pixelpilot.model.qwen.transformers_backend import Qwen25VLConfig, Qwen25VLPolicy
from timing import interleaved, machine, min_median  # bench/timing.py, beside this script

GOALS = (
    "open settings and turn on wifi",
    "search for cats",
    "open mail",
    "log in as admin and change the password",
)


def stamped(observation: Observation, step: int) -> Observation:
    """The observation with a step counter drawn in a corner, so every step's screen differs
    (as a real screen's clock or content does; the tiny model's random clicks rarely change the
    fake environment's screen)."""
    image = observation.screenshot.copy()
    ImageDraw.Draw(image).text((4, 4), f"step {step}", fill=(255, 0, 0))
    return dataclasses.replace(observation, screenshot=image)


def advance(
    env: FakeEnv, observation: Observation, history: History, prediction: Prediction, step: int
) -> tuple[Observation, History]:
    """The next observation and history after `prediction` (its action executed if it can be)."""
    entry = HistoryEntry(
        action=prediction.action,
        raw_text=prediction.raw_text,
        error=prediction.error,
        screenshot=observation.screenshot,
        screen_size=observation.size,
    )
    action = prediction.action
    if action is not None and action.type in env.supported_actions:
        env.execute(action)
    return stamped(env.observe(), step), History(history.goal, (*history.steps, entry))


class _FirstToken:
    """A logits processor that notes when the first token's scores exist."""

    def __init__(self) -> None:
        self.at: float | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.at is None:
            self.at = time.perf_counter()
        return scores


class _Timed:
    """Wraps a policy's generate() to time the first token and count the images encoded."""

    def __init__(self, policy: Qwen25VLPolicy) -> None:
        self.policy = policy
        self.first_token: list[float] = []
        self.images_encoded = 0
        self._generate = policy.model.generate
        policy.model.generate = self._call
        self._predict_batch = policy.predict_batch
        policy.predict_batch = self._predict  # type: ignore[method-assign]
        self._started = 0.0
        policy.model.model.visual.register_forward_hook(self._count, with_kwargs=True)

    def _count(self, module: Any, args: Any, kwargs: Any, output: Any) -> None:
        grids = kwargs.get("grid_thw", args[1] if len(args) > 1 else None)
        self.images_encoded += 1 if grids is None else len(grids)

    def _predict(self, items: Any) -> Any:
        self._started = time.perf_counter()
        return self._predict_batch(items)

    def _call(self, **kwargs: Any) -> Any:
        probe = _FirstToken()
        kwargs["logits_processor"] = [*kwargs.get("logits_processor", []), probe]
        out = self._generate(**kwargs)
        self.first_token.append((probe.at or time.perf_counter()) - self._started)
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a local checkpoint (default: the tiny one)")
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--image-history", type=int, default=0)
    parser.add_argument("--batch", type=int, default=4, help="episodes per batch; 0: no batch")
    parser.add_argument("--batch-steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error("--steps must be at least 2 (step 1 has nothing to reuse; later ones do)")
    print(machine())
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.model or build_tiny_checkpoint(Path(scratch) / "tiny")
        options = {"cpu_threads": 1, "image_history": args.image_history, "max_new_tokens": 160}
        runs = {
            name: _Timed(
                Qwen25VLPolicy.from_spec(
                    str(folder),
                    Qwen25VLConfig(
                        **options, reuse_prefix=name == "reuse", reuse_vision=name == "reuse"
                    ),
                )
            )
            for name in ("plain", "reuse")
        }
        envs = {name: FakeEnv() for name in runs}
        observations = {name: env.reset() for name, env in envs.items()}
        histories = {name: History(goal="open settings and turn on wifi") for name in runs}
        print(f"model: {folder}  image_history: {args.image_history}  steps: {args.steps}")
        print(
            f"{'step':>4} {'prompt':>7} {'computed (reuse)':>17} {'share':>6} "
            f"{'ttft plain ms':>13} {'ttft reuse ms':>13} {'images encoded':>14}"
        )
        shares = []
        for step in range(1, args.steps + 1):
            texts = {}
            for name, timed in runs.items():
                encoded = timed.images_encoded
                prediction = timed.policy.predict(observations[name], histories[name])
                texts[name] = prediction.raw_text
                timed.encoded_step = timed.images_encoded - encoded  # type: ignore[attr-defined]
                observations[name], histories[name] = advance(
                    envs[name], observations[name], histories[name], prediction, step
                )
            if texts["plain"] != texts["reuse"]:
                print(f"step {step}: outputs differ", file=sys.stderr)
                return 1
            reuse = runs["reuse"].policy.last_reuse
            shares.append(reuse.computed / reuse.total)
            print(
                f"{step:4} {reuse.total:7} {reuse.computed:17} {shares[-1]:6.0%} "
                f"{runs['plain'].first_token[-1] * 1000:13.1f} "
                f"{runs['reuse'].first_token[-1] * 1000:13.1f} "
                f"{runs['reuse'].encoded_step:14}"  # type: ignore[attr-defined]
            )
        plain, reused = runs["plain"].first_token, runs["reuse"].first_token
        print(
            f"time to first token, median over steps 2-{args.steps}: plain "
            f"{statistics.median(plain[1:]) * 1000:.1f} ms, reuse "
            f"{statistics.median(reused[1:]) * 1000:.1f} ms; outputs identical at every step"
        )
        if len(shares) >= 10:
            print(f"computed share at step 10: {shares[9]:.0%} (target <= 30% with text history)")
        if args.batch and not batch_figure(runs, args.batch, args.batch_steps, args.rounds):
            return 1
    return 0


def batch_figure(runs: dict[str, _Timed], size: int, steps: int, rounds: int) -> bool:
    """Print the batch figure (see the module docstring); False when the outputs differ."""
    goals = [f"{GOALS[i % len(GOALS)]} (episode {i + 1})" for i in range(size)]
    envs = [FakeEnv() for _ in goals]
    observations = [env.reset() for env in envs]
    histories = [History(goal=goal) for goal in goals]
    calls: dict[str, list[tuple[list[Prediction], BatchReuse]]] = {name: [] for name in runs}

    def call(name: str) -> None:
        policy = runs[name].policy
        predictions = policy.predict_batch(list(zip(observations, histories, strict=True)))
        calls[name].append((predictions, policy.last_batch_reuse))

    print(f"\nbatch of {size} episodes, {rounds} interleaved rounds per step (min / median ms)")
    print(
        f"{'step':>4} {'prompt/item':>11} {'computed/item plain':>19} {'shared':>6} "
        f"{'batch plain':>15} {'batch shared':>15} {'ttft plain':>15} {'ttft shared':>15}"
    )
    first_prefill = None
    for step in range(1, steps + 1):
        for made in calls.values():
            made.clear()
        seconds = {
            name: min_median(found)
            for name, found in interleaved({n: partial(call, n) for n in runs}, rounds).items()
        }
        ttft = {name: min_median(timed.first_token[-rounds:]) for name, timed in runs.items()}
        texts = {n: [[p.raw_text for p in c[0]] for c in made] for n, made in calls.items()}
        if any(found != texts["plain"][0] for made in texts.values() for found in made):
            print(f"step {step}: batch outputs differ", file=sys.stderr)
            return False
        first_prefill = calls["reuse"][0][1].prefilled_once if step == 1 else first_prefill
        plain, shared = calls["plain"][-1][1], calls["reuse"][-1][1]
        cells = [f"{a:6.1f} / {b:6.1f}" for a, b in (*seconds.values(), *ttft.values())]
        print(
            f"{step:4} {plain.overall.total / size:11.0f} {plain.computed_per_item:19.0f} "
            f"{shared.computed_per_item:6.0f} {' '.join(cells)}"
        )
        predictions = calls["plain"][-1][0]
        for index, prediction in enumerate(predictions):
            observations[index], histories[index] = advance(
                envs[index], observations[index], histories[index], prediction, step
            )
    print(
        f"shared prefix prefilled once, at batch size 1, in the first (untimed) call: "
        f"{first_prefill} tokens; outputs identical on every call"
    )
    return True


if __name__ == "__main__":
    sys.exit(main())
