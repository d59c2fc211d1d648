"""The Qwen enhancer on the real transformers path, with the tiny smoke chat model.

`make_scripted_qwen` edits a copy of tiny-qwen so that greedy decoding writes a chosen sentence:
every transformer block is switched off (attention and MLP output projections zeroed), so the
last hidden state is the embedding of the previous token; the embeddings of the tokens used are
one-hot, the final norm is 1, and the (untied) lm_head maps "one-hot k" to the next token of the
sentence. Generation itself is untouched: the model really predicts each token.
"""

from __future__ import annotations

import itertools
import json
import shutil
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from wan.errors import ModelError
from wan.models.smoke import ensure_smoke_model
from wan.models.smoke_qwen import QWEN_ANSWER, unique_pieces
from wan.models.system import SystemInfo
from wan.prompting.answer import clean_answer
from wan.prompting.instruction import system_text
from wan.prompting.qwen import QwenEnhancer, check_folder, choose_device, weights_bytes
from wan.prompting.request import EnhanceRequest

GOOD_SENTENCE = "A red fox walks through a snowy forest at sunrise; the camera pans left."
FOX = EnhanceRequest("a red fox in a snowy forest, masterpiece", "the camera slowly pans left")
REQUESTS = [
    FOX,
    EnhanceRequest("an old lighthouse on a cliff, stormy sea, (dramatic sky:1.2)", "static camera"),
    EnhanceRequest("一只猫在窗边睡觉", "the camera slowly pushes in", lang="zh", style="anime"),
]


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """A 100k-parameter model gains nothing from threads, and on a busy machine they spin."""
    with torch_threads(1):
        yield


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_qwen(smoke_root: Path) -> Path:
    return ensure_smoke_model("tiny-qwen", root=smoke_root)


@pytest.fixture(scope="session")
def scripted_qwen(tiny_qwen: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny-qwen edited to answer GOOD_SENTENCE to any chat (see the module docstring)."""
    return make_scripted_qwen(tiny_qwen, tmp_path_factory.mktemp("scripted") / "tiny-qwen-fox")


def make_scripted_qwen(source: Path, target: Path, sentence: str = GOOD_SENTENCE) -> Path:
    """Copy `source` to `target` with weights whose greedy answer is `sentence` + <|im_end|>."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import AutoTokenizer

    shutil.copytree(source, target)
    tokenizer = AutoTokenizer.from_pretrained(target, local_files_only=True)
    # The generation prompt ends with "assistant\n": "\n" starts the chain, <|im_end|> ends it.
    start = tokenizer.apply_chat_template(
        [{"role": "user", "content": "x"}], add_generation_prompt=True
    )[-1]
    chain = [
        start,
        *tokenizer.convert_tokens_to_ids(unique_pieces(tokenizer, sentence)),
        tokenizer.convert_tokens_to_ids("<|im_end|>"),
    ]
    assert len(set(chain)) == len(chain)

    weights = load_file(target / "model.safetensors")
    vocab, hidden = weights["model.embed_tokens.weight"].shape
    assert len(chain) - 1 <= hidden, "one one-hot direction per token of the chain"
    embed, head = torch.zeros(vocab, hidden), torch.zeros(vocab, hidden)
    for k, (token, following) in enumerate(itertools.pairwise(chain)):
        embed[token, k] = 1.0  # token -> direction k
        head[following, k] = 1.0  # direction k -> the next token's logit
    weights["model.embed_tokens.weight"] = embed
    weights["lm_head.weight"] = head
    for name, tensor in weights.items():
        if name.endswith(("self_attn.o_proj.weight", "mlp.down_proj.weight")):
            weights[name] = torch.zeros_like(tensor)  # blocks add nothing to the residual
    weights["model.norm.weight"] = torch.ones(hidden)
    save_file(weights, target / "model.safetensors", metadata={"format": "pt"})

    config = json.loads((target / "config.json").read_text())
    config["tie_word_embeddings"] = False  # the output map differs from the input map
    (target / "config.json").write_text(json.dumps(config, indent=2))
    return target


# ----------------------------------------------------------------------------------------------
# Loading, chat template, generation, unloading


def test_load_from_folder(tiny_qwen: Path) -> None:
    enhancer = QwenEnhancer.load(tiny_qwen)  # automatic device: no GPU here, so the CPU
    try:
        assert enhancer.device == "cpu"
        assert type(enhancer.model).__name__ == "Qwen2ForCausalLM"
        assert enhancer.tokenizer.padding_side == "left"
        assert not enhancer.model.training
    finally:
        enhancer.close()


def test_chat_template_carries_instruction_prompt_and_camera(tiny_qwen: Path) -> None:
    with QwenEnhancer.load(tiny_qwen, device="cpu") as enhancer:
        text = enhancer.render_chat(FOX)
    assert text.startswith("<|im_start|>system\n" + system_text("en") + "<|im_end|>\n")
    assert "<|im_start|>user\nPrompt: a red fox in a snowy forest, masterpiece\n" in text
    assert "Camera: the camera slowly pans left<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")


def test_generation_is_greedy_and_deterministic(tiny_qwen: Path) -> None:
    with QwenEnhancer.load(tiny_qwen, device="cpu", dtype="float32") as enhancer:
        first = enhancer.enhance_batch(REQUESTS, max_new_tokens=64)
        second = enhancer.enhance_batch(REQUESTS, max_new_tokens=64)
    assert first == second
    assert len(first) == len(REQUESTS)
    assert all(isinstance(answer, str) for answer in first)
    assert first == [QWEN_ANSWER] * len(REQUESTS)  # built to answer it (see wan.models.smoke_qwen)


def test_scripted_model_writes_its_sentence_for_every_prompt(scripted_qwen: Path) -> None:
    with QwenEnhancer.load(scripted_qwen, device="cpu") as enhancer:
        answers = enhancer.enhance_batch(REQUESTS, max_new_tokens=64)  # left padding differs
    assert answers == [GOOD_SENTENCE] * len(REQUESTS)  # stopped at <|im_end|>
    assert clean_answer(answers[0]) == GOOD_SENTENCE


def test_token_limit_cuts_and_cleaning_drops_the_unfinished_sentence(scripted_qwen: Path) -> None:
    with QwenEnhancer.load(scripted_qwen, device="cpu") as enhancer:
        (raw,) = enhancer.enhance_batch([FOX], max_new_tokens=10)
    assert GOOD_SENTENCE.startswith(raw) and raw != GOOD_SENTENCE
    assert clean_answer(raw + ". It then") == raw + "."


def test_close_releases_the_model(tiny_qwen: Path) -> None:
    enhancer = QwenEnhancer.load(tiny_qwen, device="cpu")
    enhancer.enhance_batch([FOX], max_new_tokens=4)
    model_ref = weakref.ref(enhancer.model)
    enhancer.close()
    assert model_ref() is None
    with pytest.raises(RuntimeError, match="closed"):
        enhancer.enhance_batch([FOX])
    enhancer.close()  # twice is harmless


def test_empty_batch_needs_no_generation(tiny_qwen: Path) -> None:
    with QwenEnhancer.load(tiny_qwen, device="cpu") as enhancer:
        assert enhancer.enhance_batch([]) == []


# ----------------------------------------------------------------------------------------------
# Folders that are not chat models


def test_folder_problems_are_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such prompt model folder"):
        check_folder(tmp_path / "missing")
    single = tmp_path / "model.safetensors"
    single.write_bytes(b"")
    with pytest.raises(ModelError, match="single file"):
        check_folder(single)
    pipeline = tmp_path / "pipeline"
    pipeline.mkdir()
    (pipeline / "model_index.json").write_text("{}")
    with pytest.raises(ModelError, match="diffusers pipeline"):
        check_folder(pipeline)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match=r"no config\.json"):
        check_folder(empty)
    (empty / "config.json").write_text("{}")
    (empty / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(ModelError, match=r"no \*\.safetensors"):
        check_folder(empty)


def test_model_without_chat_template_is_refused(tiny_qwen: Path, tmp_path: Path) -> None:
    folder = tmp_path / "no-template"
    shutil.copytree(tiny_qwen, folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config.pop("chat_template", None)
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelError, match="no chat template"):
        QwenEnhancer.load(folder, device="cpu")


def test_remote_code_models_are_not_run(tiny_qwen: Path, tmp_path: Path) -> None:
    folder = tmp_path / "custom"
    shutil.copytree(tiny_qwen, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="my_custom_lm", auto_map={"AutoModelForCausalLM": "x.MyLM"})
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="own code"):
        QwenEnhancer.load(folder, device="cpu")


# ----------------------------------------------------------------------------------------------
# Device choice (pure)


def _system(accelerator: str | None, free_vram: int, free_ram: int = 64 * 2**30) -> SystemInfo:
    return SystemInfo(
        platform="test",
        python="3",
        versions={},
        accelerator=accelerator,
        gpu_name=None,
        total_vram=free_vram,
        free_vram=free_vram,
        total_ram=free_ram,
        free_ram=free_ram,
    )


@pytest.mark.parametrize(
    ("accelerator", "free_vram", "expected"),
    [
        ("cuda", 8 * 10**9, "cuda"),  # 3 GB x 1.2 fits
        ("cuda", 3 * 10**9, "cpu"),  # the weights alone would fill it
        (None, 0, "cpu"),
        ("mps", 0, "mps"),  # unified memory: free RAM counts
    ],
)
def test_device_is_the_gpu_only_when_the_model_fits(
    accelerator: str | None, free_vram: int, expected: str
) -> None:
    need = weights_bytes(Path("unused"), dtype_bytes=2, params=1_543_714_304)  # Qwen2.5-1.5B
    assert choose_device(need, _system(accelerator, free_vram)) == expected


def test_weights_estimate_without_catalog_uses_file_size(tiny_qwen: Path) -> None:
    size = (tiny_qwen / "model.safetensors").stat().st_size
    stored = 4  # the smoke model is saved in float32
    assert weights_bytes(tiny_qwen, dtype_bytes=4) == size * 4 // stored
    assert weights_bytes(tiny_qwen, dtype_bytes=2) == size * 2 // stored
    assert weights_bytes(tiny_qwen, dtype_bytes=2, params=1000) == 2000
