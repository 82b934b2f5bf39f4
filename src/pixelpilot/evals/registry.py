"""The benchmark registry: names for `pixelpilot eval NAME`, resolved lazily to classes.

A benchmark is a `pixelpilot.evals.base.Benchmark` subclass with an `Options` pydantic model;
adding one is one `BENCHMARKS.register(...)` line here, or an entry point in the
`pixelpilot.benchmarks` group of another distribution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pixelpilot.evals.base import Benchmark
from pixelpilot.registry import Registry, require_class, validate_options

# Benchmark subclasses; plugins: `pixelpilot.benchmarks`.
BENCHMARKS: Registry[type[Benchmark[Any]]] = Registry(
    "benchmark", group="pixelpilot.benchmarks", check=require_class(Benchmark)
)
BENCHMARKS.register(
    "screenspot",
    "pixelpilot.evals.screenspot.benchmark:ScreenSpot",
    help="ScreenSpot v1 (SeeClick) grounding: --data holds screenspot_*.json + images",
)
BENCHMARKS.register(
    "screenspot-v2",
    "pixelpilot.evals.screenspot.benchmark:ScreenSpotV2",
    help="ScreenSpot-v2 (OS-Atlas) grounding: --data holds screenspot_*_v2.json + images",
)
BENCHMARKS.register(
    "screenspot-pro",
    "pixelpilot.evals.screenspot.benchmark:ScreenSpotPro",
    help="ScreenSpot-Pro grounding: --data holds annotations/ and images/",
)
BENCHMARKS.register(
    "androidcontrol",
    "pixelpilot.evals.androidcontrol.benchmark:AndroidControl",
    help="AndroidControl offline steps: --data holds the TFRecord files and splits.json",
)
BENCHMARKS.register(
    "miniwob",
    "pixelpilot.evals.miniwob.benchmark:MiniWob",
    help="MiniWoB++ online episodes in Chromium (pages from the miniwob package; no --data)",
)
BENCHMARKS.register(
    "desktop",
    "pixelpilot.evals.desktop.benchmark:DesktopBenchmark",
    help="the desktop: task suite on real applications in a private Xvfb (no --data)",
)


def create_benchmark(name: str, options: Mapping[str, Any] | None = None) -> Benchmark[Any]:
    """Build a registered benchmark with `options` for its Options model.

    Raises:
        UnknownNameError: no benchmark has that name (the message lists them).
        ConfigError: an option is unknown or invalid.
    """
    cls: Any = BENCHMARKS.load(name)
    parsed = validate_options(cls.Options, options, f"'{name}' benchmark")
    benchmark: Benchmark[Any] = cls(parsed)
    return benchmark
