"""Test-wide settings.

Hypothesis: no per-example deadline (these machines are shared and timing is noisy, and speed is
measured in bench/, never in tests); under CI (`CI` set) the search is derandomized so that a
submission's result does not depend on the luck of the draw.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")
