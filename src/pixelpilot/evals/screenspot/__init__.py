"""ScreenSpot v1, v2 and Pro (grounding): `benchmark` scores, `data` loads the published layouts."""
