"""Finding and loading a Qwen2.5-VL checkpoint: local folder or hub id, device, dtype, attention.

A checkpoint is a local folder (anything that exists on disk, or looks like a path) or a hub id
(`Qwen/Qwen2.5-VL-7B-Instruct`, `Qwen/Qwen2.5-VL-72B-Instruct-AWQ`, ...). A hub id is looked up in
the Hugging Face cache first, so a cached model loads without touching the network; otherwise it
is downloaded (config, tokenizer, preprocessor and safetensors files only). When it is neither
cached nor reachable, `ModelUnavailableError` says which id, which cache folder was searched and
the command that downloads it.

Torch and transformers are imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixelpilot._extras import require
from pixelpilot.errors import ConfigError, MissingExtraError
from pixelpilot.model.qwen.vision import IMAGE_MEAN, IMAGE_STD, PixelBudget

# What a checkpoint download needs (weights, configs, tokenizer); no README or images.
DOWNLOAD_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.jinja", "*.model"]

# quantization method in config.json -> (module that loads it, pip package)
QUANTIZATION_PACKAGES = {
    "awq": ("gptqmodel", "gptqmodel"),
    "gptq": ("gptqmodel", "gptqmodel"),
    "bitsandbytes": ("bitsandbytes", "bitsandbytes"),
}


class ModelUnavailableError(ConfigError):
    """The checkpoint is neither on disk nor downloadable (hub unreachable or offline mode)."""


@dataclass(frozen=True)
class Checkpoint:
    """Where a checkpoint's files are.

    Attributes:
        source: what the user named (hub id or path).
        path: the local folder holding config.json and the weights.
        commit: the hub commit hash of the snapshot, None for a plain local folder.
    """

    source: str
    path: Path
    commit: str | None


@dataclass(frozen=True)
class ImageSettings:
    """The checkpoint's preprocessor_config.json, as the policy uses it."""

    budget: PixelBudget
    patch_size: int
    merge_size: int
    temporal_patch_size: int
    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") != 1


def _offline() -> bool:
    from huggingface_hub import is_offline_mode

    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return flag in {"1", "true", "yes", "on"} or bool(is_offline_mode())


def _complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def locate_checkpoint(
    name: str, *, revision: str | None = None, cache_dir: str | None = None
) -> Checkpoint:
    """Find the folder of checkpoint `name`, downloading a hub checkpoint when it must.

    Args:
        name: a local folder or a hub id ("Qwen/Qwen2.5-VL-7B-Instruct").
        revision: a hub branch, tag or commit (None: "main"); ignored for a local folder.
        cache_dir: the hub cache folder (None: huggingface_hub's, from HF_HUB_CACHE/HF_HOME).

    Raises:
        ConfigError: the folder does not exist or is not a checkpoint, the id or revision is
            unknown on the hub, or the model is gated.
        ModelUnavailableError: the hub checkpoint is not cached and the hub is unreachable or
            HF_HUB_OFFLINE is set.
    """
    if not name:
        raise ConfigError(
            "the qwen25vl model needs a checkpoint: --model qwen25vl:Qwen/Qwen2.5-VL-7B-Instruct "
            "or --model qwen25vl:/path/to/folder"
        )
    local = Path(name).expanduser()
    if local.exists() or _looks_like_path(name):
        if not local.is_dir():
            raise ConfigError(f"checkpoint folder {local} does not exist")
        if not _complete(local):
            raise ConfigError(
                f"{local} is not a transformers checkpoint (it needs config.json and "
                "*.safetensors weights)"
            )
        return Checkpoint(source=name, path=local.resolve(), commit=None)
    return _hub_checkpoint(name, revision=revision, cache_dir=cache_dir)


def _hub_checkpoint(name: str, *, revision: str | None, cache_dir: str | None) -> Checkpoint:
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    cache = str(cache_dir or constants.HF_HUB_CACHE)
    kwargs: dict[str, Any] = {
        "revision": revision,
        "cache_dir": cache,
        "allow_patterns": DOWNLOAD_PATTERNS,
    }
    try:
        folder = Path(snapshot_download(name, local_files_only=True, **kwargs))
        if _complete(folder):
            return Checkpoint(source=name, path=folder, commit=folder.name)
    except LocalEntryNotFoundError:
        pass
    except HFValidationError as exc:
        raise ConfigError(f"{name!r} is neither a folder nor a hub id: {exc}") from None
    where = f"{name}" + (f" (revision {revision})" if revision else "")
    command = f"hf download {name}" + (f" --revision {revision}" if revision else "")
    hint = (
        f"download it with `{command}` (older huggingface_hub: `huggingface-cli download "
        f"{name}`), or pass a local folder"
    )
    if _offline():
        raise ModelUnavailableError(
            f"model {where} is not in the Hugging Face cache {cache} and HF_HUB_OFFLINE is set; "
            + hint
        )
    try:
        folder = Path(snapshot_download(name, **kwargs))
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        gated = isinstance(exc, GatedRepoError)
        reason = "is gated: log in with `hf auth login`" if gated else "does not exist on the hub"
        raise ConfigError(f"model {name} {reason}") from None
    except RevisionNotFoundError:
        raise ConfigError(f"model {name} has no revision {revision!r}") from None
    except (LocalEntryNotFoundError, OSError) as exc:
        raise ModelUnavailableError(
            f"model {where} is not in the Hugging Face cache {cache} and the hub is unreachable "
            f"({type(exc).__name__}); " + hint
        ) from None
    return Checkpoint(source=name, path=folder, commit=folder.name)


def read_image_settings(
    folder: Path, *, min_pixels: int | None = None, max_pixels: int | None = None
) -> ImageSettings:
    """The checkpoint's image preprocessing, with min/max pixels overridden when given.

    Raises:
        ConfigError: preprocessor_config.json is missing or unreadable, or the budget is
            invalid.
    """
    path = folder / "preprocessor_config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    size = data.get("size") or {}
    low = min_pixels or data.get("min_pixels") or size.get("shortest_edge")
    high = max_pixels or data.get("max_pixels") or size.get("longest_edge")
    if not isinstance(low, int) or not isinstance(high, int):
        raise ConfigError(f"{path} has no min_pixels/max_pixels; pass them as model options")
    return ImageSettings(
        budget=PixelBudget(low, high),
        patch_size=int(data.get("patch_size", 14)),
        merge_size=int(data.get("merge_size", 2)),
        temporal_patch_size=int(data.get("temporal_patch_size", 2)),
        image_mean=_triple(data.get("image_mean"), IMAGE_MEAN),
        image_std=_triple(data.get("image_std"), IMAGE_STD),
    )


def _triple(value: Any, default: tuple[float, float, float]) -> tuple[float, float, float]:
    if isinstance(value, list) and len(value) == 3:
        return (float(value[0]), float(value[1]), float(value[2]))
    return default


def quantization_method(folder: Path) -> str | None:
    """The config.json's quantization method ("awq", "gptq", ...), None for full weights."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {folder / 'config.json'}: {exc}") from None
    quant = config.get("quantization_config")
    return str(quant.get("quant_method")).lower() if isinstance(quant, dict) else None


def resolve_device(device: str) -> str:
    """ "auto" -> "cuda" when a GPU is visible, else "cpu"; anything else as given."""
    import torch

    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str, device: str, quantization: str | None) -> Any:
    """The torch dtype: "auto" is bfloat16 on a GPU (float16 for AWQ/GPTQ), float32 on CPU."""
    import torch

    if dtype == "auto":
        if device.startswith("cpu"):
            return torch.float32
        return torch.float16 if quantization in ("awq", "gptq") else torch.bfloat16
    return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[dtype]


def resolve_attention(requested: str, device: str, dtype: Any) -> str:
    """ "auto" -> flash_attention_2 when flash-attn is installed and usable here, else sdpa.

    Raises:
        MissingExtraError: flash_attention_2 was asked for explicitly but is not installed.
    """
    import torch

    installed = importlib.util.find_spec("flash_attn") is not None
    if requested == "flash_attention_2" and not installed:
        raise MissingExtraError(
            "flash-attn is not installed (needed for attn_implementation=flash_attention_2); "
            "install it with: pip install flash-attn --no-build-isolation, or use sdpa"
        )
    if requested != "auto":
        return requested
    usable = device.startswith("cuda") and dtype in (torch.float16, torch.bfloat16)
    return "flash_attention_2" if installed and usable else "sdpa"


def check_quantization(quantization: str | None, source: str) -> None:
    """Raise MissingExtraError when the checkpoint's quantization library is missing."""
    if quantization is None or quantization not in QUANTIZATION_PACKAGES:
        return
    module, package = QUANTIZATION_PACKAGES[quantization]
    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(
            f"{package} is not installed (needed to load the {quantization.upper()} checkpoint "
            f"{source}); install it with: pip install {package}"
        )


def load_model(
    checkpoint: Checkpoint,
    *,
    dtype: Any,
    device: str,
    device_map: str | dict[str, Any] | None,
    attn_implementation: str,
) -> Any:
    """Load Qwen2_5_VLForConditionalGeneration in eval mode.

    Without `device_map` the whole model goes to `device`; with it (e.g. "auto" for a 72B over
    several GPUs) accelerate places the layers.
    """
    transformers = require("transformers", "qwen")
    if device_map is not None:
        require("accelerate", "qwen")
    model = transformers.Qwen2_5_VLForConditionalGeneration.from_pretrained(
        str(checkpoint.path),
        dtype=dtype,
        attn_implementation=attn_implementation,
        device_map=device_map if device_map is not None else device,
    )
    return model.eval()


def load_tokenizer(checkpoint: Checkpoint) -> Any:
    """The checkpoint's tokenizer (the processor needs torchvision, so it is not used)."""
    transformers = require("transformers", "qwen")
    return transformers.AutoTokenizer.from_pretrained(str(checkpoint.path))
