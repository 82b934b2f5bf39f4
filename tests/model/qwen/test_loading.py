"""Finding checkpoints (folders, hub ids, offline), device/dtype/attention choices, inputs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pixelpilot.errors import ConfigError, MissingExtraError, UserError
from pixelpilot.model import create_policy
from pixelpilot.model.qwen import loading
from pixelpilot.model.qwen.inputs import IMAGE_PAD, collate, encode_prompt
from pixelpilot.model.qwen.loading import ModelUnavailableError, locate_checkpoint
from tests.model.qwen.support import observation

torch = pytest.importorskip("torch", reason="needs torch (the qwen extra)")
transformers = pytest.importorskip("transformers", reason="needs transformers")
AutoTokenizer = transformers.AutoTokenizer

pytestmark = pytest.mark.torch

HUB_ID = "Qwen/Qwen2.5-VL-7B-Instruct"


def test_offline_hub_id_names_the_id_the_cache_and_the_download_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError) as info:
        create_policy(f"qwen25vl:{HUB_ID}", {"cache_dir": str(tmp_path)})
    message = str(info.value)
    assert isinstance(info.value, UserError) and "\n" not in message
    assert HUB_ID in message and str(tmp_path) in message and "HF_HUB_OFFLINE" in message
    assert f"hf download {HUB_ID}" in message and f"huggingface-cli download {HUB_ID}" in message


def test_unreachable_hub_is_the_same_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(ModelUnavailableError) as info:
        locate_checkpoint(f"{HUB_ID}-AWQ", revision="v1", cache_dir=str(tmp_path))
    message = str(info.value)
    assert "unreachable" in message and str(tmp_path) in message and "\n" not in message
    assert f"hf download {HUB_ID}-AWQ --revision v1" in message


def test_a_cached_hub_snapshot_loads_without_the_network(
    tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub cache layout: models--ORG--NAME/{refs/main, snapshots/COMMIT/...}."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--Qwen--Qwen2.5-VL-3B-Instruct"
    shutil.copytree(tiny_checkpoint, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    checkpoint = locate_checkpoint("Qwen/Qwen2.5-VL-3B-Instruct", cache_dir=str(tmp_path))
    assert checkpoint.commit == commit
    assert checkpoint.path == repo / "snapshots" / commit
    policy = create_policy(
        "qwen25vl:Qwen/Qwen2.5-VL-3B-Instruct", {"cache_dir": str(tmp_path), "cpu_threads": 1}
    )
    assert policy.describe()["commit"] == commit
    policy.close()


@pytest.mark.parametrize("name", ["", "/no/such/folder", "./missing", "not/a/hub/id"])
def test_missing_folders_are_config_errors(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        locate_checkpoint(name)
    assert not isinstance(info.value, ModelUnavailableError)


def test_a_folder_without_weights_is_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="not a transformers checkpoint"):
        locate_checkpoint(str(tmp_path))


def test_bad_options_are_config_errors(tiny_checkpoint: Path) -> None:
    with pytest.raises(ConfigError, match="dtype"):
        create_policy(f"qwen25vl:{tiny_checkpoint}", {"dtype": "int3"})
    with pytest.raises(ConfigError, match="max_new_tokens"):
        create_policy(f"qwen25vl:{tiny_checkpoint}", {"max_new_tokens": 0})
    with pytest.raises(ConfigError, match="min_pixels"):
        create_policy(f"qwen25vl:{tiny_checkpoint}", {"min_pixels": 10_000, "max_pixels": 100})


def test_awq_without_its_library_says_what_to_install(
    tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "awq"
    shutil.copytree(tiny_checkpoint, folder)
    config = json.loads((folder / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "awq", "bits": 4, "group_size": 128}
    (folder / "config.json").write_text(json.dumps(config))
    # a module name that cannot exist, so the test does not depend on what is installed
    missing = {"awq": ("pixelpilot_no_such_module", "gptqmodel")}
    monkeypatch.setattr(loading, "QUANTIZATION_PACKAGES", missing)
    with pytest.raises(MissingExtraError, match="pip install gptqmodel"):
        create_policy(f"qwen25vl:{folder}", {})


def test_dtype_device_and_attention_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    assert loading.resolve_dtype("auto", "cpu", None) == torch.float32
    assert loading.resolve_dtype("auto", "cuda", None) == torch.bfloat16
    assert loading.resolve_dtype("auto", "cuda:1", "awq") == torch.float16
    assert loading.resolve_dtype("bfloat16", "cpu", None) == torch.bfloat16
    assert loading.resolve_device("cuda:1") == "cuda:1"
    assert loading.resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(loading.importlib.util, "find_spec", lambda name: None)
    assert loading.resolve_attention("auto", "cuda", torch.bfloat16) == "sdpa"
    assert loading.resolve_attention("eager", "cpu", torch.float32) == "eager"
    with pytest.raises(MissingExtraError, match="flash-attn"):
        loading.resolve_attention("flash_attention_2", "cuda", torch.bfloat16)
    monkeypatch.setattr(loading.importlib.util, "find_spec", lambda name: object())
    assert loading.resolve_attention("auto", "cuda", torch.bfloat16) == "flash_attention_2"
    assert loading.resolve_attention("auto", "cpu", torch.float32) == "sdpa"


def test_pixel_budget_comes_from_the_checkpoint_unless_overridden(tiny_checkpoint: Path) -> None:
    settings = loading.read_image_settings(tiny_checkpoint)
    stored = json.loads((tiny_checkpoint / "preprocessor_config.json").read_text())
    assert (settings.budget.min_pixels, settings.budget.max_pixels) == (
        stored["min_pixels"],
        stored["max_pixels"],
    )
    override = loading.read_image_settings(tiny_checkpoint, max_pixels=12845056)
    assert override.budget.max_pixels == 12845056
    assert override.budget.min_pixels == stored["min_pixels"]


def test_image_tokens_are_expanded_like_the_processor(tiny_checkpoint: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_checkpoint))
    settings = loading.read_image_settings(tiny_checkpoint)
    image_id = tokenizer.convert_tokens_to_ids(IMAGE_PAD)
    images = [observation(1280, 800).screenshot, observation(300, 700, seed=1).screenshot]
    text = f"<|im_start|>user\nA <|vision_start|>{IMAGE_PAD}<|vision_end|> and "
    text += f"<|vision_start|>{IMAGE_PAD}<|vision_end|><|im_end|>\n<|im_start|>assistant\n"
    encoded = encode_prompt(
        text, images, tokenizer=tokenizer, image_token_id=image_id, settings=settings
    )
    counts = [t * h * w // 4 for t, h, w in encoded.grids]
    expanded = text.replace(IMAGE_PAD, "\0", 2)
    for count in counts:
        expanded = expanded.replace("\0", IMAGE_PAD * count, 1)
    assert encoded.input_ids == tokenizer(expanded, add_special_tokens=False)["input_ids"]
    assert encoded.pixel_values is not None
    assert encoded.pixel_values.shape[0] == sum(t * h * w for t, h, w in encoded.grids)
    with pytest.raises(ValueError, match="placeholders"):
        encode_prompt(
            text, images[:1], tokenizer=tokenizer, image_token_id=image_id, settings=settings
        )

    short = encode_prompt("hi", [], tokenizer=tokenizer, image_token_id=image_id, settings=settings)
    batch = collate([encoded, short], pad_token_id=7, image_token_id=image_id, device="cpu")
    length = len(encoded.input_ids)
    pad = length - len(short.input_ids)
    assert batch["input_ids"][1, :pad].tolist() == [7] * pad  # padded on the left
    assert batch["attention_mask"][1].tolist() == [0] * pad + [1] * len(short.input_ids)
    assert int(batch["mm_token_type_ids"].sum()) == sum(counts)
    assert batch["image_grid_thw"].tolist() == [list(g) for g in encoded.grids]


def test_importing_the_backend_does_not_import_torch() -> None:
    code = (
        "import sys, pixelpilot.model.qwen.transformers_backend, "
        "pixelpilot.model.qwen.constrain.grammar; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_budget_too_small_for_a_tool_call_fails_before_loading(tiny_checkpoint: Path) -> None:
    with pytest.raises(ConfigError, match="max_new_tokens=40 is too small"):
        create_policy(f"qwen25vl:{tiny_checkpoint}", {"max_new_tokens": 40})
    policy = create_policy(
        f"qwen25vl:{tiny_checkpoint}", {"max_new_tokens": 40, "constrained": False}
    )
    policy.close()
