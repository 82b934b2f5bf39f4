"""The OCR baseline's ScreenSpot-v2 accuracy on generated screenshots with text-labelled targets.

    python bench/ocr_screenspot.py [--per-platform 40] [--out DIR]

Builds a ScreenSpot-v2 folder from the real annotation geometry in
`shared/data/screenspot-v2-annotations/` (the first N records of each platform file): every
screenshot has its annotated size, and each target box is painted white with its instruction
written inside as large as fits (so small icon boxes get small text, as on a real screen, and
targets sharing a screenshot are each other's distractors). Then runs `pixelpilot eval
screenspot-v2 --model ocr` on it, and, in the same run, a trivial baseline that clicks the
centre of the screenshot. Prints both accuracies per platform; the reports stay in --out.

These are synthetic screens: the figure measures the text-matching pipeline end to end, not
the baseline's accuracy on real ScreenSpot screenshots (icons carry no text there).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.evals import support

from pixelpilot.actions import Click, Observation
from pixelpilot.evals import create_benchmark, evaluate
from pixelpilot.model import History, PolicyBase, Prediction, create_policy


class CentrePolicy(PolicyBase):
    """Clicks the middle of the screenshot: the floor any grounding model must beat."""

    spec = "centre"

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        return [Prediction(Click(x=o.size.width // 2, y=o.size.height // 2)) for o, _ in items]

    def describe(self) -> dict[str, object]:
        return {"backend": "centre-click baseline"}


def platform_line(report: dict[str, object]) -> str:
    rows = report["breakdowns"]["platform"]["rows"]  # type: ignore[index]
    return "  ".join(f"{row['platform']} {row['all']:.1f}%" for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-platform", type=int, default=40, help="records per platform file")
    parser.add_argument("--out", help="folder for the data set and reports (default: temporary)")
    args = parser.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="ocr-screenspot-"))
    records = {p: support.real_annotations(p)[: args.per_platform] for p in support.PLATFORMS}
    started = time.perf_counter()
    data = support.make_screenspot(root / "data", records, labels=True)
    count = sum(map(len, records.values()))
    print(f"built {count} samples in {time.perf_counter() - started:.1f}s: {data}")

    bench = create_benchmark("screenspot-v2")
    results = {}
    for name, policy in (("centre", CentrePolicy()), ("ocr", create_policy("ocr"))):
        started = time.perf_counter()
        result = evaluate(
            bench,
            policy,
            data=data,
            out=root / name,
            model_info={"spec": policy.spec, **policy.describe()},
        )
        seconds = time.perf_counter() - started
        results[name] = result.report
        counts = result.report["counts"]
        print(
            f"{name:>6}: accuracy {result.report['headline']['percent']:.1f}% "
            f"({platform_line(result.report)}), {counts['unparsed']} unparsed of "
            f"{counts['scored']}, {seconds / max(counts['scored'], 1):.2f}s per sample"
        )
    gain = results["ocr"]["headline"]["percent"] - results["centre"]["headline"]["percent"]
    print(f"ocr - centre baseline: {gain:+.1f} points; reports in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
