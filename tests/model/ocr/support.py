"""Shared pieces of the OCR baseline's tests: a module-wide policy and a browser observation."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PIL import Image

from pixelpilot.actions import Observation
from pixelpilot.model import create_policy
from pixelpilot.model.ocr.policy import OCRPolicy


def policy_fixture(**options: object) -> Callable[[], Iterator[OCRPolicy]]:
    """A module-scoped `policy` fixture: one OCR engine per test module, closed at its end."""

    @pytest.fixture(scope="module", name="policy")
    def policy() -> Iterator[OCRPolicy]:
        created = create_policy("ocr", options)
        assert isinstance(created, OCRPolicy)
        yield created
        created.close()

    return policy


def observe(image: Image.Image) -> Observation:
    return Observation(screenshot=image, platform="browser")
