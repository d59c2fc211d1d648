"""WebUI prompt syntax to plain text for Wan, with real AUTOMATIC1111 / Forge prompts."""

from __future__ import annotations

from pathlib import Path

import pytest

from wan.core.prompt_syntax import CleanPrompt, LoraTag, clean_prompt, find_lora

# (prompt as written in the WebUI / Deforum, text Wan gets, LoRA tags)
TABLE = [
    ("", "", ()),
    ("   ", "", ()),
    (
        "a beautiful lake by Asher Brown Durand, trending on Artstation",
        "a beautiful lake by Asher Brown Durand, trending on Artstation",
        (),
    ),
    (
        "masterpiece, (best quality:1.2), ((ultra detailed)), [blurry], a red fox",
        "masterpiece, best quality, ultra detailed, blurry, a red fox",
        (),
    ),
    ("a (cute cat : 1.3) on a (wooden table:0.8)", "a cute cat on a wooden table", ()),
    ("(a b:0.8)", "a b", ()),
    ("(word:1.2)", "word", ()),
    ("(((epic))) landscape, (((snow:1.5)))", "epic landscape, snow", ()),
    ("((a (red:1.2) fox):0.9) in [[the woods]]", "a red fox in the woods", ()),
    ("(negative weight:-0.5) and (decimal:.5)", "negative weight and decimal", ()),
    (r"a sign saying \(open\) and \[closed\]", "a sign saying (open) and [closed]", ()),
    (r"(\(nested\) literal:1.1)", "(nested) literal", ()),
    (r"a back\\slash", "a back\\slash", ()),
    (
        "<lora:fox_style:0.7> a fox, <lyco:snow_v2:0.5>",
        "a fox",
        (LoraTag("fox_style", 0.7), LoraTag("snow_v2", 0.5)),
    ),
    ("a cat <lora:add_detail>", "a cat", (LoraTag("add_detail", 1.0),)),
    ("<LORA:Mixed Case:1.25>portrait", "portrait", (LoraTag("Mixed Case", 1.25),)),
    ("<lora:x:te=0.3:unet=0.9> y", "y", (LoraTag("x", 0.3),)),
    ("<lora:x:0.6:0.2> y", "y", (LoraTag("x", 0.6),)),
    ("a cat BREAK a dog BREAK", "a cat, a dog", ()),
    ("a cat :1.2 AND a dog:0.8", "a cat, a dog", ()),
    ("ANDROID, BREAKDANCE", "ANDROID, BREAKDANCE", ()),
    (", , a  cat ,, ,  ", "a cat", ()),
    ("a cat , , sitting ,on a mat,", "a cat, sitting, on a mat", ()),
    ("time: 5pm, (a:b)", "time: 5pm, a:b", ()),
    ("(unclosed:1.2", "unclosed:1.2", ()),
    ("stray ) bracket ]", "stray bracket", ()),
    (
        "(photo of a woman:1.1), <lora:add_detail:-0.5>, [[dark]], (sunset:0.9) AND "
        "(sea:1.3) BREAK city",
        "photo of a woman, dark, sunset, sea, city",
        (LoraTag("add_detail", -0.5),),
    ),
    (
        "tiny cute bunny, vibrant diffraction, (highly detailed:1.3), intricate, ultra hd, "
        "<lora:bunny:0.8> <hypernet:anime:1>, by tomasz alen kopera",
        "tiny cute bunny, vibrant diffraction, highly detailed, intricate, ultra hd, "
        "by tomasz alen kopera",
        (LoraTag("bunny", 0.8),),
    ),
]


@pytest.mark.parametrize(("prompt", "text", "loras"), TABLE)
def test_clean_prompt_table(prompt: str, text: str, loras: tuple[LoraTag, ...]) -> None:
    cleaned = clean_prompt(prompt)
    assert cleaned.text == text
    assert cleaned.loras == loras


def test_plain_prompts_have_no_warnings() -> None:
    assert clean_prompt("a red fox, (snow:1.2), <lora:x:1>") == CleanPrompt(
        "a red fox, snow", (LoraTag("x", 1.0),), ()
    )


@pytest.mark.parametrize(
    ("prompt", "text", "warning"),
    [
        ("<hypernet:anime:1> girl", "girl", "removed <hypernet:anime:1>: hypernetworks"),
        ("<ti:emb> x", "x", "removed <ti:emb>: 'ti' extra networks do not apply to Wan"),
        ("<lora::1> x", "x", "removed <lora::1>: it names no LoRA"),
        ("<lora:x:abc> y", "y", "<lora:x:abc>: weight 'abc' is not a number; using 1.0"),
        ("a AND b", "a, b", "'AND' composition is not supported by Wan"),
        ("[cat:dog:0.5] in snow", "dog in snow", "prompt editing '[cat:dog:0.5]' kept 'dog'"),
        ("[dog:10] later", "dog later", "prompt editing '[dog:10]' kept 'dog'"),
        ("[cat::10] alone", "cat alone", "prompt editing '[cat::10]' kept 'cat'"),
        ("[(cat:1.2):dog:0.5]", "dog", "kept 'dog'"),
        ("[[a]:b:0.5]", "b", "prompt editing '[[a]:b:0.5]' kept 'b'"),
        ("[red|blue] car", "red car", "alternation '[red|blue]' kept 'red'"),
    ],
)
def test_dropped_syntax_is_reported(prompt: str, text: str, warning: str) -> None:
    cleaned = clean_prompt(prompt)
    assert cleaned.text == text
    assert any(warning in w for w in cleaned.warnings), cleaned.warnings


def test_lora_tags_keep_their_order_and_repeats() -> None:
    cleaned = clean_prompt("<lora:a:0.1> x <lyco:b> y <lora:a:0.3>")
    assert cleaned.loras == (LoraTag("a", 0.1), LoraTag("b", 1.0), LoraTag("a", 0.3))
    assert cleaned.text == "x y"


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_find_lora(tmp_path: Path) -> None:
    first, second = tmp_path / "Lora", tmp_path / "wan-loras"
    top = _touch(first / "Fox_Style.safetensors")
    deep = _touch(first / "styles" / "anime" / "Ink.SAFETENSORS")
    _touch(first / "deeper" / "x" / "fox_style.safetensors")
    _touch(first / "notes" / "ink.txt")
    other = _touch(second / "ink.safetensors")
    (first / "folder.safetensors").mkdir()

    assert find_lora("fox_style", [first]) == top  # case-insensitive, shallowest wins
    assert find_lora("FOX_STYLE.safetensors", [first]) == top
    assert find_lora("ink", [first, second]) == deep  # subfolders; the first folder wins
    assert find_lora("ink", [second, first]) == other
    assert find_lora("anime/ink", [first, second]) == deep
    assert find_lora("anime\\INK", [first]) == deep
    assert find_lora("nime/ink", [first]) is None  # folder parts match whole names
    assert find_lora("folder", [first]) is None  # a directory is not a LoRA
    assert find_lora("missing", [first, second]) is None
    assert find_lora("ink", [tmp_path / "absent", str(second)]) == other
    assert find_lora("  ", [first]) is None
    assert find_lora("ink", []) is None
