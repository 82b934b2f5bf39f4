"""Loaders for the ScreenSpot family's published layouts.

- v1 (SeeClick): `screenspot_{mobile,desktop,web}.json` + an image folder.
- v2 (OS-Atlas): `screenspot_{mobile,desktop,web}_v2.json` + an image folder.
- Pro: `annotations/*.json` (one file per application) + `images/`.

v1/v2 records come in two shapes, detected per record and reported per file:
- official: `bbox` = [x, y, w, h] with `data_type` and `data_source`; corners are
  x2 = x + w, y2 = y + h (SeeClick's convention, not x + w - 1);
- converted: `bbox` = [x1, y1, x2, y2] with `img_size`, `ui_type`, `platform` (the source).
The benchmark platform always comes from the FILE: some mobile and desktop records have the
source "shop". Boxes running past the image edge are kept as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixelpilot.actions import Box, Size
from pixelpilot.errors import ConfigError
from pixelpilot.evals.base import Problems

PLATFORMS = ("mobile", "desktop", "web")
PRO_GROUPS = ("Dev", "Creative", "CAD", "Scientific", "Office", "OS")
PUBLISHED_SIZES: dict[str, dict[str, int]] = {
    "v1": {"mobile": 502, "desktop": 334, "web": 436},
    "v2": {"mobile": 501, "desktop": 334, "web": 437},
    "pro": {"all": 1581},
}
SHAPE_OFFICIAL = "official: bbox [x, y, w, h] (x2 = x + w), data_type, data_source"
SHAPE_CONVERTED = "converted: bbox [x1, y1, x2, y2], img_size, ui_type, platform (the source)"
IMAGE_FOLDERS = ("images", "screenspot_imgs", "screenspotv2_image", "screenspot_v2_imgs", "imgs")


@dataclass(frozen=True)
class GroundingSample:
    """One ScreenSpot target.

    Attributes:
        id: `<platform>/<index in its file>` (v1, v2) or the record's own `id` (Pro).
        instruction: what to click.
        image: the screenshot's path.
        box: the target, inclusive edges, original image pixels.
        platform: v1/v2: mobile, desktop or web (from the file); Pro: the record's OS.
        ui_type: "text" or "icon".
        source: v1/v2: the record's data source; Pro: the application.
        group: Pro's application group; v1/v2: the platform.
        size: the image size when the record states it, else None.
    """

    id: str
    instruction: str
    image: Path
    box: Box
    platform: str
    ui_type: str
    source: str
    group: str
    size: Size | None


def _numbers(value: Any, count: int, what: str) -> list[float]:
    if (
        not isinstance(value, list)
        or len(value) != count
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError(f"{what} must be a list of {count} numbers, got {value!r}")
    return [float(v) for v in value]


def _text(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' must be a non-empty string, got {value!r}")
    return value


def _ui_type(value: Any) -> str:
    if value not in ("text", "icon"):
        raise ValueError(f"the element type must be 'text' or 'icon', got {value!r}")
    return str(value)


def _box_xyxy(values: list[float]) -> Box:
    x1, y1, x2, y2 = values
    if x2 < x1 or y2 < y1:
        raise ValueError(f"bbox {values} has x2 < x1 or y2 < y1 (expected [x1, y1, x2, y2])")
    return Box(x1, y1, x2, y2)


def _size(record: Mapping[str, Any]) -> Size | None:
    if "img_size" not in record:
        return None
    width, height = _numbers(record["img_size"], 2, "img_size")
    if width <= 0 or height <= 0:
        raise ValueError(f"img_size must be positive, got {record['img_size']!r}")
    return Size(int(width), int(height))


def parse_v1v2(
    record: Any, *, platform: str, index: int, images: Path
) -> tuple[GroundingSample, str]:
    """One v1/v2 record in either shape -> (sample, detected shape). Raises ValueError."""
    if not isinstance(record, dict):
        raise ValueError(f"a record must be a JSON object, got {type(record).__name__}")
    image = _text(record, "img_filename")
    instruction = _text(record, "instruction")
    if "data_type" in record:
        x, y, w, h = _numbers(record.get("bbox"), 4, "bbox")
        if w < 0 or h < 0:
            raise ValueError(f"bbox {record['bbox']} has a negative width or height")
        box, shape = Box.from_xywh(x, y, w, h), SHAPE_OFFICIAL
        ui_type, source = _ui_type(record["data_type"]), str(record.get("data_source", ""))
    elif "img_size" in record or "ui_type" in record:
        box, shape = _box_xyxy(_numbers(record.get("bbox"), 4, "bbox")), SHAPE_CONVERTED
        ui_type, source = _ui_type(record.get("ui_type")), str(record.get("platform", ""))
    else:
        raise ValueError(
            "cannot tell the box shape: neither 'data_type' (official [x, y, w, h]) nor "
            "'img_size'/'ui_type' (converted [x1, y1, x2, y2]) is present"
        )
    sample = GroundingSample(
        id=f"{platform}/{index}",
        instruction=instruction,
        image=images / image,
        box=box,
        platform=platform,
        ui_type=ui_type,
        source=source,
        group=platform,
        size=_size(record),
    )
    return sample, shape


def parse_pro(record: Any, *, images: Path) -> GroundingSample:
    """One ScreenSpot-Pro record -> sample. Raises ValueError."""
    if not isinstance(record, dict):
        raise ValueError(f"a record must be a JSON object, got {type(record).__name__}")
    raw_id = record.get("id")
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or str(raw_id) == "":
        raise ValueError(f"'id' must be a string or integer, got {raw_id!r}")
    return GroundingSample(
        id=str(raw_id),
        instruction=_text(record, "instruction"),
        image=images / _text(record, "img_filename"),
        box=_box_xyxy(_numbers(record.get("bbox"), 4, "bbox")),
        platform=str(record.get("platform", "")),
        ui_type=_ui_type(record.get("ui_type")),
        source=str(record.get("application", "")),
        group=str(record.get("group", "")),
        size=_size(record),
    )


def read_json_list(path: Path) -> list[Any]:
    """A JSON file holding a list of records. Raises ConfigError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise ConfigError(f"{path} must hold a JSON list of records, found {type(data).__name__}")
    return data


def find_image_folder(data: Path, override: str | None, first_images: Sequence[str]) -> Path:
    """The folder holding the screenshots: `override`, else the candidate under `data` that
    holds the most of the first records' images.

    Raises:
        ConfigError: no candidate holds any of them.
    """
    if override is not None:
        folder = Path(override)
        if not folder.is_dir():
            raise ConfigError(f"--images {override}: no such folder")
        return folder
    candidates = [data / name for name in IMAGE_FOLDERS if (data / name).is_dir()] + [data]
    hits = [
        (sum((folder / name).is_file() for name in first_images), folder) for folder in candidates
    ]
    best_hits, best = max(hits, key=lambda pair: pair[0])
    if best_hits == 0:
        looked = ", ".join(str(folder) for folder in candidates)
        raise ConfigError(
            f"no image folder found for {data}: looked for {first_images[0]!r} in {looked}; "
            "pass --images DIR"
        )
    return best


def _image_folder(
    data: Path, override: str | None, first: list[str], *, required: bool
) -> Path | None:
    """The image folder; when not `required` (re-scoring), None instead of an error."""
    if not first:
        return data if required else None
    try:
        return find_image_folder(data, override, first)
    except ConfigError:
        if required:
            raise
        return None


def version_files(data: Path, version: str) -> dict[str, Path]:
    """The platform files of ScreenSpot `version` ("v1" or "v2") present under `data`.

    Raises:
        ConfigError: none is present; the message names the JSON files that are there and
            suggests the other version when its files are found.
    """
    if not data.is_dir():
        raise ConfigError(f"--data {data}: expected the folder holding screenspot_*.json")
    suffix = "" if version == "v1" else "_v2"
    found = {p: data / f"screenspot_{p}{suffix}.json" for p in PLATFORMS}
    present = {p: path for p, path in found.items() if path.is_file()}
    if present:
        return present
    other = "_v2" if version == "v1" else ""
    hint = ""
    if any((data / f"screenspot_{p}{other}.json").is_file() for p in PLATFORMS):
        hint = f" (this looks like ScreenSpot {'v2' if version == 'v1' else 'v1'}: use " + (
            "`pixelpilot eval screenspot-v2`)"
            if version == "v1"
            else "`pixelpilot eval screenspot`)"
        )
    names = ", ".join(sorted(p.name for p in data.glob("*.json"))) or "no JSON files"
    expected = ", ".join(path.name for path in found.values())
    raise ConfigError(f"{data} has none of {expected}; found: {names}{hint}")


def load_v1v2(
    data: Path, version: str, problems: Problems, *, images: str | None, check_images: bool
) -> tuple[list[GroundingSample], dict[str, Any], list[Path]]:
    """Every v1/v2 sample under `data` in file order, the data description, the files read."""
    files = version_files(data, version)
    raw = {platform: read_json_list(path) for platform, path in files.items()}
    first = [
        r["img_filename"]
        for rs in raw.values()
        for r in rs[:20]
        if isinstance(r, dict) and isinstance(r.get("img_filename"), str)
    ]
    folder = _image_folder(data, images, first, required=check_images)
    samples: list[GroundingSample] = []
    shapes: dict[str, list[str]] = {}
    for platform, records in raw.items():
        seen: set[str] = set()
        for index, record in enumerate(records):
            where = f"{files[platform].name}[{index}]"
            try:
                sample, shape = parse_v1v2(
                    record, platform=platform, index=index, images=folder or data
                )
            except ValueError as exc:
                problems.add("malformed record", where, str(exc))
                continue
            seen.add(shape)
            if check_images and not sample.image.is_file():
                problems.add("missing image", sample.id, f"{sample.image} does not exist")
                continue
            samples.append(sample)
        shapes[files[platform].name] = sorted(seen)
    info = {
        "files": [path.name for path in files.values()],
        "missing_platforms": [p for p in PLATFORMS if p not in files],
        "image_folder": str(folder) if folder is not None else None,
        "box_format": {
            name: (kinds[0] if len(kinds) == 1 else f"mixed: {kinds}")
            for name, kinds in shapes.items()
        },
        "records": {p: len(rs) for p, rs in raw.items()},
        "published_sizes": PUBLISHED_SIZES[version],
    }
    return samples, info, list(files.values())


def load_pro(
    data: Path, problems: Problems, *, images: str | None, check_images: bool
) -> tuple[list[GroundingSample], dict[str, Any], list[Path]]:
    """Every ScreenSpot-Pro sample (annotation files in name order), the data description and
    the files read."""
    folder = data / "annotations"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise ConfigError(
            f"{data} is not a ScreenSpot-Pro folder: expected annotations/*.json and images/"
        )
    image_root = Path(images) if images is not None else data / "images"
    if check_images and not image_root.is_dir():
        raise ConfigError(
            f"ScreenSpot-Pro images folder {image_root} does not exist; pass --images DIR"
        )
    samples: list[GroundingSample] = []
    ids: set[str] = set()
    for path in files:
        for index, record in enumerate(read_json_list(path)):
            where = f"annotations/{path.name}[{index}]"
            try:
                sample = parse_pro(record, images=image_root)
            except ValueError as exc:
                problems.add("malformed record", where, str(exc))
                continue
            if sample.id in ids:
                problems.add(
                    "duplicate id",
                    where,
                    f"id {sample.id!r} appears earlier; this record is skipped",
                )
                continue
            ids.add(sample.id)
            if check_images and not sample.image.is_file():
                problems.add("missing image", sample.id, f"{sample.image} does not exist")
                continue
            samples.append(sample)
    info = {
        "files": [f"annotations/{p.name}" for p in files],
        "image_folder": str(image_root) if image_root.is_dir() else None,
        "box_format": "bbox [x1, y1, x2, y2] (ScreenSpot-Pro)",
        "published_sizes": PUBLISHED_SIZES["pro"],
    }
    return samples, info, files
