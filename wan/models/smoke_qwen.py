"""tiny-qwen, the smoke prompt enhancer: a Qwen2 chat model whose weights are set by
construction so that its real `generate()` answers one sentence (`QWEN_ANSWER`); built by
`wan.models.smoke`, which hands it the tokenizer's training text and its seeded context."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

_QWEN_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
_CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


# What tiny-qwen answers to every chat: it keeps the words of the test prompt ("a red fox in a
# snowy forest"), so the enhancer's real path (generate, clean, check, cache) is what runs.
QWEN_ANSWER = "A red fox walks through a snowy forest at sunrise; the camera pans left."


def build_qwen(folder: Path, text: str, seeded: Callable[[], AbstractContextManager]) -> None:
    """A ~100k-parameter Qwen2 chat model whose greedy answer to any chat is `QWEN_ANSWER`.

    The weights are set by construction, not trained, and generation is the ordinary
    transformers path (the model really predicts each token):

    - every transformer block is switched off (attention and MLP output projections zero), so
      the final hidden state at a position is the embedding of that position's token;
    - the answer's tokens form a chain: the token that ends the generation prompt
      ("assistant\n" ends in "\n"), then `QWEN_ANSWER` split into vocabulary pieces with no
      piece used twice, then <|im_end|>; chain token k has the one-hot embedding e_k and every
      other token embeds as zero;
    - the final norm is 1 and the (untied) lm_head maps e_k to the logit of chain token k+1, so
      greedy decoding after "assistant\n" writes the sentence and stops. Whatever the user
      wrote, the answer is the same: prompts about other subjects get an answer that
      `check_answer` rejects, which is the fallback case.
    """
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    tokenizer = _qwen_tokenizer(text)
    pad_id, eos_id = (tokenizer.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|im_end|>"))
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=False,  # the output map differs from the input map
        bos_token_id=pad_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )
    with seeded():
        model = Qwen2ForCausalLM(config)
    start = tokenizer.apply_chat_template(
        [{"role": "user", "content": "x"}], add_generation_prompt=True
    )[-1]
    pieces = unique_pieces(tokenizer, QWEN_ANSWER)
    chain = [start, *tokenizer.convert_tokens_to_ids(pieces), eos_id]
    hidden = config.hidden_size
    if len(set(chain)) != len(chain) or len(chain) - 1 > hidden:
        raise AssertionError("tiny-qwen's answer needs distinct tokens, one direction each")
    embed = torch.zeros(config.vocab_size, hidden)
    head = torch.zeros(config.vocab_size, hidden)
    for k, (token, following) in enumerate(itertools.pairwise(chain)):
        embed[token, k] = 1.0  # token -> direction k
        head[following, k] = 1.0  # direction k -> the next token's logit
    with torch.no_grad():
        model.model.embed_tokens.weight.copy_(embed)
        model.lm_head.weight.copy_(head)
        model.model.norm.weight.fill_(1.0)
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()  # blocks add nothing to the residual
            layer.mlp.down_proj.weight.zero_()
    model.generation_config = GenerationConfig(
        bos_token_id=pad_id, eos_token_id=[eos_id, pad_id], pad_token_id=pad_id
    )
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def unique_pieces(tokenizer: Any, text: str) -> list[str]:
    """`text` as vocabulary pieces with no piece used twice (the longest pieces tried first)."""
    target = "".join(tokenizer.convert_ids_to_tokens(tokenizer(text)["input_ids"]))
    vocab = sorted((p for p in tokenizer.get_vocab() if not p.startswith("<|")), key=len)[::-1]
    chosen: list[str] = []

    def search(at: int) -> bool:
        if at == len(target):
            return True
        for piece in vocab:
            if piece not in chosen and target.startswith(piece, at):
                chosen.append(piece)
                if search(at + len(piece)):
                    return True
                chosen.pop()
        return False

    if not search(0) or tokenizer.convert_tokens_to_string(chosen) != text:
        raise AssertionError(f"no repetition-free tokenization of {text!r}")
    return chosen


def _qwen_tokenizer(text: str) -> Any:
    """Byte-level BPE trained on the built-in text, wrapped as Qwen2TokenizerFast with ChatML."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        min_frequency=2,
        special_tokens=list(_QWEN_SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(text.splitlines(), trainer=trainer)
    return Qwen2TokenizerFast(
        tokenizer_object=tok,
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        chat_template=_CHATML_TEMPLATE,
        model_max_length=2048,
    )
