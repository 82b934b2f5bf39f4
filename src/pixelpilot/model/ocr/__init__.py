"""The OCR baseline: a CPU policy that reads the screen (RapidOCR) and acts on what the goal names.

Modules: `policy` (OCRPolicy), `plan` (a goal as ordered targets), `text` (matching OCR lines to
targets: exact, case-insensitive, OCR-confusable glyphs, fuzzy), `icons` (close icons by shape).

May import: `pixelpilot.actions`, `pixelpilot.model.base`, `pixelpilot.errors`; RapidOCR only
inside functions (the `ocr` extra).
"""
